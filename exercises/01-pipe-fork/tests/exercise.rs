//! The tests of exercise 01 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit, so a forgotten close() fails with a reason instead of
//! hanging forever.

use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};

/// The exercise's runner program (src/main.rs), built by cargo for this
/// package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// Runs one scenario and returns its `key: value` report.
fn scenario(name: &str) -> Report {
    let report = run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(10),
        "The parent's read never saw end of file: is a write end still open? \
         The parent must drop its write end right after fork().",
    );
    let reports = report.all("pid").len();
    assert_eq!(
        reports, 1,
        "scenario {name:?}: send_through_pipe returned in {reports} processes. \
         The child must end with exit_child(), never by returning."
    );
    // What the kernel saw: a real child, reaped, and the bytes read.
    assert_eq!(
        report["child-is-another-process"], "true",
        "scenario {name:?}: the status must be the forked child's, from waitpid"
    );
    assert!(
        report.number("reaped-child-faults") > 0,
        "scenario {name:?}: no child process ran and was reaped: fork(), and \
         waitpid() the child"
    );
    let (read, received) =
        (report.number("bytes-read-from-fds"), report.number("received-len"));
    assert!(
        read >= received,
        "scenario {name:?}: the parent read {read} bytes but returned \
         {received}: the bytes must come through the pipe, read with read()"
    );
    report
}

#[test]
fn one_message_arrives_whole() {
    let report = scenario("one");
    assert_eq!(report["received"], r#""hello\n""#);
}

#[test]
fn messages_arrive_in_order() {
    let report = scenario("three");
    assert_eq!(report["received"], r#""one\ntwo\nthree\n""#);
}

#[test]
fn no_messages_means_immediate_end_of_file() {
    let report = scenario("none");
    assert_eq!(report["received-len"], "0");
    assert_eq!(report["child"], "exited with code 0");
}

#[test]
fn the_childs_exit_code_is_reported() {
    let report = scenario("exit-code");
    assert_eq!(
        report["child"], "exited with code 7",
        "reap the child with waitpid and return its status"
    );
}

#[test]
fn more_than_a_pipe_holds_gets_through() {
    // If the parent waited for the child before reading, the child would
    // block on a full pipe and the two would wait for each other forever.
    let report = scenario("large");
    assert_eq!(
        report["received-len"], "100000",
        "read until read() returns 0, not just once"
    );
}

#[test]
fn the_parent_keeps_no_end_of_the_pipe() {
    for name in ["one", "none"] {
        let report = scenario(name);
        assert_eq!(
            report["leaked-fds"], "",
            "scenario {name:?}: these descriptors were left open after \
             send_through_pipe returned"
        );
    }
}
