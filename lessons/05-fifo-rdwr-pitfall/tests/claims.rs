//! Lesson 05's claims, checked by running fifo-rdwr, rdwr-peer and the
//! shell as separate processes, each with a time limit.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::{self, Finished};
use nix::sys::stat::Mode;

const RDWR: &str = env!("CARGO_BIN_EXE_fifo-rdwr");
const PEER: &str = env!("CARGO_BIN_EXE_rdwr-peer");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

fn bounded(what: &str, command: &mut Command) -> Finished {
    run_clean(command.env("NO_COLOR", "1"), LIMIT)
        .unwrap_or_else(|error| panic!("{what}: {error}"))
}

fn make_fifo(path: &Path) {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)).unwrap();
}

#[test]
fn one_fifo_opened_rdwr_reads_back_its_own_request_and_the_peer_gets_nothing() {
    let done = bounded("fifo-rdwr", &mut Command::new(RDWR));
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    let out = &done.stdout;
    assert!(
        out.contains(
            r#"kernel | read() = "request 1\n": my own request came back to me"#
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "  peer | read nothing in 0.5 s: no request ever reached me"
        ),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn an_rdwr_open_returns_at_once_with_no_other_process() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    // Nobody else has the FIFO open: O_RDONLY or O_WRONLY would wait here.
    let done = bounded(
        "rdwr-peer one-fifo",
        Command::new(PEER).args(["one-fifo", "--path"]).arg(&fifo),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(
        done.stdout,
        "  peer | opened the FIFO O_RDWR: it returned at once\n"
    );
}

#[test]
fn two_fifos_give_every_request_its_own_reply() {
    let done = bounded(
        "fifo-rdwr --requests 300",
        Command::new(RDWR).args(["--requests", "300"]),
    );
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    assert!(
        done.stdout.contains("300 requests, 300 correct replies"),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("answered 300 requests"));
}

#[test]
fn the_peer_answers_a_shell_client_running_at_the_same_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (requests, replies) =
        (tmp.path().join("requests"), tmp.path().join("replies"));
    make_fifo(&requests);
    make_fifo(&replies);
    let client = r#"
        "$3" two-fifos --requests "$1" --replies "$2" > /dev/null &
        exec 3> "$1"     # requests first, as the peer does
        exec 4< "$2"
        for i in 1 2 3; do
            echo "message $i" >&3
            read -r reply <&4
            echo "$reply"
        done
        exec 3>&-        # end of file for the peer
        wait $!
    "#;
    let done = bounded(
        "sh client with rdwr-peer",
        Command::new("sh")
            .args(["-c", client, "sh"])
            .args([&requests, &replies])
            .arg(PEER),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "MESSAGE 1\nMESSAGE 2\nMESSAGE 3\n");
}

#[test]
fn opening_in_the_opposite_order_deadlocks_until_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let (requests, replies) =
        (tmp.path().join("requests"), tmp.path().join("replies"));
    make_fifo(&requests);
    make_fifo(&replies);
    // The client opens replies first: it waits for a writer of replies,
    // while the peer waits for a writer of requests. Neither comes.
    let wrong_order = r#"
        ( exec 4< "$2" ) &
        "$3" two-fifos --requests "$1" --replies "$2" --wait 1
    "#;
    // Plain watchdog::run, not run_clean: the stuck client is meant to be
    // left behind, and this test checks that it was.
    let mut client = Command::new("sh");
    client.args(["-c", wrong_order, "sh"]).args([&requests, &replies]);
    let done = watchdog::run(client.arg(PEER), LIMIT)
        .unwrap_or_else(|error| panic!("a client in the wrong order: {error}"));
    assert_eq!(done.status.code(), Some(1));
    assert!(
        done.stderr.contains("O_RDONLY) was still waiting after 1.0 s"),
        "{}",
        done.stderr
    );
    assert!(done.left_running, "the client is still stuck in its open");
}

