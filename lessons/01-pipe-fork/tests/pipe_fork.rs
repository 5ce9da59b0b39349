//! Lesson 01's claims, checked by running the `pipe-fork` program.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::Finished;

const PIPE_FORK: &str = env!("CARGO_BIN_EXE_pipe-fork");

/// Runs `pipe-fork` with `args`, bounded: every run of the lesson must end
/// by itself, even the one that demonstrates a hang.
fn pipe_fork(args: &[&str]) -> Finished {
    let done =
        run_clean(Command::new(PIPE_FORK).args(args), Duration::from_secs(30))
            .unwrap_or_else(|error| panic!("pipe-fork {args:?}: {error}"));
    assert!(
        !done.left_running,
        "pipe-fork {args:?} left a process running: every child must be reaped"
    );
    done
}

/// The lines a speaker said, without the tag.
fn said<'a>(done: &'a Finished, speaker: &str) -> Vec<&'a str> {
    let tag = format!("{speaker:>6} | ");
    done.stdout
        .lines()
        .filter_map(|line| line.strip_prefix(tag.as_str()))
        .collect()
}

#[test]
fn the_parent_reads_every_message_in_order_then_end_of_file() {
    let done = pipe_fork(&["--interval-ms", "20"]);
    assert!(done.status.success(), "{}", done.stderr);
    // How the bytes are split between reads depends on timing; what the
    // parent receives, in total and in order, does not.
    let received: String = said(&done, "parent")
        .iter()
        .filter_map(|line| line.strip_prefix("read ")?.split_once(" bytes: "))
        .map(|(_, quoted)| quoted.trim_matches('"').replace("\\n", "\n"))
        .collect();
    let sent: String = (1..=5).map(|n| format!("message {n} of 5\n")).collect();
    assert_eq!(received, sent);
    let kernel = said(&done, "kernel");
    let end = kernel
        .iter()
        .position(|line| {
            *line == "read() returned 0: end of file, no writer is left"
        })
        .unwrap_or_else(|| panic!("no end of file reported:\n{}", done.stdout));
    assert_eq!(
        end,
        kernel.len() - 1,
        "end of file is the last thing the kernel reports"
    );
}

#[test]
fn the_child_is_reaped_and_its_status_explained() {
    let done = pipe_fork(&["--count", "1", "--interval-ms", "0"]);
    let parent = said(&done, "parent");
    let reaped = parent
        .iter()
        .find(|line| line.starts_with("reaped child"))
        .unwrap_or_else(|| {
            panic!("the parent never reaped its child:\n{}", done.stdout)
        });
    assert!(reaped.ends_with(": exited with code 0"), "{reaped}");
}

#[test]
fn count_and_interval_flags_shape_the_run() {
    let done = pipe_fork(&["--count", "3", "--interval-ms", "1"]);
    let written: Vec<&str> = said(&done, "child")
        .into_iter()
        .filter(|line| line.starts_with("writing"))
        .collect();
    assert_eq!(
        written,
        [
            "writing \"message 1 of 3\\n\"",
            "writing \"message 2 of 3\\n\"",
            "writing \"message 3 of 3\\n\"",
        ]
    );
}

#[test]
fn a_forgotten_write_end_means_no_end_of_file_ever() {
    let done = pipe_fork(&[
        "--keep-write-end",
        "--count",
        "2",
        "--interval-ms",
        "10",
        "--patience",
        "1",
    ]);
    assert_eq!(done.status.code(), Some(1), "the hang must end in failure");
    let kernel = said(&done, "kernel");
    assert!(
        !kernel.iter().any(|line| line.contains("returned 0: end of file")),
        "end of file must not come while the parent holds a write end:\n{}",
        done.stdout
    );
    assert!(kernel.contains(&"1.0 s with no data and no EOF: read() blocks"));
    // Both messages still arrive: the pipe works, only the ending is lost.
    assert_eq!(
        said(&done, "parent")
            .iter()
            .filter(|line| line.starts_with("read 15 bytes"))
            .count(),
        2
    );
    assert!(
        said(&done, "parent")
            .contains(&"yet the child has ended: it exited with code 0")
    );
    // The explanation names the fix.
    assert!(done.stdout.contains("The fix: drop(write_end) in the parent"));
}

#[test]
fn a_forgotten_write_end_is_given_up_on_after_3_s_by_default() {
    let started = std::time::Instant::now();
    let done = pipe_fork(&["--keep-write-end", "--interval-ms", "0"]);
    let took = started.elapsed();
    assert_eq!(done.status.code(), Some(1), "the hang must end in failure");
    assert!(
        said(&done, "kernel")
            .contains(&"3.0 s with no data and no EOF: read() blocks"),
        "{}",
        done.stdout
    );
    assert!(took >= Duration::from_secs(3), "gave up after {took:?}");
    assert!(done.stdout.contains("The fix: drop(write_end) in the parent"));
}

