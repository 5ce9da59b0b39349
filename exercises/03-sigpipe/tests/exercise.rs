//! The tests of exercise 03 (the one copy: the reference solution runs this
//! same file). `describe` is checked on status words, and on the real words
//! of real children; the writer runs against a real reader. All of it runs
//! in the exercise's own program, as a subprocess with a time limit: none
//! of the exercise's code runs inside this test program.

use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};

/// The exercise's runner program (src/main.rs), built by cargo for this
/// package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// Runs one scenario and returns its `key: value` report.
fn scenario(name: &str) -> Report {
    run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(20),
        "Does write_until_reader_leaves stop when write() returns an error? \
         A failed write must not be retried.",
    )
}

/// What the exercise's `describe` says of the status word `raw`, asked in
/// the runner.
fn describe(raw: i32) -> String {
    let report = run_scenario(
        Command::new(RUNNER).args(["describe", &raw.to_string()]),
        Duration::from_secs(20),
        "describe only reads bits of a number: does it loop?",
    );
    report["describe"].clone()
}

#[test]
fn an_exit_code_sits_in_bits_8_to_15() {
    assert_eq!(describe(0), "exited with code 0");
    assert_eq!(describe(3 << 8), "exited with code 3");
    assert_eq!(describe(255 << 8), "exited with code 255");
}

#[test]
fn a_killing_signal_sits_in_the_low_7_bits() {
    assert_eq!(describe(13), "killed by signal 13 (SIGPIPE)");
    assert_eq!(describe(9), "killed by signal 9 (SIGKILL)");
}

#[test]
fn the_core_dump_flag_is_not_part_of_the_signal_number() {
    // 0x80 is the "core dumped" flag: mask the signal with 0x7f, not 0xff.
    assert_eq!(describe(0x80 | 11), "killed by signal 11 (SIGSEGV)");
}

#[test]
fn a_signal_without_a_name_is_unknown() {
    // Signal 40 is a real-time signal: nix's Signal has no name for it.
    assert_eq!(describe(40), "killed by signal 40 (unknown)");
}

#[test]
fn real_children_are_described_from_their_real_status_words() {
    for (name, expected) in [
        ("exit-0", "exited with code 0"),
        ("exit-3", "exited with code 3"),
        ("exit-255", "exited with code 255"),
        ("sigpipe", "killed by signal 13 (SIGPIPE)"),
        ("sigkill", "killed by signal 9 (SIGKILL)"),
    ] {
        let report = scenario(name);
        assert_eq!(
            report.get("describe"),
            Some(expected),
            "scenario {name:?}: the child's status word was {}",
            report.get("raw").unwrap_or("missing")
        );
    }
}

#[test]
fn with_no_reader_nothing_gets_through_and_the_error_is_epipe() {
    let report = scenario("no-reader");
    assert_eq!(report.number("bytes-written"), 0);
    assert_eq!(report["error"], "EPIPE", "write() fails with EPIPE at once");
}

#[test]
fn a_reader_that_stays_gets_every_byte() {
    let report = scenario("reader-stays");
    let total = report.number("total");
    assert!(
        total > report.number("pipe-capacity"),
        "the scenario must write more than the pipe holds"
    );
    assert_eq!(
        report.number("bytes-written"),
        total,
        "one write() may take only part of the data: keep writing the rest"
    );
    assert_eq!(report["error"], "none");
    assert_eq!(report.number("reader-got"), total);
}

#[test]
fn a_reader_that_leaves_stops_the_writer_with_epipe() {
    let report = scenario("reader-leaves");
    assert_eq!(
        report["error"], "EPIPE",
        "the reader left: the last write() must have failed with EPIPE"
    );
    let written = report.number("bytes-written");
    let read = report.number("reader-got");
    let capacity = report.number("pipe-capacity");
    // What write() accepted is what the reader read, plus what was still in
    // the pipe when the reader left (at most a pipe's worth, thrown away).
    assert!(
        written >= read,
        "bytes-written ({written}) is less than the reader read ({read}): \
         add up what every write() returned"
    );
    assert!(
        written <= read + capacity,
        "bytes-written ({written}) is more than the reader read ({read}) plus \
         a pipe's worth ({capacity}): count only what write() returned, not \
         what you asked for"
    );
}
