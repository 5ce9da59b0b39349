//! `--show blocking`: the classic one-byte-at-a-time writer.
//!
//! The parent writes 1 byte per `write` into an ordinary, blocking write
//! end. A reader child sleeps first, so the pipe fills and the parent's
//! write stops: it does not fail, it waits inside the kernel. Each time the
//! reader takes a page, the writer goes on for one page more and stops
//! again. The timestamps show the waits.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use labkit::Speaker::{Child, Kernel, Note, Parent};
use labkit::process::{Forked, exit_child, fork};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use nix::unistd::{alarm, read, write};

use crate::pipe::{Outcome, capacity, checked, fd_number, new_pipe};

/// The reader's sleep before its first read, while the writer fills the pipe.
const READER_FIRST_PAUSE: Duration = Duration::from_millis(1000);
/// ... and this long between reads, so each wait of the writer shows.
const READER_PAUSE: Duration = Duration::from_millis(500);
/// How many times the reader takes one page before it reads the rest.
const READER_DRAINS: usize = 3;
/// A write that took longer than this was waiting for room (a write that
/// finds room takes microseconds; the reader pauses far longer).
const BLOCKED: Duration = Duration::from_millis(250);
/// The watchdogs: no wait in this view may last longer.
const PATIENCE: Duration = Duration::from_secs(10);

pub fn show(page: usize) -> Outcome<()> {
    let (read_end, write_end) = new_pipe()?;
    let size = capacity(write_end.as_fd())?;
    let total = size + READER_DRAINS * page;
    say!(Parent, "a {size}-byte pipe (F_GETPIPE_SZ), its write end blocking:");
    say!(Parent, "I will write {total} bytes into it, 1 byte per write()");
    let first = READER_FIRST_PAUSE.as_secs_f64();
    let then = READER_PAUSE.as_secs_f64();
    say!(Parent, "my reader child sleeps {first:.1} s, reads {page} bytes");
    say!(Parent, "{READER_DRAINS} times {then:.1} s apart, then the rest");
    let start = Instant::now();
    // ANCHOR: fork-reader
    let reader = match checked_fork()? {
        Forked::Child => {
            // The reader never writes; with this copy open, it would never
            // see end of file.
            drop(write_end);
            let code = reader_drains(&read_end, page, start);
            exit_child(code);
        }
        Forked::Parent { child } => child,
    };
    // The child is the only reader now. Should it die, my writes fail with
    // EPIPE at once instead of waiting forever for room.
    drop(read_end);
    say!(Parent, "forked my reader, child {reader}");
    // ANCHOR_END: fork-reader

    // ANCHOR: blocking-writes
    // Watchdog: if a write stays blocked this long (a reader that never
    // reads), SIGALRM ends this program rather than leave it hanging.
    alarm::set(PATIENCE.as_secs() as u32);
    let written = write_byte_by_byte(&write_end, total, start);
    alarm::cancel();
    // ANCHOR_END: blocking-writes
    if written.is_ok() {
        say!(
            Parent,
            "{} wrote all {total} bytes; closing my write end",
            stamp(start)
        );
    }
    // The last write end: once it closes, the reader's read() returns 0.
    drop(write_end);

    // Reap the reader whatever happened to the writes: no zombie is left.
    match checked("waitpid", wait_for_child(reader, PATIENCE))? {
        Some(ended) => say!(
            Parent,
            "reaped my reader, child {reader}: {}",
            status::explain(&ended)
        ),
        None => {
            return Err(format!(
                "reader child {reader} still running after 10 s"
            ));
        }
    }
    written?;
    say!(
        Note,
        "A blocking write into a full pipe waits; it does not fail. The\n\
         writer stopped with the pipe holding {size} bytes, and each page\n\
         the reader took let exactly one page more in."
    );
    Ok(())
}

// ANCHOR: writer
/// Writes `total` bytes, 1 per `write`, into a blocking write end. A call
/// cannot report that it is blocked while it is; it is timed instead, and
/// one that took long was waiting for the reader to make room.
fn write_byte_by_byte(
    write_end: &OwnedFd,
    total: usize,
    start: Instant,
) -> Outcome<()> {
    say!(Parent, "{} writing", stamp(start));
    for written in 0..total {
        let before = Instant::now();
        let wrote = write(write_end, b"x");
        let waited = before.elapsed();
        if waited > BLOCKED {
            let call = format!("write({}, \"x\", 1)", fd_number(write_end));
            trace(Parent, &call, &wrote);
            let (now, secs) = (stamp(start), waited.as_secs_f64());
            say!(
                Parent,
                "{now} write() was blocked {secs:.2} s after {written}"
            );
            say!(Parent, "bytes; it went on when the reader made room");
        }
        checked("write", wrote)?;
    }
    Ok(())
}
// ANCHOR_END: writer

/// `fork`, with its error in words.
fn checked_fork() -> Outcome<Forked> {
    fork().map_err(|error| format!("fork: {error}"))
}

// ANCHOR: reader
/// The reader child: sleep, take one page at a time, then read to end of file.
/// Returns its exit code. It speaks before each read, never after: its next
/// words come a pause later, so its lines and the writer's never race.
fn reader_drains(read_end: &OwnedFd, page: usize, start: Instant) -> i32 {
    std::thread::sleep(READER_FIRST_PAUSE);
    let mut got = 0;
    for _ in 0..READER_DRAINS {
        say!(Child, "{} reading {page} bytes", stamp(start));
        match read_some(read_end, page) {
            Some(taken) => got += taken,
            None => return 1,
        }
        std::thread::sleep(READER_PAUSE);
    }
    say!(Child, "{} reading the rest until end of file", stamp(start));
    loop {
        match read_some(read_end, 64 * 1024) {
            Some(0) => break,
            Some(taken) => got += taken,
            None => return 1,
        }
    }
    say!(
        Kernel,
        "read() returned 0, end of file: the reader got {got} bytes in all"
    );
    0
}
// ANCHOR_END: reader

/// One read of at most `limit` bytes, bounded by the watchdog. None when it
/// failed or when nothing came in time (said on stderr).
fn read_some(read_end: &OwnedFd, limit: usize) -> Option<usize> {
    match wait_readable(read_end.as_fd(), PATIENCE) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("reader: nothing to read for 10 s");
            return None;
        }
        Err(errno) => {
            eprintln!("reader: poll: {errno}");
            return None;
        }
    }
    let mut buffer = vec![0; limit];
    match read(read_end, &mut buffer) {
        Ok(taken) => Some(taken),
        Err(errno) => {
            eprintln!("reader: read: {errno}");
            None
        }
    }
}

/// Seconds since the start of the experiment, as "t=1.002 s".
fn stamp(start: Instant) -> String {
    format!("t={:.3} s", start.elapsed().as_secs_f64())
}
