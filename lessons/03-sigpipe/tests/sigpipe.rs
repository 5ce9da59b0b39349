//! Lesson 03's claims, checked by running the `sigpipe` program as a
//! subprocess (never by forking inside the test harness): the signal number,
//! the status word, EPIPE, and the statuses a shell sees in a real pipeline.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::{Finished, RunError};

const SIGPIPE: &str = env!("CARGO_BIN_EXE_sigpipe");

/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `command` with the time limit; `waiting` names what a hang would mean.
fn bounded(command: &mut Command, waiting: &str) -> Finished {
    match run_clean(command, LIMIT) {
        Ok(done) => done,
        Err(error @ RunError::TimedOut { .. }) => panic!("{waiting}: {error}"),
        Err(error) => panic!("{error}"),
    }
}

/// Runs the demo and returns its narration, checking that it succeeded.
fn demo(extra: &[&str]) -> String {
    let done = bounded(
        Command::new(SIGPIPE).args(["--color", "never"]).args(extra),
        "the demo did not finish: a child waiting for the parent to close its \
         read end, or the parent waiting for a child",
    );
    assert!(
        done.status.success(),
        "sigpipe {}\n{}",
        labkit::status::explain_exit_status(done.status),
        done.stderr
    );
    assert!(!done.left_running, "the demo left a child running");
    assert_eq!(done.stderr, "", "the demo wrote to stderr");
    done.stdout
}

/// The narration lines of one part of the demo: from the line that starts
/// with `heading` to the next `note | N.` heading (or the end).
fn part<'a>(narration: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = narration
        .lines()
        .skip_while(|line| !line.starts_with(&format!("  note | {heading}")));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no part {heading:?} in:\n{narration}"));
    std::iter::once(first)
        .chain(lines.take_while(|line| {
            !(line.starts_with("  note | ")
                && line[9..].starts_with(|c: char| c.is_ascii_digit()))
        }))
        .collect()
}

fn has(lines: &[&str], wanted: &str) -> bool {
    lines.iter().any(|line| line.contains(wanted))
}

#[test]
fn with_sigpipe_at_its_default_the_child_is_killed_by_signal_13() {
    let narration = demo(&[]);
    let part1 = part(&narration, "1.");
    let all = part1.join("\n");
    assert!(
        has(
            &part1,
            "parent | nix decodes it as Signaled(child, SIGPIPE, false)"
        ),
        "{all}"
    );
    // The status word holds the signal number in its low 7 bits, and nothing
    // else.
    assert!(
        has(&part1, "parent | waitpid() stored the status word 0x000d"),
        "{all}"
    );
    assert!(has(&part1, "status & 0x7f = 13:"), "{all}");
    assert!(has(&part1, "code() = None, signal() = Some(13)"), "{all}");
    assert!(has(&part1, "a shell would put 141 (128 + 13) in $?"), "{all}");
}

#[test]
fn a_child_killed_by_sigpipe_never_returns_from_write() {
    let narration = demo(&["--trace"]);
    let part1 = part(&narration, "1.");
    let writing = part1
        .iter()
        .position(|line| line.starts_with(" child | writing"))
        .unwrap_or_else(|| {
            panic!("the child never wrote:\n{}", part1.join("\n"))
        });
    let after: Vec<&&str> = part1[writing + 1..]
        .iter()
        .filter(|line| line.starts_with(" child |"))
        .collect();
    assert!(
        after.is_empty(),
        "the child spoke after its write, so write() returned: {after:?}"
    );
}

#[test]
fn with_sigpipe_ignored_the_write_fails_with_epipe() {
    let narration = demo(&["--trace"]);
    let part2 = part(&narration, "2.");
    let all = part2.join("\n");
    let write_call = part2
        .iter()
        .find(|line| line.starts_with(" child |   write("))
        .unwrap_or_else(|| panic!("no traced write in part 2:\n{all}"));
    assert!(write_call.ends_with("= -1 EPIPE (Broken pipe)"), "{write_call}");
    assert!(has(&part2, " child | write() failed with EPIPE"), "{all}");
    assert!(
        has(&part2, "parent | nix decodes it as Exited(child, 0)"),
        "{all}"
    );
    assert!(
        has(&part2, "parent | waitpid() stored the status word 0x0000"),
        "{all}"
    );
}

#[test]
fn the_rust_runtime_ignores_sigpipe_and_a_forked_child_inherits_it() {
    let narration = demo(&[]);
    let all: Vec<&str> = narration.lines().collect();
    let parent = verdict_on(&all, "parent");
    assert_eq!(parent, "kernel | SIGPIPE is ignored (SIG_IGN)", "{narration}");
    let restored = verdict_on(&part(&narration, "1."), "child");
    assert_eq!(restored, "kernel | SIGPIPE is at its default (SIG_DFL)");
    let inherited = verdict_on(&part(&narration, "2."), "child");
    assert_eq!(inherited, "kernel | SIGPIPE is ignored (SIG_IGN)");
}

