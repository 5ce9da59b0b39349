//! The status word itself, as C sees it.
//!
//! `nix::sys::wait::waitpid` decodes the kernel's status word into a
//! `WaitStatus` at once, which is what a program wants. A lesson about that
//! word wants the number before decoding: `13` for a child killed by
//! SIGPIPE, `0x0300` for one that called `_exit(3)`. [`wait_for_raw_status`]
//! returns it, with a deadline like every wait in the course.

use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::unistd::Pid;

/// Reaps `child` if it ends within `limit` and returns the status word that
/// `waitpid(2)` stored, undecoded; `Ok(None)` if the child is still running.
///
/// Decode it with `std::process::ExitStatus::from_raw` (for `code()` and
/// `signal()`) or `nix::sys::wait::WaitStatus::from_raw`.
pub fn wait_for_raw_status(
    child: Pid,
    limit: Duration,
) -> nix::Result<Option<i32>> {
    let deadline = Instant::now() + limit;
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: `status` is a live, writable c_int on this stack frame for
        // the whole call; waitpid writes one c_int through the pointer and
        // keeps no reference to it afterwards.
        #[allow(unsafe_code)]
        let reaped = unsafe {
            libc::waitpid(child.as_raw(), &mut status, libc::WNOHANG)
        };
        match reaped {
            -1 if Errno::last() == Errno::EINTR => continue,
            -1 => return Err(Errno::last()),
            // 0: the child exists but has not changed state yet.
            0 if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5))
            }
            0 => return Ok(None),
            _ => return Ok(Some(status)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_that_is_not_our_child_cannot_be_waited_for() {
        // Our own pid is never our child: waitpid fails with ECHILD at once.
        let error =
            wait_for_raw_status(nix::unistd::getpid(), Duration::from_secs(1))
                .expect_err("waiting for ourselves must fail");
        assert_eq!(error, Errno::ECHILD);
    }

    /// Starts `sh -c script` and returns its pid, unreaped: the test reaps it.
    #[allow(clippy::zombie_processes, reason = "reaped by wait_for_raw_status")]
    fn spawn_shell(script: &str) -> Pid {
        let child = std::process::Command::new("sh")
            .args(["-c", script])
            .spawn()
            .expect("sh should start");
        Pid::from_raw(child.id() as i32)
    }

    #[test]
    fn an_exit_code_sits_in_bits_8_to_15() {
        let status =
            wait_for_raw_status(spawn_shell("exit 3"), Duration::from_secs(10));
        assert_eq!(status, Ok(Some(0x0300)));
    }

    #[test]
    fn a_killing_signal_sits_in_the_low_7_bits() {
        let status = wait_for_raw_status(
            spawn_shell("kill -PIPE $$"),
            Duration::from_secs(10),
        );
        assert_eq!(status, Ok(Some(libc::SIGPIPE)));
    }

    #[test]
    fn a_running_child_is_reported_as_such_at_the_deadline() {
        // `exec`: the shell becomes sleep, so killing it leaves no orphan
        // behind.
        let child = spawn_shell("exec sleep 30");
        assert_eq!(
            wait_for_raw_status(child, Duration::from_millis(50)),
            Ok(None)
        );
        nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL)
            .unwrap();
        assert_eq!(
            wait_for_raw_status(child, Duration::from_secs(10)),
            Ok(Some(libc::SIGKILL))
        );
    }
}
