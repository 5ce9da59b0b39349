//! Exercise 03 — a pipe nobody reads.
//!
//! Two small functions:
//!
//! - [`describe`] reads a raw wait status word, the number that C's
//!   `waitpid` stores, the way the `WIFEXITED`/`WTERMSIG` macros do.
//! - [`write_until_reader_leaves`] writes to a pipe and survives a reader
//!   that goes away: it stops at EPIPE and reports how many bytes got in.
//!
//! Lesson 03 (`cargo lab run 3`) shows both: a status word decoded bit by
//! bit, and a write that fails with EPIPE. Check your work with
//! `cargo lab check 3`; ask for a hint with `cargo lab hint 3`.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;

/// Describes a raw wait status word in words:
///
/// - `"exited with code N"` when the process ended by calling `exit(N)`
///   (e.g. `0x0300` is "exited with code 3");
/// - `"killed by signal N (NAME)"` when a signal ended it, NAME being the
///   signal's name as `nix::sys::signal::Signal` spells it (`13` is
///   "killed by signal 13 (SIGPIPE)"), or `unknown` for a number nix has no
///   name for.
///
/// The layout of the word (see `man 2 waitpid`): the low 7 bits hold the
/// number of the signal that killed the process, or 0 if none did; bit 7
/// (0x80) says whether it dumped core; and when no signal killed it, bits 8
/// to 15 hold its exit code. Decode the bits yourself, with `&` and `>>`.
/// (Stopped processes, whose low 7 bits are all ones, are never passed in.)
pub fn describe(raw_status: i32) -> String {
    // TODO: look at the low 7 bits first: 0 means the process exited.
    let _ = raw_status;
    todo!("describe")
}

/// What [`write_until_reader_leaves`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// How many bytes `write` accepted, in total, before writing stopped.
    pub bytes_written: usize,
    /// Why writing stopped early: `Some(Errno::EPIPE)` when the reader left
    /// (or any other error `write` returned); `None` when every byte of
    /// `data` was written.
    pub error: Option<Errno>,
}

/// Writes all of `data` to `fd` (the write end of a pipe), however many
/// `write` calls it takes, and stops when the reader goes away.
///
/// SIGPIPE is ignored in the calling process (Rust's default, which the
/// tests keep), so when no read end is open any more, `write` fails with
/// EPIPE instead of killing the process. Treat that as the end of the
/// conversation, not as a crash: stop writing and report how many bytes got
/// through and why you stopped. Never panic, never retry a failed write.
///
/// Remember that one `write` to a pipe may take only part of what you hand
/// it: it returns how many bytes it took.
pub fn write_until_reader_leaves(fd: BorrowedFd<'_>, data: &[u8]) -> Report {
    // TODO: call nix::unistd::write in a loop, counting the bytes it takes,
    // until all of `data` is written or it returns an error.
    let _ = (fd, data);
    todo!("write_until_reader_leaves")
}