/// The line after the kernel's report on `who`'s /proc/self/status: what
/// the SigIgn bit means for SIGPIPE.
fn verdict_on<'a>(lines: &[&'a str], who: &str) -> &'a str {
    let marker = format!("/proc/self/status of the {who}");
    let at = lines
        .iter()
        .position(|line| line.contains(&marker))
        .unwrap_or_else(|| panic!("no report on the {who}:\n{lines:#?}"));
    lines.get(at + 1).copied().unwrap_or_default()
}

/// The outcome of `sigpipe --mode MODE | head -n 1` in bash: what head
/// printed, the writer's status from `${PIPESTATUS[0]}`, and its stderr.
struct Pipeline {
    head_printed: String,
    writer_status: String,
    writer_stderr: String,
}

fn pipeline(mode: &str) -> Pipeline {
    let done = bounded(
        Command::new("bash")
            .args([
                "-c",
                r#""$0" --mode "$1" | head -n 1; echo "${PIPESTATUS[0]}""#,
                SIGPIPE,
                mode,
            ])
            // The panic message must not grow a backtrace if the caller set
            // this.
            .env_remove("RUST_BACKTRACE"),
        &format!(
            "`sigpipe --mode {mode} | head -n 1` did not finish: the writer \
             never noticed head leave"
        ),
    );
    assert!(done.status.success(), "bash: {}", done.stderr);
    let lines: Vec<&str> = done.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "head's line, then the status: {lines:?}");
    Pipeline {
        head_printed: lines[0].to_string(),
        writer_status: lines[1].to_string(),
        writer_stderr: done.stderr,
    }
}

#[test]
fn rust_default_panics_on_a_closed_stdout_with_status_101() {
    let result = pipeline("rust-default");
    assert_eq!(result.head_printed, "line 1");
    assert_eq!(result.writer_status, "101");
    assert!(
        result.writer_stderr.contains("failed printing to stdout: Broken pipe"),
        "{}",
        result.writer_stderr
    );
}

#[test]
fn default_signal_is_killed_by_sigpipe_and_the_shell_shows_141() {
    let result = pipeline("default-signal");
    assert_eq!(result.head_printed, "line 1");
    assert_eq!(result.writer_status, "141");
    assert_eq!(result.writer_stderr, "", "a killed writer says nothing");
}

#[test]
fn graceful_stops_quietly_with_status_0() {
    let result = pipeline("graceful");
    assert_eq!(result.head_printed, "line 1");
    assert_eq!(result.writer_status, "0");
    assert_eq!(result.writer_stderr, "", "graceful means quiet");
}

#[test]
fn graceful_writes_every_line_to_a_reader_that_stays() {
    let done = bounded(
        Command::new(SIGPIPE).args(["--mode", "graceful", "--lines", "3"]),
        "sigpipe --mode graceful --lines 3",
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "line 1\nline 2\nline 3\n");
}

#[test]
fn piped_output_holds_no_colour() {
    let done = bounded(&mut Command::new(SIGPIPE), "the demo without --color");
    assert!(done.status.success(), "{}", done.stderr);
    assert!(!done.stdout.contains('\x1b'), "{}", done.stdout);
}

#[test]
fn bad_input_gets_one_line_and_status_2() {
    for args in
        [&["--mode", "loud"][..], &["--mode", "graceful", "--lines", "0"]]
    {
        let done =
            bounded(Command::new(SIGPIPE).args(args), "sigpipe with bad input");
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(done.stderr.lines().count(), 1, "{args:?}: {}", done.stderr);
        assert!(done.stderr.starts_with("sigpipe: error:"), "{}", done.stderr);
    }
}

#[test]
fn the_bare_calls_end_the_way_the_narrated_demo_does() {
    let narration = demo(&[]);
    assert!(
        has(&part(&narration, "1."), "as Signaled(child, SIGPIPE, false)"),
        "{narration}"
    );
    assert!(has(&part(&narration, "2."), "as Exited(child, 0)"), "{narration}");
    let done = bounded(
        Command::new(SIGPIPE).arg("--bare"),
        "the bare run did not finish: a write that blocked instead of failing",
    );
    assert!(done.status.success(), "{}", done.stderr);
    let lines: Vec<&str> = done.stdout.lines().collect();
    // The same two endings: killed by signal 13 inside write() with
    // SIG_DFL; EPIPE and a normal exit with SIG_IGN (exit code 1 would
    // mean write() succeeded or failed otherwise).
    assert_eq!(lines.len(), 2, "{}", done.stdout);
    assert!(
        lines[0].starts_with("SIG_DFL: child killed by signal 13 (SIGPIPE)"),
        "{}",
        done.stdout
    );
    assert_eq!(
        lines[1],
        "SIG_IGN: child exited with code 0 (write() failed with EPIPE)",
        "{}",
        done.stdout
    );
}
