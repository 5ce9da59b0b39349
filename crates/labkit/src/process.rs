//! `fork`, `_exit` and signal dispositions: system calls that need `unsafe`.
//!
//! `fork()` copies the calling process, but only the calling thread. If
//! another thread held a lock (the allocator's, stdout's) at that moment,
//! the child inherits the lock held by a thread that does not exist in the
//! child, and the child's first `println!` may wait forever. So a
//! multi-threaded process (a test harness, for one) may only make
//! async-signal-safe calls in its child. Lessons fork from single-threaded
//! programs, where the child may do anything; [`fork`] checks that this is so
//! and refuses otherwise, rather than leaving a rare hang to chance.

use std::io;

use nix::sys::signal::{SigHandler, Signal};
use nix::unistd::{ForkResult, Pid};

/// Which side of a fork we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// We are the new process.
    Child,
    /// We are the original process; `child` is the new one's pid.
    Parent { child: Pid },
}

/// How many threads this process has right now (from /proc/self/task).
pub fn thread_count() -> io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/task")?.count())
}

/// `fork()`, refused when the process has more than one thread.
///
/// In the child, leave with `nix::unistd::_exit` rather than by returning:
/// returning would run the rest of the parent's program a second time.
pub fn fork() -> io::Result<Forked> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(io::Error::other(format!(
            "refusing to fork: this process has {threads} threads, and a \
             forked child of a multi-threaded process may only make \
             async-signal-safe calls (run this code in its own single-threaded \
             program)"
        )));
    }
    // SAFETY: the process has exactly one thread (checked just above), so no
    // other thread can hold a lock that the child would inherit locked; the
    // child may safely run ordinary Rust code.
    #[allow(unsafe_code)]
    let forked = unsafe { nix::unistd::fork() }?;
    Ok(match forked {
        ForkResult::Child => Forked::Child,
        ForkResult::Parent { child } => Forked::Parent { child },
    })
}

/// Ends this process at once with `code`: `_exit(2)`, for a forked child.
///
/// Unlike returning from `main` or `std::process::exit`, it runs no
/// destructors and flushes no buffers that the child copied from its parent,
/// so nothing the parent owns (a temporary directory, buffered output) is
/// cleaned up or written twice.
pub fn exit_child(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and takes no pointers; it cannot
    // break any invariant of the process it ends.
    #[allow(unsafe_code)]
    unsafe {
        libc::_exit(code)
    }
}

/// What the kernel does when a signal arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// SIG_DFL: the signal's default action (for SIGPIPE: terminate).
    Default,
    /// SIG_IGN: discard the signal (a write to a pipe without readers then
    /// fails with EPIPE instead).
    Ignore,
}

/// Sets what happens when `signal` arrives in this process (and, across
/// `fork` and `exec`, in its children: an ignored signal stays ignored).
pub fn set_disposition(
    signal: Signal,
    disposition: Disposition,
) -> nix::Result<()> {
    let handler = match disposition {
        Disposition::Default => SigHandler::SigDfl,
        Disposition::Ignore => SigHandler::SigIgn,
    };
    // SAFETY: SIG_DFL and SIG_IGN install no handler function, so no code of
    // ours can run at signal time; there is nothing to make async-signal-safe.
    #[allow(unsafe_code)]
    unsafe { nix::sys::signal::signal(signal, handler) }?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_refuses_in_a_multi_threaded_process() {
        // The test harness runs this on a thread of its own, so there are at
        // least two threads: exactly the case fork() must refuse.
        let error =
            fork().expect_err("fork in the test harness must be refused");
        assert!(error.to_string().contains("refusing to fork"), "{error}");
    }
}
