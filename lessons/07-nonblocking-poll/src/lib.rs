//! Lesson 07: what the programs `nonblocking`, `poll-server` and
//! `poll-demo` share. Nothing here is the lesson itself: it is the small
//! print that would distract from it.
//!
//! - [`read_or_poll`]: the lesson's calls with nothing around them: a
//!   non-blocking read, and poll() when it says EAGAIN.
//! - [`set_nonblocking`]: turn `O_NONBLOCK` on or off on an open
//!   descriptor, keeping its other file status flags.
//! - [`Lines`]: cut newline-terminated messages out of a byte stream, which
//!   a read hands over in pieces of any size.
//! - [`poll_names`]: poll()'s event flags as C spells them; [`plural`].

use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::read;

// ANCHOR: bare
/// Reads from a non-blocking pipe or FIFO: `Some(n)` bytes, or `None` at
/// end of file. While it is empty and a writer is open, sleeps in poll()
/// for at most `patience` each time (ETIMEDOUT if nothing came).
pub fn read_or_poll(
    fd: impl AsFd,
    buffer: &mut [u8],
    patience: PollTimeout,
) -> nix::Result<Option<usize>> {
    loop {
        match read(&fd, buffer) {
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(n)),
            Err(Errno::EAGAIN) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                if poll(&mut fds, patience)? == 0 {
                    return Err(Errno::ETIMEDOUT);
                }
            }
            Err(errno) => return Err(errno),
        }
    }
}
// ANCHOR_END: bare

/// Turns `O_NONBLOCK` on or off, keeping the other file status flags.
/// The flag belongs to the open file description, not to the name: every
/// descriptor that shares it (a `dup`, a child's copy) changes too.
pub fn set_nonblocking(fd: impl AsFd, on: bool) -> nix::Result<()> {
    let flags = OFlag::from_bits_retain(fcntl(&fd, FcntlArg::F_GETFL)?);
    let flags =
        if on { flags | OFlag::O_NONBLOCK } else { flags - OFlag::O_NONBLOCK };
    fcntl(&fd, FcntlArg::F_SETFL(flags)).map(drop)
}

/// Newline-terminated messages cut out of a byte stream.
#[derive(Debug, Default)]
pub struct Lines {
    pending: Vec<u8>,
}

impl Lines {
    /// Adds the bytes of one read; returns every message now complete,
    /// without its newline. An unfinished message waits for the next read.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=at).collect();
            let text = String::from_utf8_lossy(&line[..at]).into_owned();
            messages.push(text);
        }
        messages
    }

    /// The bytes of a message not finished yet (a writer left mid-line).
    pub fn partial(&self) -> &[u8] {
        &self.pending
    }
}

/// "1 FIFO", "3 FIFOs": a count and its noun, in the right number.
pub fn plural(count: impl Into<u64>, noun: &str) -> String {
    match count.into() {
        1 => format!("1 {noun}"),
        count => format!("{count} {noun}s"),
    }
}

/// poll()'s flags by their C names, as strace shows them: "POLLIN|POLLHUP".
pub fn poll_names(events: PollFlags) -> String {
    let names: Vec<&str> = events.iter_names().map(|(name, _)| name).collect();
    names.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_split_across_reads_comes_out_whole() {
        let mut lines = Lines::default();
        assert!(lines.push(b"hel").is_empty());
        assert_eq!(lines.push(b"lo\nwor"), ["hello"]);
        assert_eq!(lines.partial(), b"wor");
        assert_eq!(lines.push(b"ld\n\n"), ["world", ""]);
        assert!(lines.partial().is_empty());
    }
}
