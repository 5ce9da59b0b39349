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

/// The processes in process group `group`, as "pid (name)".
fn members_of(group: Pid) -> Vec<String> {
    crate::procfs::all()
        .into_iter()
        .filter(|process| process.group == group.as_raw())
        .map(|process| format!("{} ({})", process.pid, process.name))
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

/// A program running in the background, for tests that act on it while it
/// runs (signal it, kill its peer, wait for a line): its stdout lines as
/// they come, and every wait bounded by one limit. It runs in a process
/// group of its own, with the leak check of [`crate::hygiene`] on; the
/// group is killed if the test drops it early.
pub struct Background {
    name: String,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    stderr: Option<thread::JoinHandle<String>>,
    limit: Duration,
}

impl Background {
    /// Starts `command`; `limit` bounds each later wait.
    pub fn start(command: &mut Command, limit: Duration) -> Background {
        let program = std::path::Path::new(command.get_program());
        let name = program.file_name().unwrap_or_default();
        let name = name.to_string_lossy().into_owned();
        let mut child = command
            .env(crate::hygiene::CHECK_VAR, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        let stdout = child.stdout.take();
        let (sender, lines) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let Some(stdout) = stdout else { return };
            let lines =
                std::io::BufRead::lines(std::io::BufReader::new(stdout));
            for line in lines.map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let stderr = Some(collect(child.stderr.take()));
        Background { name, child, lines, seen: Vec::new(), stderr, limit }
    }

    /// The program's pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Sends `signal` to the program (not to the rest of its group).
    #[track_caller]
    pub fn signal(&self, signal: Signal) {
        nix::sys::signal::kill(self.pid(), signal)
            .unwrap_or_else(|errno| panic!("kill {}: {errno}", self.name));
    }

    /// Waits, within the limit, for a line of output containing `needle`,
    /// and returns it; fails the test naming what was awaited.
    #[track_caller]
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + self.limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{} never printed a line with {needle:?} within {:.1} s; \
                     it printed:\n{}",
                    self.name,
                    self.limit.as_secs_f64(),
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits, within the limit, until `n` more lines equal to `line` have
    /// come, and returns how long that took: for a program that loops for
    /// ever (a reader spinning on end of file). Only the first 200 lines
    /// are kept for [`Background::seen`]: such a loop prints millions.
    #[track_caller]
    pub fn wait_for_lines(&mut self, line: &str, n: usize) -> Duration {
        let started = Instant::now();
        let deadline = started + self.limit;
        let mut counted = 0;
        while counted < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(got) => {
                    counted += usize::from(got == line);
                    if self.seen.len() < 200 {
                        self.seen.push(got);
                    }
                }
                Err(_) => panic!(
                    "{} printed {counted} of {n} lines {line:?} in {:.1} s; \
                     it began with:\n{}",
                    self.name,
                    self.limit.as_secs_f64(),
                    self.seen.join("\n")
                ),
            }
        }
        started.elapsed()
    }

    /// The lines of output the waits have taken so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Waits, within the limit, for the program and everything still
    /// writing to its stdout to end: its status, all its stdout, its
    /// stderr. Fails the test if it is still running, or if its own leak
    /// check reported something.
    #[track_caller]
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let status = match self.child.wait_timeout(self.limit) {
            Ok(Some(status)) => status,
            _ => panic!(
                "{} was still running after {:.1} s; it printed:\n{}",
                self.name,
                self.limit.as_secs_f64(),
                self.seen.join("\n")
            ),
        };
        // The sender's thread ends when the last writer of stdout (the
        // program, or a child it left) has closed it.
        while let Ok(line) = self.lines.recv_timeout(self.limit) {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
        let stderr = stderr.unwrap_or_default();
        let report = crate::hygiene::LEAK_REPORT;
        assert!(
            !stderr.contains(report),
            "{} did not clean up: {stderr}",
            self.name
        );
        (status, self.seen.join("\n"), stderr)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // A test that failed midway leaves nothing running.
        let _ = killpg(self.pid(), Signal::SIGKILL);
        let _ = self.child.wait();
    }
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
        // Named by pid and name: "sleep", or still "sh" if it was caught
        // between its fork and its exec.
        let named = |entry: &String| {
            let (pid, name) = entry.split_once(' ').unwrap_or_default();
            pid.parse::<u32>().is_ok() && ["(sleep)", "(sh)"].contains(&name)
        };
        assert!(
            !done.left_behind.is_empty() && done.left_behind.iter().all(named),
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
