//! What a student sees when their client opens the two FIFOs in the
//! opposite order to the exercise's reference peer: the peer's open waits
//! its full 10 s limit, then the runner says so and asks about the order.
//! A shell client in the wrong order stands for the student's code, which
//! this file does not need: the peer is the runner's own `peer` mode.

use std::process::Command;
use std::time::{Duration, Instant};

use labkit::watchdog;

/// The exercise's runner, built here against the reference solution.
const RUNNER: &str = env!("CARGO_BIN_EXE_sol05-fifo-rdwr-pitfall");

#[test]
fn a_client_in_the_wrong_order_ends_with_an_open_that_waited_10_s() {
    let tmp = tempfile::tempdir().unwrap();
    let (requests, replies) =
        (tmp.path().join("requests"), tmp.path().join("replies"));
    for fifo in [&requests, &replies] {
        nix::unistd::mkfifo(
            fifo,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        )
        .unwrap();
    }
    // The client opens replies first and waits for its writer; the peer
    // opens requests first and waits for its writer. Neither comes.
    let wrong_order = r#"( exec 4< "$2" ) & "$3" peer "$1" "$2""#;
    let mut client = Command::new("sh");
    client
        .args(["-c", wrong_order, "sh"])
        .args([&requests, &replies])
        .arg(RUNNER);
    let started = Instant::now();
    // Plain watchdog::run: the stuck client is left behind, and killed.
    let done = watchdog::run(&mut client, Duration::from_secs(40))
        .unwrap_or_else(|error| panic!("the peer never gave up: {error}"));
    let waited = started.elapsed();
    assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
    assert!(
        done.stderr.contains("was still waiting after 10.0 s"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("are the FIFOs opened in the peer's order"),
        "{}",
        done.stderr
    );
    assert!(waited >= Duration::from_secs(10), "gave up after {waited:?}");
    assert!(done.left_running, "the client is still stuck in its open");
}
