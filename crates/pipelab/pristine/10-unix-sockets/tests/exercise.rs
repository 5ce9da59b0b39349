//! The tests of exercise 10 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit: it starts a client that calls `send_fd`, and calls
//! `receive_fd` on the connection.

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
        Duration::from_secs(30),
        "Does receive_fd wait for a message send_fd never sent? \
         send_fd must call sendmsg once, with the message and the descriptor.",
    )
}

#[test]
fn the_descriptor_arrives_with_its_message() {
    let report = scenario("file");
    assert_eq!(
        report["client-sent"], "ok",
        "send_fd returned an error (or the client panicked: see above)"
    );
    assert_eq!(
        report.get("error"),
        None,
        "receive_fd returned an error for a message that carried a \
         descriptor (or send_fd sent no bytes: on a stream socket a \
         descriptor needs at least one byte of data to travel with)"
    );
    assert_eq!(report["message"], r#""here it is""#);
    assert_eq!(
        report["content"], r#""the quick brown fox\n""#,
        "reading the received descriptor must give the client's file"
    );
    assert_eq!(
        report["same-file"], "true",
        "the received descriptor must be the client's open file: is it \
         the number from ScmRights, adopted once?"
    );
}

#[test]
fn the_credentials_come_from_the_kernel() {
    let report = scenario("file");
    assert_eq!(
        report["pid-matches"], "true",
        "pid must be the client's: getsockopt(socket, \
         sockopt::PeerCredentials), not getpid()"
    );
    assert_eq!(report["uid-matches"], "true");
    assert_eq!(report["gid-matches"], "true");
}

#[test]
fn the_received_descriptor_shares_the_senders_offset() {
    let report = scenario("offset");
    assert_eq!(
        report["read"], r#""quick""#,
        "the client had read \"the \" before sending: one open file has one \
         offset, so the server's read starts at byte 4"
    );
    assert_eq!(
        report["client-offset"], "9",
        "the server's 5-byte read moved the client's offset too"
    );
}

#[test]
fn a_pipe_end_can_be_passed_too() {
    let report = scenario("pipe");
    assert_eq!(report["client-sent"], "ok");
    assert_eq!(report["content"], r#""through the pipe""#);
}

#[test]
fn a_message_without_a_descriptor_is_an_error_not_a_panic() {
    let report = scenario("no-fd");
    assert!(
        report.get("error").is_some(),
        "receive_fd must return Err when no descriptor came; it returned Ok"
    );
}

#[test]
fn the_received_descriptor_is_close_on_exec() {
    let report = scenario("file");
    assert_eq!(
        report["cloexec"], "true",
        "pass MsgFlags::MSG_CMSG_CLOEXEC to recvmsg, so a program exec()ed \
         later does not inherit the descriptor"
    );
}

#[test]
fn no_descriptor_is_left_open_and_the_sender_keeps_its_own() {
    let report = scenario("file");
    assert_eq!(
        report["leaked-fds"], "",
        "these descriptors were still open after the Received was dropped: \
         adopt every number ScmRights gave, so each one closes"
    );
    assert_eq!(report["client-leaked-fds"], "");
    assert_eq!(
        report["client-fd-open"], "true",
        "send_fd must not close the descriptor it sends: the sender keeps it"
    );
    assert_eq!(report["client"], "exited with code 0");
}
