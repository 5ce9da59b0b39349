//! The lesson's system calls alone, with no narration: `--bare`. The
//! chapter's first listing; `main.rs` makes the same calls and narrates.

use std::io;

use labkit::process::{Forked, exit_child, fork};
use nix::fcntl::OFlag;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{pipe2, read, write};

// ANCHOR: bare
/// A child writes `messages` into a pipe; the parent reads until end of
/// file, then reaps the child. Returns the bytes read and the child's status.
pub fn run(messages: &[String]) -> io::Result<(Vec<u8>, WaitStatus)> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let child = match fork()? {
        Forked::Child => {
            drop(read_end); // the child only writes
            for message in messages {
                if write(&write_end, message.as_bytes()).is_err() {
                    exit_child(1);
                }
            }
            drop(write_end); // the last write end: the parent will see EOF
            exit_child(0); // _exit: never return into the parent's code
        }
        Forked::Parent { child } => child,
    };
    drop(write_end); // the parent's copy: without this, no EOF ever comes
    let mut received = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        match read(&read_end, &mut buffer)? {
            0 => break, // end of file: no write end is open anywhere
            n => received.extend_from_slice(&buffer[..n]),
        }
    }
    let status = waitpid(child, None)?; // read first, then reap
    Ok((received, status))
}
// ANCHOR_END: bare
