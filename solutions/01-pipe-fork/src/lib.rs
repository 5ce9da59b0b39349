//! Exercise 01 — a pipe between parent and child: the reference solution.

use std::os::fd::OwnedFd;

use labkit::process::{Forked, exit_child, fork};
use nix::fcntl::OFlag;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{pipe2, read, write};

/// What the parent got: every byte the child wrote, and how the child ended.
#[derive(Debug)]
pub struct Delivery {
    /// The bytes the parent read from the pipe, in order.
    pub received: Vec<u8>,
    /// The child's status as `waitpid` reported it.
    pub child: WaitStatus,
}

/// Forks a child that writes each of `messages` into a pipe, one `write` per
/// message, and then exits with `child_exit_code`. The parent reads until end
/// of file, reaps the child, and returns what it read and how the child
/// ended.
pub fn send_through_pipe(
    messages: &[&[u8]],
    child_exit_code: i32,
) -> nix::Result<Delivery> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let fork_result = fork().map_err(|_| nix::Error::EAGAIN)?;
    match fork_result {
        Forked::Child => {
            // The child never reads.
            drop(read_end);
            let code = match write_all(&write_end, messages) {
                Ok(()) => child_exit_code,
                Err(_) => 1,
            };
            // Added: exit, never return, in the child (closing the write end on
            // the way).
            exit_child(code)
        }
        Forked::Parent { child } => {
            // Added: the parent's own write end would keep end of file from
            // coming.
            drop(write_end);
            let received = read_to_end(&read_end)?;
            drop(read_end);
            let status = waitpid(child, None)?;
            Ok(Delivery { received, child: status })
        }
    }
}

/// Writes each message in full; a `write` to a pipe may take only part of it.
fn write_all(write_end: &OwnedFd, messages: &[&[u8]]) -> nix::Result<()> {
    for message in messages {
        let mut rest = *message;
        while !rest.is_empty() {
            let written = write(write_end, rest)?;
            rest = &rest[written..];
        }
    }
    Ok(())
}

/// Reads until `read` returns 0: end of file, every write end closed.
fn read_to_end(read_end: &OwnedFd) -> nix::Result<Vec<u8>> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match read(read_end, &mut buffer)? {
            0 => return Ok(received),
            n => received.extend_from_slice(&buffer[..n]),
        }
    }
}
