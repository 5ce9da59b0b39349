//! The tests of exercise 05 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit: it starts the reference peer and calls
//! `request_reply`.

use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};

/// The exercise's runner (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// Runs one scenario and returns its `key: value` report.
fn scenario(name: &str) -> Report {
    run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(30),
        "Do you open the FIFOs in the peer's order (requests first, then \
         replies)? Do you read a whole reply line before sending the next \
         request?",
    )
}

/// Asserts that the peer answered every one of `count` requests: replies
/// made up without asking the peer are no replies.
fn assert_peer_saw(report: &Report, count: usize) {
    assert_eq!(
        report["peer-saw"],
        count.to_string(),
        "the peer must receive every request: write each one to the requests \
         FIFO"
    );
}

#[test]
fn one_request_gets_its_reply() {
    let report = scenario("one");
    assert_eq!(report["replies"], "1");
    assert_eq!(report["first"], r#""MESSAGE 1 OF 1 ""#);
    assert_peer_saw(&report, 1);
}

#[test]
fn five_requests_get_five_replies_in_order() {
    let report = scenario("five");
    assert_eq!(report["replies"], "5");
    assert_eq!(
        report["correct"], "5",
        "each reply must be the answer to the request just sent"
    );
    assert_peer_saw(&report, 5);
}

#[test]
fn five_hundred_requests_all_get_their_own_reply() {
    let report = scenario("many");
    assert_eq!(report["correct"], "500");
    assert_peer_saw(&report, 500);
}

#[test]
fn long_replies_are_read_whole() {
    let report = scenario("long");
    assert_eq!(
        report["correct"], "20",
        "a 3000-byte reply may take several reads: read until the newline"
    );
    assert_peer_saw(&report, 20);
}

#[test]
fn the_peer_sees_end_of_file_and_exits() {
    for name in ["five", "none"] {
        let report = scenario(name);
        assert_eq!(
            report["peer"], "exited with code 0",
            "scenario {name:?}: close the requests FIFO before returning \
             (even with no requests: open, then close)"
        );
    }
}

#[test]
fn no_descriptor_is_left_open() {
    let report = scenario("five");
    assert_eq!(
        report["leaked-fds"], "",
        "these descriptors were still open after request_reply returned"
    );
}
