//! The test runner for exercise 01: you do not need to edit this file.
//!
//! `cargo lab check 1` runs this program once per scenario, as a process of
//! its own, because your code forks, and a fork is only safe in a process
//! with a single thread (the test harness has many). It calls your
//! `send_through_pipe` and prints what came back, one `key: value` line each,
//! for tests/exercise.rs to check.

use std::process::ExitCode;

use ex01_pipe_fork::send_through_pipe;
use labkit::exercise::open_fds;

fn main() -> ExitCode {
    let Some(scenario) = std::env::args().nth(1) else {
        eprintln!(
            "usage: ex01-pipe-fork SCENARIO (one, three, none, exit-code, \
             large)"
        );
        return ExitCode::from(2);
    };
    let big = vec![b'x'; 100_000];
    let (messages, exit_code): (Vec<&[u8]>, i32) = match scenario.as_str() {
        "one" => (vec![b"hello\n"], 0),
        "three" => (vec![b"one\n", b"two\n", b"three\n"], 0),
        "none" => (vec![], 0),
        "exit-code" => (vec![b"bye\n"], 7),
        // 100 000 bytes: more than a pipe holds (65 536 by default).
        "large" => (vec![&big[..40_000], &big[40_000..]], 0),
        other => {
            eprintln!("ex01-pipe-fork: unknown scenario {other:?}");
            return ExitCode::from(2);
        }
    };

    let fds_before = open_fds();
    let delivery = match send_through_pipe(&messages, exit_code) {
        Ok(delivery) => delivery,
        Err(errno) => {
            eprintln!("send_through_pipe returned an error: {errno}");
            return ExitCode::FAILURE;
        }
    };
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();

    println!("pid: {}", std::process::id());
    println!("received-len: {}", delivery.received.len());
    println!("received: {:?}", String::from_utf8_lossy(&delivery.received));
    println!("child: {}", labkit::status::explain(&delivery.child));
    println!("leaked-fds: {}", leaked.join(" "));
    ExitCode::SUCCESS
}
