//! `--show pipe-buf`: a write of at most PIPE_BUF bytes is atomic.
//!
//! POSIX promises that a write of up to PIPE_BUF bytes to a pipe goes in
//! whole or not at all: it is never split, never interleaved with another
//! writer's bytes. Linux's PIPE_BUF is 4096. So into a pipe with 4095 bytes
//! free, a 4096-byte non-blocking write fails with EAGAIN and writes nothing;
//! a larger write carries no such promise and may go in partly. The write
//! that shows it is a page and 1 byte, whatever the page size (sysconf): on
//! Linux the odd byte can join the last page, the whole pages cannot.
//! Lesson 06 shows what atomicity is for: many writers on one pipe.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use labkit::Speaker::{Kernel, Note, Parent};
use labkit::{say, trace};
use nix::errno::Errno;
use nix::unistd::write;

use crate::pipe::{
    Outcome, capacity, checked, fd_number, new_pipe, set_nonblocking,
};

/// What POSIX calls PIPE_BUF: the largest write a pipe keeps whole.
const PIPE_BUF: usize = libc::PIPE_BUF;

pub fn show(page: usize) -> Outcome<()> {
    say!(Note, "PIPE_BUF is {PIPE_BUF}: a write of at most {PIPE_BUF} bytes");
    say!(Note, "goes in whole or not at all");
    // ANCHOR: atomic
    let (read_end, write_end) = almost_full_pipe()?;
    try_write(write_end.as_fd(), PIPE_BUF)?;
    try_write(write_end.as_fd(), PIPE_BUF - 1)?;
    // This pipe is full now and has taught its lesson: close both ends.
    drop((read_end, write_end));
    // ANCHOR_END: atomic

    // ANCHOR: split
    say!(Parent, "again, with a write larger than PIPE_BUF");
    let (read_end, write_end) = almost_full_pipe()?;
    try_write(write_end.as_fd(), page + 1)?;
    // Nobody reads these bytes: closing both ends discards them.
    drop((read_end, write_end));
    // ANCHOR_END: split
    say!(
        Note,
        "Up to PIPE_BUF, a write never goes in partly, so lines written by\n\
         several writers never mix. Above it the kernel may split a write:\n\
         of the {} bytes (a page and 1), it put the odd byte into the\n\
         last page, found no free page for the rest, and returned 1. The\n\
         caller must write the other {page} later.",
        page + 1
    );
    Ok(())
}

/// A fresh non-blocking pipe with PIPE_BUF - 1 bytes of its capacity free.
fn almost_full_pipe() -> Outcome<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = new_pipe()?;
    set_nonblocking(write_end.as_fd())?;
    let size = capacity(write_end.as_fd())?;
    let first = size - (PIPE_BUF - 1);
    let written = checked("write", write(&write_end, &vec![b'x'; first]))?;
    let free = size - written;
    say!(Parent, "filled a fresh {size}-byte pipe with {written} bytes:");
    say!(Parent, "{free} bytes are free");
    Ok((read_end, write_end))
}

/// Writes `length` bytes into the almost full pipe and reports what happened.
fn try_write(write_end: BorrowedFd<'_>, length: usize) -> Outcome<()> {
    let written = write(write_end, &vec![b'y'; length]);
    let call = format!("write({}, \"y...\", {length})", fd_number(write_end));
    trace(Parent, &call, &written);
    let what = format!("{length}-byte write into {} free bytes", PIPE_BUF - 1);
    match written {
        Err(Errno::EAGAIN) => {
            say!(Kernel, "{what}: -1 EAGAIN, nothing written")
        }
        Ok(taken) if taken == length => {
            say!(Kernel, "{what}: {taken} written, all of it")
        }
        Ok(taken) => say!(Kernel, "{what}: {taken} written, a partial write"),
        Err(errno) => return Err(format!("write: {errno}")),
    }
    Ok(())
}
