//! Lesson 03 with a reader that is killed mid-stream (SIGKILL, not a
//! polite exit like head's): the writer meets the closed pipe as its mode
//! says, and nothing hangs.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use labkit::watchdog::collect;
use wait_timeout::ChildExt;

const SIGPIPE: &str = env!("CARGO_BIN_EXE_sigpipe");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `sigpipe --mode MODE | cat`, kills cat with SIGKILL once the
/// stream has been flowing for `after`, and returns how the writer ended
/// and what it said on stderr.
fn writer_after_its_reader_is_killed(
    mode: &str,
    after: Duration,
) -> (ExitStatus, String) {
    let (read_end, write_end) = std::io::pipe().expect("a pipe");
    let mut cat = Command::new("cat")
        .stdin(read_end)
        .stdout(Stdio::null())
        .spawn()
        .expect("cat");
    let mut writer = Command::new(SIGPIPE)
        .args(["--mode", mode])
        .stdout(write_end)
        .stderr(Stdio::piped())
        .env_remove("RUST_BACKTRACE")
        .spawn()
        .expect("sigpipe");
    let stderr = collect(writer.stderr.take());
    std::thread::sleep(after);
    cat.kill().expect("kill cat");
    cat.wait().expect("reap cat");
    let status = match writer.wait_timeout(LIMIT).expect("wait") {
        Some(status) => status,
        None => {
            let _ = writer.kill();
            let _ = writer.wait();
            panic!("sigpipe --mode {mode} never noticed its reader die");
        }
    };
    (status, stderr.join().unwrap_or_default())
}

#[test]
fn a_reader_killed_mid_stream_ends_each_writer_as_its_mode_says() {
    // At once, and after the stream has filled the pipe a few times over.
    for after in [Duration::ZERO, Duration::from_millis(200)] {
        let (status, stderr) =
            writer_after_its_reader_is_killed("default-signal", after);
        assert_eq!(status.signal(), Some(13), "{status:?} {stderr}");

        let (status, stderr) =
            writer_after_its_reader_is_killed("graceful", after);
        assert_eq!(status.code(), Some(0), "{status:?} {stderr}");
        assert_eq!(stderr, "", "graceful says nothing");

        let (status, stderr) =
            writer_after_its_reader_is_killed("rust-default", after);
        assert_eq!(status.code(), Some(101), "{status:?} {stderr}");
        assert!(
            stderr.contains("failed printing to stdout: Broken pipe"),
            "{stderr}"
        );
    }
}
