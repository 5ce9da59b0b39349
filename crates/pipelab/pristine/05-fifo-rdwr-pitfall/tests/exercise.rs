//! The tests of exercise 05 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit: it starts the reference peer and calls
//! `request_reply`.

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use labkit::watchdog::{RunError, run};

/// The exercise's runner program (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

fn scenario(name: &str) -> HashMap<String, String> {
    let done = match run(
        Command::new(RUNNER).arg(name).env("RUST_BACKTRACE", "0"),
        Duration::from_secs(30),
    ) {
        Ok(done) => done,
        Err(RunError::TimedOut { .. }) => panic!(
            "scenario {name:?}: request_reply did not return within 30 s. Do you open the \
             FIFOs in the peer's order (requests first, then replies)? Do you read a whole \
             reply line before sending the next request?"
        ),
        Err(error) => panic!("scenario {name:?}: {error}"),
    };
    let why = if done.stderr.contains("was still waiting") {
        "\n(An open that waited 10 s for its peer: are the FIFOs opened in the peer's \
         order, requests first, then replies?)"
    } else {
        ""
    };
    assert!(
        done.status.success(),
        "scenario {name:?}: the runner {}.\n{}{why}",
        labkit::status::explain_exit_status(done.status),
        done.stderr.trim_end()
    );
    done.stdout
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

#[test]
fn one_request_gets_its_reply() {
    let report = scenario("one");
    assert_eq!(report["replies"], "1");
    assert_eq!(report["first"], r#""MESSAGE 1 OF 1 ""#);
}

#[test]
fn five_requests_get_five_replies_in_order() {
    let report = scenario("five");
    assert_eq!(report["replies"], "5");
    assert_eq!(
        report["correct"], "5",
        "each reply must be the answer to the request just sent"
    );
}

#[test]
fn five_hundred_requests_all_get_their_own_reply() {
    let report = scenario("many");
    assert_eq!(report["correct"], "500");
}

#[test]
fn long_replies_are_read_whole() {
    let report = scenario("long");
    assert_eq!(
        report["correct"], "20",
        "a 3000-byte reply may take several reads: read until the newline"
    );
}

#[test]
fn the_peer_sees_end_of_file_and_exits() {
    for name in ["five", "none"] {
        let report = scenario(name);
        assert_eq!(
            report["peer"], "exited with code 0",
            "scenario {name:?}: close the requests FIFO before returning (even with no \
             requests: open, then close)"
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
