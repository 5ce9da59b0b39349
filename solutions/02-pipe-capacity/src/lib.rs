//! Exercise 02 — how much does a pipe hold: the reference solution.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::write;

/// Counts how many bytes the pipe behind `write_end` accepts before it is
/// full, and returns that count.
pub fn probe_capacity(write_end: BorrowedFd<'_>) -> nix::Result<usize> {
    let original =
        OFlag::from_bits_retain(fcntl(write_end, FcntlArg::F_GETFL)?);
    // Added: without O_NONBLOCK, the write that finds the pipe full waits
    // forever.
    fcntl(write_end, FcntlArg::F_SETFL(original | OFlag::O_NONBLOCK))?;
    let counted = fill(write_end);
    // Added: the flags go back as they were, whether the fill worked or not.
    fcntl(write_end, FcntlArg::F_SETFL(original))?;
    counted
}

/// Writes 1 byte at a time until EAGAIN: a larger write could leave part
/// of a page empty and count short.
fn fill(write_end: BorrowedFd<'_>) -> nix::Result<usize> {
    let mut count = 0;
    loop {
        match write(write_end, b"x") {
            Ok(written) => count += written,
            Err(Errno::EAGAIN) => return Ok(count),
            Err(errno) => return Err(errno),
        }
    }
}

/// Asks the kernel to resize the pipe behind `fd` to `bytes` bytes and
/// returns the size it granted.
#[cfg(target_os = "linux")]
pub fn resize(fd: BorrowedFd<'_>, bytes: usize) -> nix::Result<usize> {
    let bytes = i32::try_from(bytes).map_err(|_| Errno::EINVAL)?;
    // Added: F_SETPIPE_SZ returns the size granted, rounded up by the kernel.
    let granted = fcntl(fd, FcntlArg::F_SETPIPE_SZ(bytes))?;
    Ok(granted as usize)
}
