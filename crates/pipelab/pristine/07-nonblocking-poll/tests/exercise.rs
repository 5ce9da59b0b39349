//! The tests of exercise 07 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit. The program starts real `sh` writers on real FIFOs,
//! calls your `collect_messages`, and reports what came back and the CPU
//! time your loop used meanwhile.

use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};

/// The exercise's runner (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// Runs one scenario and returns its `key: value` report.
fn scenario(name: &str) -> Report {
    run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(20),
        "collect_messages never returned. Does it stop when every source has \
         reached end of file? read() = 0 means that source is finished: \
         stop polling it (taking 0 for \"try again\" loops for ever), and \
         return once no source is left (poll() on no descriptors with no \
         timeout waits for ever). A source whose writer has closed reports \
         POLLHUP, not POLLIN: any non-empty revents means \"read me\".",
    )
}

/// What writer `name` sent: "NAME message 1" .. "NAME message COUNT".
fn sent(name: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{name} message {i}")).collect()
}

/// Checks that source `index` (1-based) returned exactly `expected`.
#[track_caller]
fn assert_source(report: &Report, index: usize, expected: &[String]) {
    let got = report.all(&format!("source-{index}"));
    if got == expected {
        return;
    }
    let hint = if got.len() < expected.len() {
        "Some messages are missing. Did you stop at EAGAIN? It means \
         \"empty for now\", not end of file: poll and read again. Or did you \
         stop when the first source closed, instead of the last?"
    } else {
        "Messages are duplicated or out of order. Keep one pending buffer per \
         source, and put each read's bytes in the buffer of the source it \
         came from."
    };
    panic!(
        "source {index}: expected {} messages {:?} ... {:?}, got {}: {:?}.\n\
         {hint}",
        expected.len(),
        expected.first(),
        expected.last(),
        got.len(),
        got.iter().take(6).collect::<Vec<_>>()
    );
}

#[test]
fn take_lines_cuts_the_stream_at_each_newline() {
    let report = scenario("lines");
    assert_eq!(
        report.all("line"),
        [r#""hello""#, r#""world""#, r#""""#],
        "take_lines must return each complete line once, without its \
         newline, even when a read cut it in two (\"hel\" + \"lo\\n\"); an \
         empty line is a line too"
    );
    assert_eq!(
        report["pending"], r#""last""#,
        "bytes after the last newline must stay in `pending` for the next \
         read"
    );
}

#[test]
fn every_message_of_every_source_arrives_in_order() {
    let report = scenario("three");
    assert_eq!(
        report.number("sources"),
        3,
        "return one Vec per source, in the order the sources were given"
    );
    for (index, name) in [(1, "s1"), (2, "s2"), (3, "s3")] {
        assert_source(&report, index, &sent(name, 5));
    }
}

#[test]
fn a_silent_wait_uses_no_cpu() {
    let report = scenario("quiet");
    assert_source(&report, 1, &sent("s1", 2));
    assert_source(&report, 2, &sent("s2", 1));
    let (cpu, wall) = (report.number("cpu-ms"), report.number("wall-ms"));
    assert!(
        wall >= 1000,
        "the runner's writers were silent for 1.5 s, yet collect_messages \
         returned after {wall} ms: it did not wait for them"
    );
    // A loop asleep in poll() uses 0 to 5 ms of the 3 s here; a busy one
    // most of it (measured: a third, on two cores shared by eight builds).
    assert!(
        cpu * 10 < wall,
        "busy loop: collect_messages used {cpu} ms of CPU time in {wall} ms \
         while the writers were silent. Wait in poll() (no timeout, or a \
         long one), never by calling read() again and again. And a source \
         whose writer has closed reports POLLHUP on every poll, at once: \
         read it (read() = 0), and stop polling it."
    );
}

#[test]
fn a_source_that_closes_without_a_word_is_finished() {
    let report = scenario("silent");
    assert_source(&report, 1, &[]);
    assert_source(&report, 2, &sent("s2", 3));
}

#[test]
fn more_than_a_fifo_holds_arrives_whole_and_in_order() {
    let report = scenario("big");
    assert_source(&report, 1, &sent("s1", 6000));
    assert_source(&report, 2, &sent("s2", 3));
}
