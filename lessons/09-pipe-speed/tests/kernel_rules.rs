//! The kernel's rules that lesson 09's chapter states and its measurements
//! lean on, checked on this machine's kernel with descriptors of the
//! test's own: how a socketpair's writer learns that its reader has gone
//! (EPIPE, or ECONNRESET when the reader left data unread), and that
//! vmsplice and splice move a pipe's pages. (Who may grow a pipe to 1 MiB
//! is lesson 02's, and asserted there.)
#![cfg(target_os = "linux")]

use std::io::{IoSlice, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use labkit::watchdog::wait_readable;
use nix::errno::Errno;
use nix::fcntl::{OFlag, SpliceFFlags, splice, vmsplice};
use nix::unistd::{pipe2, read};

/// Generous: the tests share two busy cores.
const LIMIT: Duration = Duration::from_secs(30);

/// The errno of a failed socket call, or a failure naming what succeeded.
#[track_caller]
fn errno_of<T: std::fmt::Debug>(result: std::io::Result<T>) -> Errno {
    match result {
        Ok(value) => panic!("expected an error, the call returned {value:?}"),
        Err(error) => Errno::from_raw(error.raw_os_error().expect("an errno")),
    }
}

/// A read of `socket` that cannot wait longer than [`LIMIT`].
fn bounded_read(socket: &mut UnixStream) -> std::io::Result<usize> {
    let ready = wait_readable(socket.as_fd(), LIMIT).expect("poll");
    assert!(ready, "the socket said nothing within {LIMIT:?}");
    socket.read(&mut [0u8; 64])
}

#[test]
fn a_write_to_a_socketpair_whose_reader_has_gone_fails_with_epipe() {
    // As with a pipe. Rust ignores SIGPIPE, so the write fails instead of
    // killing the test.
    let (mut writer, reader) = UnixStream::pair().expect("socketpair");
    drop(reader);
    assert_eq!(errno_of(writer.write(b"hello")), Errno::EPIPE);
    assert_eq!(
        bounded_read(&mut writer).expect("a read after a clean close"),
        0,
        "the reader took everything before it left: end of file, no reset"
    );
}

#[test]
fn a_reader_that_leaves_data_unread_resets_the_socketpair() {
    // Unlike a pipe, a socket remembers that bytes were thrown away: the
    // writer's next write fails with EPIPE, and its next read with
    // ECONNRESET, where a clean close gives end of file.
    let (mut writer, reader) = UnixStream::pair().expect("socketpair");
    writer.write_all(b"never read").expect("write");
    drop(reader);
    assert_eq!(errno_of(writer.write(b"more")), Errno::EPIPE);
    assert_eq!(errno_of(bounded_read(&mut writer)), Errno::ECONNRESET);
}

/// A writer fills a socketpair that nobody reads, and sleeps in its next
/// write(); then the reader closes. Returns what that write failed with.
fn error_of_a_waiting_writer_when_its_reader_leaves() -> Errno {
    let (writer, reader) = UnixStream::pair().expect("socketpair");
    let written = Arc::new(AtomicUsize::new(0));
    let (report, outcome) = mpsc::channel();
    let counted = Arc::clone(&written);
    std::thread::spawn(move || {
        let mut writer = writer;
        let chunk = [b'x'; 1024];
        loop {
            match writer.write(&chunk) {
                Ok(n) => counted.fetch_add(n, Ordering::SeqCst),
                Err(error) => return report.send(error),
            };
        }
    });
    // The socket is full when the count stops growing: the writer is
    // asleep in its next write().
    let deadline = Instant::now() + LIMIT;
    let mut last = usize::MAX;
    while written.load(Ordering::SeqCst) != last {
        assert!(Instant::now() < deadline, "the socketpair never filled up");
        last = written.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(reader);
    let error = outcome.recv_timeout(LIMIT).unwrap_or_else(|_| {
        panic!("the writer's write() still waits after its reader left")
    });
    Errno::from_raw(error.raw_os_error().expect("an errno"))
}

#[test]
fn a_writer_waiting_when_its_reader_leaves_data_unread_gets_econnreset() {
    // The case the chapter warns of: a writer asleep in write() on a full
    // socketpair, and the reader closes without reading. That write fails
    // with ECONNRESET, not EPIPE. A writer that the scheduler kept away
    // for the whole wait above was not yet asleep in write(), and gets
    // the EPIPE of a later write: so a few tries.
    let mut seen = Vec::new();
    for _ in 0..3 {
        match error_of_a_waiting_writer_when_its_reader_leaves() {
            Errno::ECONNRESET => return,
            Errno::EPIPE => seen.push(Errno::EPIPE),
            other => panic!("a write whose reader left failed with {other}"),
        }
    }
    panic!("3 waiting writers, and none got ECONNRESET: {seen:?}");
}

#[test]
fn vmsplice_lends_pages_to_a_pipe_and_splice_moves_them_on() {
    // The zero-copy path of the lesson: vmsplice the writer's buffer into
    // one pipe, splice it into a second pipe (in the lesson, into
    // /dev/null), and the bytes read at the end are the buffer's. Every
    // call is non-blocking: a pipe that cannot take them fails, never
    // waits.
    let flags = OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
    let (first_read, first_write) = pipe2(flags).expect("pipe2");
    let (second_read, second_write) = pipe2(flags).expect("pipe2");
    let buffer: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let lent = vmsplice(
        &first_write,
        &[IoSlice::new(&buffer)],
        SpliceFFlags::SPLICE_F_NONBLOCK,
    )
    .expect("vmsplice into a pipe");
    assert_eq!(lent, buffer.len(), "an empty pipe takes 4096 bytes whole");
    let moved = splice(
        &first_read,
        None,
        &second_write,
        None,
        lent,
        SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK,
    )
    .expect("splice from one pipe to another");
    assert_eq!(moved, lent);
    let mut received = vec![0u8; buffer.len() + 1];
    let n = read(&second_read, &mut received).expect("read the second pipe");
    assert_eq!(&received[..n], &buffer[..], "the bytes vmsplice lent");
    assert_eq!(
        read(&first_read, &mut received),
        Err(Errno::EAGAIN),
        "splice moved the pages out: the first pipe is empty"
    );
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    vmsplice(&first_write, &[IoSlice::new(&buffer)], SpliceFFlags::empty())
        .expect("vmsplice again");
    let to_null = splice(
        &first_read,
        None,
        &null,
        None,
        buffer.len(),
        SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK,
    )
    .expect("splice into /dev/null, as the lesson's reader does");
    assert_eq!(to_null, buffer.len());
}
