//! The readings' own programs as peers, byte for byte: the classic Python
//! ping client and server (and their shell versions) against ours, where
//! their one-read-one-message assumption breaks, and the readings' bugs at
//! end of file, each shown within a time limit.
//!
//! The classic programs are files in this directory. A test that needs
//! python3 says so on stderr and returns where there is none.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use nix::sys::signal::Signal;

/// The bytes the classic client writes: `ping` 100 times, then `end`.
fn classic_bytes() -> Vec<u8> {
    [b"ping".repeat(100), b"end".to_vec()].concat()
}

/// Asserts our server, run with `--framing read`, got the classic stream:
/// 100 pings, then `end`, exit 0, and its FIFO is gone.
fn assert_served_the_classic_stream(server: Background, fifo: &Path) {
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{out}\n{stderr}");
    assert!(out.contains("100 × \"ping\" (4 bytes)"), "{out}");
    assert!(out.contains("1 × \"end\" (3 bytes)"), "{out}");
    assert!(out.contains("received 101 messages in all"), "{out}");
    assert!(!fifo.exists(), "the server removes the FIFO it made");
}

#[test]
fn the_classic_python_client_talks_to_our_server_with_framing_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let Some(mut classic) = python3("classic_ping_client.py", &[&fifo]) else {
        return;
    };
    let mut server = server(&fifo, &["--framing", "read"]);
    server.wait_for("open(O_RDONLY)");
    let sent = bounded("classic_ping_client.py", &mut classic);
    assert!(sent.status.success(), "{}", sent.stderr);
    assert_served_the_classic_stream(server, &fifo);
}

#[test]
fn the_classic_shell_client_talks_to_our_server_with_framing_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "read", "--size", "4"]);
    server.wait_for("open(O_RDONLY)");
    let sent = bounded(
        "classic_ping_client.sh",
        &mut sh("classic_ping_client.sh", &[&fifo]),
    );
    assert!(sent.status.success(), "{}", sent.stderr);
    assert_served_the_classic_stream(server, &fifo);
}

/// The lines the classic servers print for the classic stream.
fn classic_server_lines(ping: &str, end: &str) -> String {
    let mut lines = vec![ping; 100];
    lines.push(end);
    lines.join("\n")
}

#[test]
fn our_client_talks_to_the_classic_python_server_with_framing_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let Some(mut classic) = python3("classic_ping_server.py", &[&fifo]) else {
        return;
    };
    make_fifo(&fifo);
    let server = background(&mut classic);
    let sent =
        bounded("fifo-client", &mut client(&fifo, &["--framing", "read"]));
    assert!(sent.status.success(), "{}", sent.stderr);
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{stderr}");
    assert_eq!(out, classic_server_lines("b'ping'", "b'end'"));
    // The FIFO is the test's (as the readings' own mkfifo would make it):
    // our client never removes a FIFO it did not make.
    assert!(fifo.exists());
}

#[test]
fn our_client_talks_to_the_classic_shell_server_with_framing_read() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let server = background(&mut sh("classic_ping_server.sh", &[&fifo]));
    let sent =
        bounded("fifo-client", &mut client(&fifo, &["--framing", "read"]));
    assert!(sent.status.success(), "{}", sent.stderr);
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{stderr}");
    assert_eq!(out, classic_server_lines("ping", "end"));
}

/// Everything written into a FIFO by `writer` (given the FIFO's path as
/// "$1"), as `cat` reads it.
fn bytes_written_by(writer: &str) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let out = tmp.path().join("out");
    let script = format!(r#"cat "$1" > "$2" & {writer}; wait $!"#);
    let done = bounded(writer, &mut shell(&script, &[&fifo, &out]));
    assert!(done.status.success(), "{writer}: {}", done.stderr);
    std::fs::read(&out).unwrap()
}