#[test]
fn a_silent_writer_blocks_the_read_until_data_comes() {
    let done =
        pipe_fork(&["--pause", "1.5", "--count", "2", "--interval-ms", "10"]);
    assert!(done.status.success(), "{}", done.stderr);
    let blocked: Vec<f64> = said(&done, "kernel")
        .iter()
        .filter_map(|line| line.strip_prefix("read() waited "))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert_eq!(
        blocked.len(),
        1,
        "one read blocks, during the pause:\n{}",
        done.stdout
    );
    assert!(
        blocked[0] >= 1.4,
        "the read returned before the child spoke again: {blocked:?}"
    );
    // ... and then the read resumed: the second message arrived.
    assert!(
        said(&done, "parent").contains(&"read 15 bytes: \"message 2 of 2\\n\"")
    );
}

#[test]
fn trace_shows_the_system_calls_and_their_results() {
    let done = pipe_fork(&["--trace", "--count", "1", "--interval-ms", "0"]);
    let parent: Vec<&str> =
        said(&done, "parent").into_iter().map(str::trim_start).collect();
    // The run starts with descriptors 0, 1 and 2 only, so the pipe's ends
    // are the lowest free numbers, 3 and 4, as the chapter shows them.
    assert!(
        parent.contains(&"pipe2([3, 4], O_CLOEXEC) = 0"),
        "{}",
        done.stdout
    );
    let last_read = parent.iter().rfind(|line| line.starts_with("read("));
    assert_eq!(
        last_read,
        Some(&"read(3, buf, 256) = 0"),
        "the parent's last read returns 0:\n{}",
        done.stdout
    );
}

#[test]
fn colour_only_when_asked_for() {
    let escape = '\u{1b}';
    let piped = pipe_fork(&["--count", "1", "--interval-ms", "0"]);
    assert!(!piped.stdout.contains(escape), "escape codes in piped output");
    let forced =
        pipe_fork(&["--count", "1", "--interval-ms", "0", "--color", "always"]);
    assert!(forced.stdout.contains(escape), "--color always must colour");
    let mut no_color = Command::new(PIPE_FORK);
    no_color.args(["--count", "1", "--interval-ms", "0"]).env("NO_COLOR", "1");
    let done = run_clean(&mut no_color, Duration::from_secs(30))
        .expect("pipe-fork finishes");
    assert!(!done.stdout.contains(escape));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [["--count", "abc"], ["--pause", "-1"]] {
        let done = pipe_fork(&args);
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
        assert!(
            done.stderr.starts_with("pipe-fork: error: "),
            "{}",
            done.stderr
        );
    }
}

#[test]
fn the_bare_calls_deliver_what_the_narrated_run_does() {
    let narrated = pipe_fork(&["--count", "3", "--interval-ms", "1"]);
    let narrated_bytes: String = said(&narrated, "parent")
        .iter()
        .filter_map(|line| line.strip_prefix("read ")?.split_once(" bytes: "))
        .map(|(_, quoted)| quoted.trim_matches('"').replace("\\n", "\n"))
        .collect();
    let bare = pipe_fork(&["--bare", "--count", "3"]);
    assert!(bare.status.success(), "{}", bare.stderr);
    // The same bytes, in the same order, then end of file and the reaping:
    // the status line can only come once read() has returned 0.
    let expected = format!("{narrated_bytes}(the child exited with code 0)\n");
    assert_eq!(bare.stdout, expected);
    assert!(narrated_bytes.starts_with("message 1 of 3\n"), "{narrated_bytes}");
    // No narration at all: no speaker tags.
    assert!(!bare.stdout.contains(" | "), "{}", bare.stdout);
}

#[test]
fn the_bare_run_refuses_the_narrated_runs_flags() {
    for flag in [&["--pause", "1"][..], &["--keep-write-end"][..]] {
        let args: Vec<&str> = ["--bare"].iter().chain(flag).copied().collect();
        let done = pipe_fork(&args);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert!(done.stderr.contains("cannot be used with"), "{}", done.stderr);
        assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    }
}

#[test]
fn the_default_run_writes_five_messages_200_ms_apart() {
    let started = std::time::Instant::now();
    let done = pipe_fork(&[]);
    let took = started.elapsed();
    assert!(done.status.success(), "{}", done.stderr);
    let written = said(&done, "child")
        .into_iter()
        .filter(|line| line.starts_with("writing"))
        .count();
    assert_eq!(written, 5, "{}", done.stdout);
    // The child sleeps before each message: the fifth cannot come before
    // four intervals have passed. A lower bound only: a busy machine may
    // be slower, never faster.
    let four_intervals = Duration::from_millis(4 * 200);
    assert!(took >= four_intervals, "five messages in {took:?}");
}
