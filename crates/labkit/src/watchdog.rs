//! Bounds for everything that can block.
//!
//! A pipe lesson is a lesson in hangs: a read with a forgotten writer, an
//! open of a FIFO with no peer, a wait for a child that never ends. Lessons
//! show those hangs on purpose, so each such call gets a deadline here, and
//! a deadline that passes is reported, never waited out.

use std::fmt;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use wait_timeout::ChildExt;

/// Waits until `fd` has something to read (data, or end of file) or until
/// `limit` passes. Returns false when the time ran out.
pub fn wait_readable(fd: BorrowedFd<'_>, limit: Duration) -> nix::Result<bool> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(millis)) {
            Ok(0) if Instant::now() >= deadline => return Ok(false),
            // poll's timeout is capped at u16::MAX ms: go round again.
            Ok(0) => continue,
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

/// Reaps `child` if it ends within `limit`; `Ok(None)` if it is still running.
pub fn wait_for_child(
    child: Pid,
    limit: Duration,
) -> nix::Result<Option<WaitStatus>> {
    let deadline = Instant::now() + limit;
    loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG))? {
            WaitStatus::StillAlive if Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            WaitStatus::StillAlive => return Ok(None),
            ended => return Ok(Some(ended)),
        }
    }
}

/// How a bounded subprocess run finished.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// True when some process the command started (a forgotten child) was
    /// still running after the command itself ended; it has been killed.
    pub left_running: bool,
    /// Those processes, as "pid (name)".
    pub left_behind: Vec<String>,
}

/// Why a bounded subprocess run did not finish.
#[derive(Debug)]
pub enum RunError {
    /// The program could not be started at all.
    Spawn { program: String, error: std::io::Error },
    /// The program was still running at its limit; it and every process it
    /// started were killed.
    TimedOut {
        program: String,
        limit: Duration,
        stdout: String,
        stderr: String,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Spawn { program, error } => {
                write!(f, "could not start {program}: {error}")
            }
            RunError::TimedOut { program, limit, stdout, stderr } => {
                write!(
                    f,
                    "{program} was still running after {:.1} s and was killed",
                    limit.as_secs_f64()
                )?;
                for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
                    if !text.trim().is_empty() {
                        write!(
                            f,
                            "\n--- its {name} so far:\n{}",
                            text.trim_end()
                        )?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RunError {}

/// Runs `command` to completion, killing it (and every process it started)
/// if it is still running after `limit`. Standard input is empty; standard
/// output and error are collected.
///
/// The command runs in a process group of its own, so that a child it
/// forked and forgot is found and killed too, and reported in
/// [`Finished::left_running`] and named in [`Finished::left_behind`].
pub fn run(
    command: &mut Command,
    limit: Duration,
) -> Result<Finished, RunError> {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|error| RunError::Spawn { program: program.clone(), error })?;
    let group = Pid::from_raw(child.id() as i32);
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());

    let waited = child.wait_timeout(limit);
    // Whatever happened, nothing of this run may outlive it. Signal 0 asks
    // whether any process is left in the group without harming it.
    let left_behind = members_of(group);
    let left_running = killpg(group, None).is_ok();
    let _ = killpg(group, Signal::SIGKILL);
    let status = match waited {
        Ok(Some(status)) => Some(status),
        _ => {
            let _ = child.wait();
            None
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        Some(status) => {
            Ok(Finished { status, stdout, stderr, left_running, left_behind })
        }
        None => Err(RunError::TimedOut { program, limit, stdout, stderr }),
    }
}

/// The processes in process group `group`, as "pid (name)", from the
/// fifth field of each /proc/PID/stat.
fn members_of(group: Pid) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat =
                std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            let pgrp: i32 = rest.split(' ').nth(2)?.parse().ok()?;
            (pgrp == group.as_raw()).then(|| format!("{pid} ({name})"))
        })
        .collect()
}

/// Reads a child's output on a thread of its own, so that a full pipe can
/// never stop the child while we wait for it.
pub fn collect(
    source: Option<impl Read + Send + 'static>,
) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut source) = source {
            let _ = source.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Convenience for tests: [`wait_readable`] on anything that has an fd.
pub fn readable_within(fd: &impl AsFd, limit: Duration) -> nix::Result<bool> {
    wait_readable(fd.as_fd(), limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_command_finishes_with_its_output() {
        let done = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .expect("sh should finish");
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(done.stdout, "out\n");
        assert_eq!(done.stderr, "err\n");
        assert!(!done.left_running);
    }

    #[test]
    fn a_hung_command_is_killed_at_its_limit() {
        let started = Instant::now();
        let error = run(
            Command::new("sh").args(["-c", "echo waiting; sleep 30"]),
            Duration::from_millis(300),
        )
        .expect_err("sleep 30 must time out");
        assert!(started.elapsed() < Duration::from_secs(10));
        let message = error.to_string();
        assert!(message.contains("still running after 0.3 s"), "{message}");
        assert!(message.contains("waiting"), "partial output kept: {message}");
    }

    #[test]
    fn a_forgotten_grandchild_is_reported_and_killed() {
        // The shell starts a background sleep that keeps stdout open, then
        // exits: without the group kill, collecting stdout would never end.
        let done = run(
            Command::new("sh").args(["-c", "sleep 30 & exit 0"]),
            Duration::from_secs(10),
        )
        .expect("sh itself ends at once");
        assert!(done.status.success());
        assert!(done.left_running);
        assert!(
            done.left_behind.iter().any(|p| p.ends_with(" (sleep)")),
            "the forgotten process is named: {:?}",
            done.left_behind
        );
    }

    #[test]
    fn a_silent_pipe_is_not_readable_until_written() {
        let (reader, mut writer) = std::io::pipe().unwrap();
        assert!(!readable_within(&reader, Duration::from_millis(50)).unwrap());
        std::io::Write::write_all(&mut writer, b"x").unwrap();
        assert!(readable_within(&reader, Duration::from_millis(50)).unwrap());
    }

    #[test]
    fn end_of_file_counts_as_readable() {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(writer);
        assert!(readable_within(&reader, Duration::from_millis(50)).unwrap());
    }
}
