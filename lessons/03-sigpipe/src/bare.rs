//! `--bare`: a write into a pipe with no reader, with nothing but the system
//! calls, no narration. The chapter's first listing; closed_pipe.rs makes
//! the same calls, narrated and traced.

use std::io;

use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{pipe2, write};

// ANCHOR: bare
/// A child writes into a pipe with no read end left, SIGPIPE set as
/// `disposition` says. It exits 0 if write() failed with EPIPE, 1 otherwise;
/// the kernel may kill it first. Returns the child's status.
pub fn run(disposition: Disposition) -> io::Result<WaitStatus> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    drop(read_end); // the only read end: from now on the pipe has no reader
    let child = match fork()? {
        Forked::Child => {
            if set_disposition(Signal::SIGPIPE, disposition).is_err() {
                exit_child(2);
            }
            // SIG_DFL: the kernel kills the child inside this write.
            let written = write(&write_end, b"hello?\n");
            exit_child(if written == Err(Errno::EPIPE) { 0 } else { 1 });
        }
        Forked::Parent { child } => child,
    };
    drop(write_end); // the parent never writes
    Ok(waitpid(child, None)?)
}
// ANCHOR_END: bare