#[test]
fn the_trace_shows_the_read_that_takes_back_our_own_request() {
    let request = "request 1\n";
    let traced =
        bounded("fifo-rdwr --trace", Command::new(RDWR).arg("--trace"));
    assert!(traced.status.success(), "{}", traced.stderr);
    let lines: Vec<&str> = traced.stdout.lines().collect();
    let call = format!("read(fd, buf, 64) = {}", request.len());
    let at = lines
        .iter()
        .position(|line| line.ends_with(&call))
        .unwrap_or_else(|| panic!("no {call:?} in:\n{}", traced.stdout));
    assert!(
        lines[at + 1]
            .contains(&format!("read() = {request:?}: my own request")),
        "the traced read is the one that took back the request:\n{}",
        traced.stdout
    );
    let plain = bounded("fifo-rdwr", &mut Command::new(RDWR));
    assert!(!plain.stdout.contains("read(fd, buf"), "{}", plain.stdout);
}

/// A shell client of `rdwr-peer two-fifos` that sends `count` requests and,
/// when `lock_step`, reads each reply before the next; otherwise it reads
/// none. It says how far it got every 1000 requests.
fn shell_client(count: usize, lock_step: bool) -> String {
    let read_reply = if lock_step { r#"read -r reply <&4"# } else { ":" };
    format!(
        r#"
        "$3" two-fifos --requests "$1" --replies "$2" > /dev/null &
        exec 3> "$1"; exec 4< "$2"      # the peer's order
        i=0
        while [ "$i" -lt {count} ]; do
            echo "request $i" >&3; {read_reply}
            i=$((i + 1))
            [ $((i % 1000)) -eq 0 ] && echo "sent $i"
        done
        echo "all {count} requests sent"
        exec 3>&-; wait $!
        "#
    )
}

#[test]
fn writing_every_request_before_reading_a_reply_deadlocks_in_write() {
    // 20 000 requests of about 14 bytes: far more than the two FIFOs hold
    // (65 536 bytes each), so the peer stops in write() on a full replies
    // FIFO, and the client in write() on a full requests FIFO.
    let count = 20_000;
    for lock_step in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let (requests, replies) =
            (tmp.path().join("requests"), tmp.path().join("replies"));
        make_fifo(&requests);
        make_fifo(&replies);
        let mut client = Command::new("sh");
        client
            .args(["-c", &shell_client(count, lock_step), "sh"])
            .args([&requests, &replies])
            .arg(PEER);
        let all_sent = format!("all {count} requests sent");
        if lock_step {
            let done = bounded("a lock-step shell client", &mut client);
            assert!(done.status.success(), "{}", done.stderr);
            assert!(done.stdout.contains(&all_sent), "{}", done.stdout);
            continue;
        }
        // Still running after two seconds: a lower bound on the deadlock.
        // The lock-step run of the same count, just before, has ended.
        let stuck = Duration::from_secs(2);
        match watchdog::run(&mut client, stuck) {
            Err(watchdog::RunError::TimedOut { stdout, .. }) => {
                assert!(!stdout.contains(&all_sent), "{stdout}");
            }
            other => panic!("the pipelining client ended: {other:?}"),
        }
    }
}

#[test]
fn with_two_clients_on_one_replies_fifo_the_first_to_read_takes_the_reply() {
    let tmp = tempfile::tempdir().unwrap();
    let (requests, replies) =
        (tmp.path().join("requests"), tmp.path().join("replies"));
    make_fifo(&requests);
    make_fifo(&replies);
    // Client A sends a request and does not read yet; client B, another
    // process reading the same replies FIFO, reads first and gets A's reply.
    let two_clients = r#"
        "$3" two-fifos --requests "$1" --replies "$2" > /dev/null &
        peer=$!
        exec 3> "$1"; exec 4< "$2"     # client A, in the peer's order
        ( read -r reply; echo "client B read: $reply" ) < "$2" &
        echo "from client A" >&3
        wait $!                        # client B has its line
        exec 3>&- 4<&-; wait $peer
    "#;
    let done = bounded(
        "two shell clients and rdwr-peer",
        Command::new("sh")
            .args(["-c", two_clients, "sh"])
            .args([&requests, &replies])
            .arg(PEER),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "client B read: FROM CLIENT A\n");
}
