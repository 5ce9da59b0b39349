//! `--show bare`: the probe and a resize with nothing but the system calls,
//! no narration. The chapter's first listing; the other files make the same
//! calls, narrated and traced.

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{pipe2, write};

/// A resize request the kernel must round up: 100000 bytes is not a
/// power-of-two number of pages on any page size.
pub const REQUEST: i32 = 100_000;

/// What the bare calls found, in bytes.
pub struct Found {
    /// Bytes a fresh pipe took, 1 per write, before EAGAIN.
    pub probed: usize,
    /// What fcntl(F_GETPIPE_SZ) reports for the same pipe.
    pub reported: usize,
    /// What fcntl(F_SETPIPE_SZ, REQUEST) granted on a second fresh pipe.
    pub granted: usize,
}

// ANCHOR: bare
/// Fills a pipe nobody reads, asks the kernel its size, then resizes another.
#[cfg(target_os = "linux")]
pub fn run() -> nix::Result<Found> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let flags = OFlag::from_bits_retain(fcntl(&write_end, FcntlArg::F_GETFL)?);
    fcntl(&write_end, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    let mut probed = 0;
    loop {
        match write(&write_end, b"x") {
            Ok(taken) => probed += taken,
            Err(Errno::EAGAIN) => break, // full: a blocking write would wait
            Err(errno) => return Err(errno),
        }
    }
    fcntl(&write_end, FcntlArg::F_SETFL(flags))?; // as it was: blocking
    let reported = fcntl(&write_end, FcntlArg::F_GETPIPE_SZ)? as usize;
    drop((read_end, write_end)); // frees the pipe and the bytes nobody read

    // A fresh pipe: shrinking one below the pages its bytes occupy is EBUSY.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let granted = fcntl(&write_end, FcntlArg::F_SETPIPE_SZ(REQUEST))? as usize;
    drop((read_end, write_end)); // done: closing both ends frees its pages
    Ok(Found { probed, reported, granted })
}
// ANCHOR_END: bare

/// Other systems have neither F_GETPIPE_SZ nor F_SETPIPE_SZ.
#[cfg(not(target_os = "linux"))]
pub fn run() -> nix::Result<Found> {
    Err(Errno::ENOSYS)
}
