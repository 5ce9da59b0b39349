//! Closing before reopening: a reader that reopens its FIFO after end of
//! file must open the new descriptor before it closes the old one. A client
//! that opens, writes and leaves while the old descriptor is the only one
//! has its bytes in the FIFO's buffer; closing that last descriptor frees
//! the buffer with them, and a blocking reopen then waits for the next
//! writer. Opened first, the new descriptor keeps the buffer alive.
//!
//! Shown with real processes and a fixed order of events: a Python reader
//! that reopens either way, told when to reopen by SIGUSR1, and fifo-server
//! itself, stopped with SIGSTOP while it reopens. The clients are the shell.

mod common;

use std::path::Path;

use common::*;
use nix::sys::signal::Signal;

/// `python3 reopening_reader.py FIFO ORDER` in the background, after the
/// first client (`echo first`) has come and gone; None where there is no
/// python3.
fn reader_after_a_first_client(fifo: &Path, order: &str) -> Option<Background> {
    let mut command =
        python3("reopening_reader.py", &[fifo, Path::new(order)])?;
    make_fifo(fifo);
    let mut reader = background(&mut command);
    let first =
        bounded("echo first", &mut shell(r#"echo first > "$1""#, &[fifo]));
    assert!(first.status.success(), "{}", first.stderr);
    reader.wait_for(r"first descriptor read b'first\n'");
    reader.wait_for("end of file: holding the old descriptor");
    Some(reader)
}

/// A late client: it opens while the reader holds only its old descriptor
/// (so its open does not wait), writes `bytes`, and leaves.
fn late_client(fifo: &Path, bytes: &str) {
    let script = format!(r#"printf '{bytes}' > "$1""#);
    let late = bounded("the late client", &mut shell(&script, &[fifo]));
    assert!(late.status.success(), "{}", late.stderr);
}

#[test]
fn a_reader_that_closes_before_reopening_loses_a_late_clients_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let Some(mut reader) = reader_after_a_first_client(&fifo, "close-first")
    else {
        return;
    };
    late_client(&fifo, r"late\n");
    reader.signal(Signal::SIGUSR1);
    reader.wait_for("closed the old descriptor; open(O_RDONLY) waits");
    // The blocking reopen waits for a new writer: give it one.
    let next =
        bounded("echo next", &mut shell(r#"echo next > "$1""#, &[&fifo]));
    assert!(next.status.success(), "{}", next.stderr);
    let (status, out, stderr) = reader.finish();
    assert!(status.success(), "{stderr}");
    assert!(
        out.contains(r"second descriptor read b'next\n'"),
        "the late client's bytes went with the freed buffer:\n{out}"
    );
}

#[test]
fn a_reader_that_opens_before_closing_keeps_a_late_clients_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let Some(reader) = reader_after_a_first_client(&fifo, "open-first") else {
        return;
    };
    late_client(&fifo, r"late\n");
    reader.signal(Signal::SIGUSR1);
    let (status, out, stderr) = reader.finish();
    assert!(status.success(), "{stderr}");
    assert!(out.contains(r"second descriptor read b'late\n'"), "{out}");
}

#[test]
fn fifo_server_keeps_the_bytes_of_a_client_that_came_while_it_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    let first =
        bounded("echo first", &mut shell(r#"echo first > "$1""#, &[&fifo]));
    assert!(first.status.success(), "{}", first.stderr);
    // Stopped here, the server has either not reopened yet (it holds the
    // old descriptor) or has reopened: a reader exists either way, so the
    // late client's open does not wait, and its bytes must not be lost.
    server.wait_for("waiting for the next client");
    server.signal(Signal::SIGSTOP);
    late_client(&fifo, r"late\nend\n");
    server.signal(Signal::SIGCONT);
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{out}\n{stderr}");
    assert!(out.contains("received \"late\""), "{out}");
    assert!(out.contains("received \"end\""), "{out}");
}
