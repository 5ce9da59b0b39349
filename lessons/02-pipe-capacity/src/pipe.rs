//! The system calls every view makes on a pipe, each one checked (its name
//! goes into the error) and shown with `--trace`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use labkit::Speaker::Parent;
use labkit::trace;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{SysconfVar, pipe2, sysconf, write};

/// A failed step, already in words: "fcntl(F_GETFL): EBADF: Bad file
/// descriptor".
pub type Outcome<T> = Result<T, String>;

/// Puts the name of the call into its error, as `perror("pipe2")` would.
pub fn checked<T>(call: &str, result: nix::Result<T>) -> Outcome<T> {
    result.map_err(|errno| format!("{call}: {errno}"))
}

/// The number of a file descriptor, for narration.
pub fn fd_number(fd: impl AsFd) -> i32 {
    fd.as_fd().as_raw_fd()
}

/// A fresh, empty pipe: (read end, write end), both close-on-exec.
pub fn new_pipe() -> Outcome<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = checked("pipe2", pipe2(OFlag::O_CLOEXEC))?;
    let call = format!(
        "pipe2([{}, {}], O_CLOEXEC)",
        fd_number(&read_end),
        fd_number(&write_end)
    );
    trace(Parent, &call, &Ok::<_, Errno>(0));
    Ok((read_end, write_end))
}

/// The size of a memory page: the unit a pipe's buffer is made of.
pub fn page_size() -> Outcome<usize> {
    match checked("sysconf(_SC_PAGE_SIZE)", sysconf(SysconfVar::PAGE_SIZE))? {
        Some(bytes) if bytes > 0 => Ok(bytes as usize),
        _ => Err("sysconf(_SC_PAGE_SIZE): no page size reported".to_string()),
    }
}

// ANCHOR: nonblocking
/// Adds O_NONBLOCK to the descriptor's flags: from now on a write that
/// cannot proceed fails with EAGAIN instead of waiting. Returns the flags as
/// they were, for [`restore_flags`].
pub fn set_nonblocking(fd: BorrowedFd<'_>) -> Outcome<OFlag> {
    let got = fcntl(fd, FcntlArg::F_GETFL);
    trace!(Parent, &got, "fcntl({}, F_GETFL)", fd_number(fd));
    let original = OFlag::from_bits_retain(checked("fcntl(F_GETFL)", got)?);
    let set = fcntl(fd, FcntlArg::F_SETFL(original | OFlag::O_NONBLOCK));
    trace!(Parent, &set, "fcntl({}, F_SETFL, O_NONBLOCK)", fd_number(fd));
    checked("fcntl(F_SETFL)", set)?;
    Ok(original)
}
// ANCHOR_END: nonblocking

/// Puts back the flags [`set_nonblocking`] returned.
pub fn restore_flags(fd: BorrowedFd<'_>, original: OFlag) -> Outcome<()> {
    let set = fcntl(fd, FcntlArg::F_SETFL(original));
    trace!(
        Parent,
        &set,
        "fcntl({}, F_SETFL, {:#o})",
        fd_number(fd),
        original.bits()
    );
    checked("fcntl(F_SETFL)", set).map(drop)
}

// ANCHOR: getpipe
/// `fcntl(F_GETPIPE_SZ)`: the capacity of the pipe, as the kernel counts it.
#[cfg(target_os = "linux")]
pub fn capacity(fd: BorrowedFd<'_>) -> Outcome<usize> {
    let got = fcntl(fd, FcntlArg::F_GETPIPE_SZ);
    trace!(Parent, &got, "fcntl({}, F_GETPIPE_SZ)", fd_number(fd));
    Ok(checked("fcntl(F_GETPIPE_SZ)", got)? as usize)
}
// ANCHOR_END: getpipe

/// Other systems have no call that tells a pipe's size: only a probe can.
#[cfg(not(target_os = "linux"))]
pub fn capacity(_fd: BorrowedFd<'_>) -> Outcome<usize> {
    Err("fcntl(F_GETPIPE_SZ) exists only on Linux".to_string())
}

/// `fcntl(F_SETPIPE_SZ, bytes)`: asks for a new capacity and returns the one
/// granted. The error stays an `Errno`, because EPERM needs explaining.
#[cfg(target_os = "linux")]
pub fn set_capacity(fd: BorrowedFd<'_>, bytes: i32) -> nix::Result<usize> {
    let granted = fcntl(fd, FcntlArg::F_SETPIPE_SZ(bytes));
    let call = format!("fcntl({}, F_SETPIPE_SZ, {bytes})", fd_number(fd));
    trace(Parent, &call, &granted);
    granted.map(|bytes| bytes as usize)
}

/// Other systems cannot resize a pipe at all.
#[cfg(not(target_os = "linux"))]
pub fn set_capacity(_fd: BorrowedFd<'_>, _bytes: i32) -> nix::Result<usize> {
    Err(Errno::ENOSYS)
}

/// What filling a pipe came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filled {
    /// Bytes the kernel accepted, counting what short writes took.
    pub bytes: usize,
    /// Successful `write` calls.
    pub writes: usize,
    /// Writes that took less than they were given.
    pub short_writes: usize,
}

// ANCHOR: fill
/// Writes `chunk` bytes at a time into a *non-blocking* write end until the
/// kernel answers EAGAIN (the pipe is full), and counts what it took.
/// `after_write` hears the running total after every write.
pub fn fill(
    write_end: BorrowedFd<'_>,
    chunk: usize,
    mut after_write: impl FnMut(usize),
) -> Outcome<Filled> {
    let data = vec![b'x'; chunk];
    let mut filled = Filled { bytes: 0, writes: 0, short_writes: 0 };
    loop {
        let written = write(write_end, &data);
        // Thousands of writes look alike: trace the first one and the last.
        if filled.writes == 0 || written.is_err() {
            let call =
                format!("write({}, \"x...\", {chunk})", fd_number(write_end));
            trace(Parent, &call, &written);
        }
        match written {
            Ok(taken) => {
                filled.bytes += taken;
                filled.writes += 1;
                if taken < chunk {
                    filled.short_writes += 1;
                }
                after_write(filled.bytes);
            }
            // Full: on a blocking descriptor, this write would wait here
            // until a reader made room. Nobody reads this pipe: forever.
            Err(Errno::EAGAIN) => return Ok(filled),
            Err(errno) => return Err(format!("write: {errno}")),
        }
    }
}
// ANCHOR_END: fill
