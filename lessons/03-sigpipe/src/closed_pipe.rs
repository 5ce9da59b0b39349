//! Lesson 03, the demo's two runs: a child writes into a pipe whose last
//! read end its parent has closed, once with SIGPIPE at its default action
//! and once with SIGPIPE ignored; the parent gets back a status word.

use std::error::Error;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use labkit::Speaker::{Child, Kernel, Parent};
use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use labkit::raw_status::wait_for_raw_status;
use labkit::{say, trace};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::unistd::{Pid, pipe2, write};

use crate::sigpipe_in_proc;

/// How long a child waits for the parent to close its read end, and the
/// parent for the child to end: both take milliseconds unless something is
/// wrong.
const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: parent
/// Makes a pipe and forks a child that writes into it once the parent has
/// closed the last read end. Returns the child's pid and its status word.
pub fn writer_meets_closed_pipe(
    disposition: Disposition,
) -> Result<(Pid, i32), Box<dyn Error>> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let (r, w) = (read_end.as_raw_fd(), write_end.as_raw_fd());
    trace!(Parent, &Ok::<_, Errno>(0), "pipe2([{r}, {w}], O_CLOEXEC)");
    say!(Parent, "made a pipe: read end fd {r}, write end fd {w}");
    let child = match fork()? {
        Forked::Child => child_writes(read_end, write_end, disposition),
        Forked::Parent { child } => child,
    };
    // The parent never writes: the child's write end is the one that matters.
    drop(write_end);
    say!(Parent, "forked child {child}; closing my read end, the last one:");
    say!(Parent, "nobody can read now");
    // The child closed its copy first thing, so this is the last read end:
    // from here on the pipe has no reader, and never will again.
    drop(read_end);

    let raw = wait_for_raw_status(child, PATIENCE)?.ok_or_else(|| {
        format!("child {child} was still running after {PATIENCE:?}")
    })?;
    trace!(
        Parent,
        &Ok::<_, Errno>(child),
        "waitpid({child}, [{raw:#06x}], WNOHANG)"
    );
    Ok((child, raw))
}
// ANCHOR_END: parent

// ANCHOR: child
/// The child's whole life: wait until no reader is left, set SIGPIPE as
/// `disposition` says, write, and (if still alive) report what `write` said.
fn child_writes(
    read_end: OwnedFd,
    write_end: OwnedFd,
    disposition: Disposition,
) -> ! {
    // The child only writes. Its copy of the read end must go too: while
    // any read end is open, in any process, the pipe has a reader.
    drop(read_end);
    if let Err(error) = wait_until_no_reader(&write_end) {
        eprintln!("sigpipe: child: {error}");
        exit_child(1);
    }
    say!(Kernel, "poll() reports POLLERR on the child's write end:");
    say!(Kernel, "no read end is open anywhere");

    if disposition == Disposition::Default {
        say!(Child, "signal(SIGPIPE, SIG_DFL): back to SIGPIPE's default");
        say!(Child, "action, which is to terminate");
        let restored = set_disposition(Signal::SIGPIPE, Disposition::Default);
        trace!(Child, &restored.map(|()| 0), "signal(SIGPIPE, SIG_DFL)");
        if let Err(errno) = restored {
            eprintln!("sigpipe: child: signal(SIGPIPE, SIG_DFL): {errno}");
            exit_child(1);
        }
    }
    match sigpipe_in_proc(Child) {
        Ok(fact) => say(Kernel, fact),
        Err(error) => eprintln!("sigpipe: child: {error}"),
    }

    let message = "hello?\n";
    say!(Child, "writing {} bytes into the pipe...", message.len());
    let written = write(&write_end, message.as_bytes());
    // With SIG_DFL, nothing below runs: the kernel ends this process inside
    // write(), before it returns.
    let (w, len) = (write_end.as_raw_fd(), message.len());
    trace!(Child, &written, "write({w}, {message:?}, {len})");
    match written {
        Err(Errno::EPIPE) => {
            say!(Child, "write() failed with EPIPE (Broken pipe):");
            say!(Child, "nobody will ever read this pipe");
            say!(Child, "I stop writing and exit with code 0");
            exit_child(0)
        }
        Err(errno) => {
            say!(Child, "write() failed with {errno:?}: {}", errno.desc());
            exit_child(1)
        }
        Ok(count) => {
            say!(Child, "write() took {count} bytes that nobody will read");
            exit_child(1)
        }
    }
}
// ANCHOR_END: child

// ANCHOR: wait-no-reader
/// Waits, at most [`PATIENCE`], until no read end of the pipe is open.
///
/// On Linux, poll() reports POLLERR on a pipe's write end once the last read
/// end is closed. We ask for no event at all, so only that (or an error)
/// ends the wait. This is how the child knows that the parent has closed its
/// read end before it writes, so that the two never race.
fn wait_until_no_reader(write_end: &OwnedFd) -> Result<(), String> {
    let millis = u16::try_from(PATIENCE.as_millis()).unwrap_or(u16::MAX);
    loop {
        let mut fds = [PollFd::new(write_end.as_fd(), PollFlags::empty())];
        let polled = poll(&mut fds, PollTimeout::from(millis));
        trace!(
            Child,
            &polled,
            "poll([{{fd={}, events=0}}], 1, {millis})",
            write_end.as_raw_fd()
        );
        match polled {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(format!("poll: {errno}")),
            Ok(0) => {
                return Err(format!(
                    "a read end was still open after {PATIENCE:?}: \
                     did the parent close its copy?"
                ));
            }
            Ok(_) => {
                let events = fds[0].revents().unwrap_or(PollFlags::empty());
                return if events.contains(PollFlags::POLLERR) {
                    Ok(())
                } else {
                    Err(format!("poll reported {events:?}, not POLLERR"))
                };
            }
        }
    }
}
// ANCHOR_END: wait-no-reader
