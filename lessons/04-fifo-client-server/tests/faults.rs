//! Lesson 04 when a peer dies or stops at a bad moment: the server or the
//! client that is left behaves as the chapter says (end of file, EPIPE, a
//! partial message reported), and nothing hangs.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use nix::sys::signal::Signal;

/// A writer that opens the FIFO, writes `bytes` in one write, says so,
/// then holds its write end (as a client stuck mid-message) until killed.
fn writer_that_stalls(fifo: &Path, bytes: &str) -> Background {
    let script = format!(
        r#"exec 3> "$1"; printf '{bytes}' >&3; echo written; exec sleep 30"#
    );
    background(&mut shell(&script, &[fifo]))
}

#[test]
fn a_client_killed_between_messages_gives_the_server_end_of_file() {
    for n in [1, 7, 30] {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let mut server = server(&fifo, &[]);
        server.wait_for("open(O_RDONLY)");
        let slow = ["--count", "1000", "--interval-ms", "20", "--quiet"];
        let writer = background(&mut client(&fifo, &slow));
        server.wait_for(&format!("(message {n})"));
        writer.signal(Signal::SIGKILL);
        let (status, ..) = writer.finish();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        // One write per message: a kill cannot land inside one.
        server.wait_for("every writer has closed the FIFO");
        bounded("fifo-client", &mut client(&fifo, &["--count", "0"]));
        let (status, out, _) = server.finish();
        assert!(status.success(), "killed after {n}: {out}");
        assert!(!out.contains("mid-message"), "killed after {n}: {out}");
        assert!(!fifo.exists());
    }
}

#[test]
fn a_client_killed_mid_message_is_reported_with_its_partial_bytes() {
    for (framing, bytes, whole, reported) in [
        ("fixed", "pi", 0, "got 2 of 4 bytes, \"pi\""),
        ("fixed", "pingpingpi", 2, "got 2 of 4 bytes, \"pi\""),
        ("length", r"\000\000\000\005hel", 0, "got 7 of 9 bytes"),
        ("line", r"one\nhello", 1, "got 5 bytes, \"hello\""),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let mut server = server(&fifo, &["--framing", framing]);
        server.wait_for("open(O_RDONLY)");
        let mut writer = writer_that_stalls(&fifo, bytes);
        writer.wait_for("written");
        writer.signal(Signal::SIGKILL);
        writer.finish();
        server.wait_for(&format!("end of file mid-message: {reported}"));
        server.wait_for("waiting for the next client");
        bounded(
            "fifo-client",
            &mut client(&fifo, &["--framing", framing, "--count", "0"]),
        );
        let (status, out, _) = server.finish();
        assert!(status.success(), "{framing} {bytes}: {out}");
        let received = format!("received {} messages in all", whole + 1);
        assert!(out.contains(&received), "{framing} {bytes}: {out}");
    }
}

#[test]
fn a_server_killed_mid_stream_leaves_the_client_one_epipe_line() {
    for n in [1, 10, 50] {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let mut server = server(&fifo, &[]);
        server.wait_for("open(O_RDONLY)");
        let slow = ["--count", "100000", "--interval-ms", "2", "--quiet"];
        let writer = background(&mut client(&fifo, &slow));
        server.wait_for(&format!("(message {n})"));
        server.signal(Signal::SIGKILL);
        let (status, ..) = server.finish();
        assert_eq!(status.signal(), Some(libc::SIGKILL));
        let (status, out, stderr) = writer.finish();
        assert_eq!(status.code(), Some(1), "killed after {n}: {out}");
        assert_one_line(&stderr, "EPIPE: the server has gone");
        // SIGKILL leaves no time to clean up: the FIFO stays.
        assert!(fifo.exists(), "killed after {n}");
    }
}

#[test]
fn a_server_killed_in_open_leaves_a_fifo_the_next_server_reuses() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut first = server(&fifo, &[]);
    first.wait_for("open(O_RDONLY)");
    first.signal(Signal::SIGKILL);
    first.finish();
    assert!(fifo.exists(), "nothing can clean up after SIGKILL");
    // A stale FIFO has no reader: the client is told, then gives up.
    let done = bounded("fifo-client", &mut client(&fifo, &["--wait", "1"]));
    assert_eq!(done.status.code(), Some(1), "{}", done.stdout);
    assert!(done.stdout.contains("failed with ENXIO"), "{}", done.stdout);
    assert_one_line(&done.stderr, "was still waiting after 1.0 s");
    // The next server takes the FIFO as the user's own, and leaves it.
    let mut server = server(&fifo, &[]);
    server.wait_for("already there: it stays when I end");
    bounded("fifo-client", &mut client(&fifo, &["--count", "3"]));
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("received 4 messages in all"), "{out}");
    assert!(fifo.exists());
}

