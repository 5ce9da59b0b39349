//! Exercise 02 — how much does a pipe hold?
//!
//! Complete [`probe_capacity`]: fill a pipe that nobody reads, through a
//! non-blocking write end, until the kernel says EAGAIN, and count the bytes.
//! Then complete [`resize`]: ask the kernel for a pipe of another size and
//! report the size it granted. Lesson 02 (`cargo lab run 2`) does both and
//! narrates every step; its chapter in the book explains them.
//!
//! Check your work with `cargo lab check 2`; ask for a hint with
//! `cargo lab hint 2`.

use std::os::fd::BorrowedFd;

/// Counts how many bytes the pipe behind `write_end` accepts before it is
/// full, and returns that count. Nobody reads the pipe while you write:
/// every byte you write stays in it.
///
/// Rules:
/// - Read the descriptor's flags with `fcntl(F_GETFL)` and add
///   `OFlag::O_NONBLOCK` with `fcntl(F_SETFL)` (module `nix::fcntl`): on a
///   blocking write end, the write that finds the pipe full waits for a
///   reader, here forever.
/// - Write until `write` fails with `Errno::EAGAIN`; count every byte that
///   `write` reports as written. Any other error is returned.
/// - Before returning, give the descriptor back its flags exactly as they
///   were: it may have been non-blocking already, and must stay so then.
/// - The count must match what `fcntl(F_GETPIPE_SZ)` reports for an empty
///   pipe, whatever the pipe's size.
pub fn probe_capacity(write_end: BorrowedFd<'_>) -> nix::Result<usize> {
    // TODO: set O_NONBLOCK, write until EAGAIN counting the bytes, restore the
    // flags.
    let _ = write_end;
    todo!("probe_capacity")
}

/// Asks the kernel to resize the pipe behind `fd` to `bytes` bytes with
/// `fcntl(F_SETPIPE_SZ)` (Linux only) and returns the size the kernel
/// granted, which may be larger than asked.
///
/// Rules:
/// - `bytes` that do not fit a C `int` are refused with `Errno::EINVAL`.
/// - The kernel's refusal (EPERM above /proc/sys/fs/pipe-max-size without
///   CAP_SYS_RESOURCE, EBUSY when the pipe holds more than the new size) is
///   returned as it is.
#[cfg(target_os = "linux")]
pub fn resize(fd: BorrowedFd<'_>, bytes: usize) -> nix::Result<usize> {
    // TODO: fcntl(fd, FcntlArg::F_SETPIPE_SZ(..)) and return what it granted.
    let _ = (fd, bytes);
    todo!("resize")
}