#[test]
fn our_client_with_framing_read_writes_exactly_the_classic_bytes() {
    let ours = format!(r#""{CLIENT}" --path "$1" --framing read > /dev/null"#);
    assert_eq!(bytes_written_by(&ours), classic_bytes());
    let sh =
        format!(r#"sh "{}" "$1""#, classic("classic_ping_client.sh").display());
    assert_eq!(bytes_written_by(&sh), classic_bytes());
    if python3("classic_ping_client.py", &[]).is_some() {
        let py = format!(
            r#"python3 "{}" "$1""#,
            classic("classic_ping_client.py").display()
        );
        assert_eq!(bytes_written_by(&py), classic_bytes());
    }
}

#[test]
fn with_fixed_frames_the_classic_end_is_only_a_partial_message() {
    // Why --framing read exists: `end` is 3 bytes, not a 4-byte frame.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "fixed"]);
    server.wait_for("open(O_RDONLY)");
    let sent = bounded(
        "classic_ping_client.sh",
        &mut sh("classic_ping_client.sh", &[&fifo]),
    );
    assert!(sent.status.success(), "{}", sent.stderr);
    server.wait_for("end of file mid-message: got 3 of 4 bytes, \"end\"");
    // Still waiting for a client that says `end`: the C way, with its NUL.
    server.wait_for("waiting for the next client");
    bounded("printf", &mut one_write(&fifo, r"end\000"));
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("100 × \"ping\""), "{out}");
    assert_eq!(count(&out, "received \"end\""), 1, "{out}");
}

#[test]
fn one_write_of_pingping_is_two_messages_to_a_reader_of_4_bytes() {
    // The client means 3 messages "pingping"; reads of 4 bytes cut 6.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "read"]);
    server.wait_for("open(O_RDONLY)");
    let sent = bounded(
        "fifo-client --message pingping",
        &mut client(
            &fifo,
            &["--framing", "read", "--message", "pingping", "--count", "3"],
        ),
    );
    assert!(sent.status.success(), "{}", sent.stderr);
    assert!(
        sent.stdout.contains("8 bytes in one write, more than --size 4"),
        "{}",
        sent.stdout
    );
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("6 × \"ping\" (4 bytes)"), "{out}");
    assert!(out.contains("received 7 messages in all"), "{out}");
}