#[test]
fn a_client_killed_in_open_is_never_seen_by_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let mut early = background(&mut client(&fifo, &[]));
    early.wait_for("so a blocking open(O_WRONLY)");
    early.signal(Signal::SIGKILL);
    early.finish();
    let mut server = server(&fifo, &["--wait", "10"]);
    server.wait_for("open(O_RDONLY)");
    bounded("fifo-client", &mut client(&fifo, &["--count", "2"]));
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("received 3 messages in all"), "{out}");
    assert_eq!(count(&out, "every writer has closed"), 0, "{out}");
}

/// Stops `program` for a moment, then lets it go on.
fn stop_and_continue(program: &Background) {
    program.signal(Signal::SIGSTOP);
    std::thread::sleep(Duration::from_millis(300));
    program.signal(Signal::SIGCONT);
}

#[test]
fn a_server_stopped_in_open_and_in_poll_carries_on() {
    // SIGSTOP and SIGCONT while it waits: in open(), then in poll() between
    // two messages. The waits resume (the kernel restarts them), and every
    // message arrives.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    stop_and_continue(&server);
    let slow = ["--count", "10", "--interval-ms", "50"];
    let writer = background(&mut client(&fifo, &slow));
    server.wait_for("(message 3)");
    stop_and_continue(&server);
    let (status, _, stderr) = writer.finish();
    assert!(status.success(), "{stderr}");
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{out}\n{stderr}");
    assert!(out.contains("10 × \"ping\""), "{out}");
}

#[test]
fn a_client_stopped_in_its_blocking_open_carries_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let mut early =
        background(&mut client(&fifo, &["--count", "5", "--wait", "10"]));
    early.wait_for("so a blocking open(O_WRONLY)");
    stop_and_continue(&early);
    let server = background(Command::new(SERVER).arg("--path").arg(&fifo));
    let (status, out, stderr) = early.finish();
    assert!(status.success(), "{out}\n{stderr}");
    assert!(out.contains("a reader opened the FIFO"), "{out}");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("5 × \"ping\""), "{out}");
}

#[test]
fn a_fifo_left_by_a_sigkilled_server_makes_the_next_mkfifo_fail_with_eexist() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    server.signal(Signal::SIGKILL);
    server.finish();
    assert!(fifo.exists(), "nothing can clean up after SIGKILL");
    let made = bounded("mkfifo", &mut shell(r#"mkfifo "$1""#, &[&fifo]));
    assert!(!made.status.success(), "mkfifo made a FIFO that was there");
    // EEXIST, in the words of strerror(3).
    assert!(made.stderr.contains("File exists"), "{}", made.stderr);
}

#[test]
fn a_private_directory_per_run_keeps_a_sigkilled_run_out_of_the_next_ones_way()
{
    let tmp = tempfile::tempdir().unwrap();
    let default_server = || {
        let mut server =
            background(Command::new(SERVER).env("TMPDIR", tmp.path()));
        server.wait_for("open(O_RDONLY)");
        server
    };
    let killed = default_server();
    killed.signal(Signal::SIGKILL);
    killed.finish();
    let stale = entries(tmp.path());
    assert_eq!(stale.len(), 1, "the killed run's directory stays");
    assert!(stale[0].join("fifo").exists(), "and its FIFO in it");

    let next = default_server();
    let fresh: Vec<_> = entries(tmp.path())
        .into_iter()
        .filter(|dir| !stale.contains(dir))
        .collect();
    assert_eq!(fresh.len(), 1, "the next run made a directory of its own");
    bounded(
        "fifo-client",
        &mut client(&fresh[0].join("fifo"), &["--count", "1"]),
    );
    let (status, out, _) = next.finish();
    assert!(status.success(), "{out}");
    assert_eq!(entries(tmp.path()), stale, "the next run removed its own");
}
