//! Lesson 01 when a process dies or stops at a bad moment: the survivor
//! behaves as the chapter says, and nothing hangs.

use std::time::Duration;

use labkit::watchdog::Background;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PIPE_FORK: &str = env!("CARGO_BIN_EXE_pipe-fork");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

/// Starts pipe-fork in the background and returns it with its child's pid,
/// read from the parent's "forked child PID" line.
fn started(args: &[&str]) -> (Background, Pid) {
    let mut command = std::process::Command::new(PIPE_FORK);
    let mut run = Background::start(command.args(args), LIMIT);
    let line = run.wait_for("forked child ");
    let pid = line
        .split("forked child ")
        .nth(1)
        .and_then(|rest| rest.split(';').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no child pid in {line:?}"));
    (run, Pid::from_raw(pid))
}

#[test]
fn a_writer_killed_at_any_point_still_gives_the_reader_end_of_file() {
    // Before its first write, mid-stream, and after its last one.
    for after in [None, Some("message 2 of 5"), Some("message 5 of 5")] {
        let (mut run, child) = started(&["--interval-ms", "150"]);
        if let Some(line) = after {
            run.wait_for(line);
        }
        kill(child, Signal::SIGKILL).expect("kill the writer");
        let (status, out, _) = run.finish();
        assert!(status.success(), "killed after {after:?}:\n{out}");
        // The kernel closed the dead writer's end: that was the last one.
        assert!(
            out.contains("read() returned 0: end of file, no writer is left"),
            "killed after {after:?}, no end of file:\n{out}"
        );
        let reaped = format!("reaped child {child}: killed by signal 9");
        assert!(out.contains(&reaped), "killed after {after:?}:\n{out}");
    }
}

#[test]
fn a_reader_killed_mid_stream_leaves_the_writer_an_epipe() {
    let (mut run, _child) = started(&["--interval-ms", "150"]);
    run.wait_for("message 1 of 5");
    kill(run.pid(), Signal::SIGKILL).expect("kill the reader");
    // The orphaned child goes on writing into a pipe with no reader; it
    // ignores SIGPIPE (a Rust program), so its write fails with EPIPE.
    let (status, out, _) = run.finish();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the parent was killed:\n{out}"
    );
    assert!(
        out.contains(" child | write failed: EPIPE: Broken pipe; exiting"),
        "the writer must see EPIPE, not die or hang:\n{out}"
    );
}

#[test]
fn a_reader_stopped_and_continued_while_it_waits_carries_on() {
    // SIGSTOP and SIGCONT while the parent is blocked in poll() during the
    // child's pause: the wait resumes, and every message still arrives.
    let args = ["--pause", "1", "--count", "2", "--interval-ms", "10"];
    let (mut run, _child) = started(&args);
    run.wait_for("then quiet for");
    kill(run.pid(), Signal::SIGSTOP).expect("stop the reader");
    std::thread::sleep(Duration::from_millis(300));
    kill(run.pid(), Signal::SIGCONT).expect("continue the reader");
    let (status, out, stderr) = run.finish();
    assert!(status.success(), "{out}\n{stderr}");
    assert!(out.contains("read 15 bytes: \"message 2 of 2\\n\""), "{out}");
    assert!(out.contains("read() returned 0: end of file"), "{out}");
}