/// Writes `bytes` into the FIFO with one write, then closes it.
fn one_write(fifo: &Path, bytes: &str) -> Command {
    let script = format!(r#"printf '{bytes}' > "$1""#);
    shell(&script, &[fifo])
}

#[test]
fn a_message_longer_than_a_read_is_cut_and_end_never_comes() {
    // `hello` twice and `end`, in one write: reads of 4 bytes cut
    // hell|ohel|loen|d, and no read is `end`.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "read"]);
    server.wait_for("open(O_RDONLY)");
    let sent = bounded("printf", &mut one_write(&fifo, "hellohelloend"));
    assert!(sent.status.success(), "{}", sent.stderr);
    server.wait_for("every writer has closed the FIFO");
    // It did not stop: only an `end` read on its own stops it.
    server.wait_for("waiting for the next client");
    bounded("printf", &mut one_write(&fifo, "end"));
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    let cuts = ["\"hell\"", "\"ohel\"", "\"loen\"", "\"d\"", "\"end\""];
    let mut rest = &out[..];
    for cut in cuts {
        let at = rest.find(&format!("received {cut}"));
        let at = at.unwrap_or_else(|| panic!("no {cut} in order: {out}"));
        rest = &rest[at..];
    }
    assert!(out.contains("received 5 messages in all"), "{out}");
    assert!(!fifo.exists());
}

/// How many empty reads in a row prove a loop that will never end.
const SPINS: usize = 1000;

#[test]
fn the_classic_python_server_loops_for_ever_when_end_never_comes() {
    for (writes, first) in [
        // The client leaves before `end`.
        ("pingping", &["b'ping'", "b'ping'"][..]),
        // `end` is there, but not as one read of its own.
        ("hellohelloend", &["b'hell'", "b'ohel'", "b'loen'", "b'd'"][..]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let Some(mut classic) = python3("classic_ping_server.py", &[&fifo])
        else {
            return;
        };
        make_fifo(&fifo);
        let mut server = background(&mut classic);
        let sent = bounded("printf", &mut one_write(&fifo, writes));
        assert!(sent.status.success(), "{}", sent.stderr);
        let took = server.wait_for_lines("b''", SPINS);
        assert_eq!(&server.seen()[..first.len()], first, "{writes}");
        eprintln!("{writes}: {SPINS} empty reads in {took:.2?}");
        // Still running: it would print b'' for ever.
        server.signal(Signal::SIGKILL);
    }
}

#[test]
fn the_classic_shell_server_loops_for_ever_when_the_client_leaves() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let mut server = background(&mut sh("classic_ping_server.sh", &[&fifo]));
    bounded("printf", &mut one_write(&fifo, "pingping"));
    // Each empty read costs a dd: fewer spins prove it just as well.
    server.wait_for_lines("", 50);
    assert_eq!(&server.seen()[..2], ["ping", "ping"]);
    server.signal(Signal::SIGKILL);
}

#[test]
fn our_server_reports_end_of_file_once_and_serves_the_next_client() {
    // The same situation as above: a client gone before `end`.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "read"]);
    server.wait_for("open(O_RDONLY)");
    bounded("printf", &mut one_write(&fifo, "pingping"));
    server.wait_for("every writer has closed the FIFO");
    server.wait_for("waiting for the next client");
    let sent = bounded(
        "classic_ping_client.sh",
        &mut sh("classic_ping_client.sh", &[&fifo]),
    );
    assert!(sent.status.success(), "{}", sent.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("102 × \"ping\""), "{out}");
    assert!(out.contains("received 103 messages in all"), "{out}");
    // Once for the first client: no loop on end of file.
    assert_eq!(count(&out, "every writer has closed the FIFO"), 1, "{out}");
}

#[test]
fn the_classic_byte_reader_crashes_when_the_counter_writer_leaves() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let gap = Path::new("0.05");
    let (Some(mut reader), Some(mut writer)) = (
        python3("classic_byte_reader.py", &[&fifo]),
        python3("classic_counter_writer.py", &[&fifo, gap]),
    ) else {
        return;
    };
    make_fifo(&fifo);
    // Unbuffered, so that its lines come as it prints them.
    reader.env("PYTHONUNBUFFERED", "1");
    let mut reader = background(&mut reader);
    let writer = background(&mut writer);
    reader.wait_for("3");
    writer.signal(Signal::SIGKILL);
    let (status, out, stderr) = reader.finish();
    assert_eq!(status.code(), Some(1), "{out}");
    assert!(
        stderr.contains(
            "TypeError: ord() expected a character, \
             but string of length 0 found"
        ),
        "{stderr}"
    );
    // Every byte was read, in order, before the crash.
    let numbers: Vec<u32> = out.lines().map(|l| l.parse().unwrap()).collect();
    let expected: Vec<u32> = (0..numbers.len() as u32).collect();
    assert_eq!(numbers, expected);
    writer.finish();
}

#[test]
fn our_server_reads_the_counter_and_reports_its_end_of_file() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let framing = ["--framing", "read", "--size", "1", "--wait", "3"];
    let mut server = server(&fifo, &framing);
    server.wait_for("open(O_RDONLY)");
    let writer = background(&mut sh(
        "classic_counter_writer.sh",
        &[&fifo, Path::new("0.05")],
    ));
    server.wait_for("received \"\\u{3}\"");
    writer.signal(Signal::SIGKILL);
    writer.finish();
    server.wait_for("every writer has closed the FIFO");
    // No crash: end of file is reported, and the server waits for the
    // next writer until --wait runs out.
    let (status, out, stderr) = server.finish();
    assert_eq!(status.code(), Some(1), "{out}");
    assert_one_line(&stderr, "nothing for 3 s");
    assert!(out.contains("received \"\\0\" (message 1)"), "{out}");
    assert!(!fifo.exists());
}

#[test]
fn the_shell_byte_reader_loops_for_ever_when_the_counter_writer_leaves() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let mut reader = background(&mut sh("classic_byte_reader.sh", &[&fifo]));
    let writer = background(&mut sh(
        "classic_counter_writer.sh",
        &[&fifo, Path::new("0.05")],
    ));
    reader.wait_for("2");
    writer.signal(Signal::SIGKILL);
    writer.finish();
    // The shell's form of the bug: an empty line per empty read, for ever.
    reader.wait_for_lines("", 50);
    assert_eq!(&reader.seen()[..3], ["0", "1", "2"]);
    reader.signal(Signal::SIGKILL);
}
