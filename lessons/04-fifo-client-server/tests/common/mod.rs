//! What lesson 04's test files share: the programs, a limit for every
//! wait, a program running in the background whose output lines can be
//! waited for, and bounded runs that prove they left nothing behind.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use labkit::hygiene::{self, run_clean};
use labkit::watchdog::Finished;
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::unistd::Pid;
use wait_timeout::ChildExt;

pub const SERVER: &str = env!("CARGO_BIN_EXE_fifo-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_fifo-client");
pub const DEMO: &str = env!("CARGO_BIN_EXE_fifo-demo");
/// Generous: CI has two cores and runs tests in parallel.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A program running in the background: its output lines as they come.
pub struct Running {
    name: &'static str,
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    pub fn start(name: &'static str, command: &mut Command) -> Running {
        // Output is a pipe, not a terminal: no colour without being told.
        // The program checks at exit that it leaves nothing open.
        let mut child = command
            .env(hygiene::CHECK_VAR, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {name}: {error}"));
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        Running { name, child, lines, seen: Vec::new(), stderr: Some(stderr) }
    }

    /// Waits (bounded) for a line of output containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(LIMIT) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "{} never printed a line with {needle:?} within {} s; \
                     it printed:\n{}",
                    self.name,
                    LIMIT.as_secs(),
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Waits (bounded) until `n` more lines equal to `line` have come;
    /// returns how long that took. For programs that loop for ever.
    pub fn wait_for_lines(&mut self, line: &str, n: usize) -> Duration {
        let started = Instant::now();
        let deadline = started + LIMIT;
        let mut seen = 0;
        while seen < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(got) => {
                    seen += usize::from(got == line);
                    // Keep the first lines only: a loop prints millions.
                    if self.seen.len() < 200 {
                        self.seen.push(got);
                    }
                }
                Err(_) => panic!(
                    "{} printed {seen} of {n} lines {line:?} in {} s; \
                     it began with:\n{}",
                    self.name,
                    LIMIT.as_secs(),
                    self.seen.join("\n")
                ),
            }
        }
        started.elapsed()
    }

    /// The lines printed so far (as kept by the waits).
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    /// Waits (bounded) for the program to end: its status, stdout, stderr.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let status = match self.child.wait_timeout(LIMIT).unwrap() {
            Some(status) => status,
            None => panic!(
                "{} was still running after {} s; it printed:\n{}",
                self.name,
                LIMIT.as_secs(),
                self.seen.join("\n")
            ),
        };
        self.seen.extend(self.lines.try_iter());
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        let stderr = self.stderr.take().unwrap().join().unwrap_or_default();
        assert!(
            !stderr.contains(hygiene::LEAK_REPORT),
            "{} did not clean up: {stderr}",
            self.name
        );
        (status, self.seen.join("\n"), stderr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs a program to its end, within the limit, and proves it left
/// nothing behind (labkit::hygiene).
pub fn bounded(what: &str, command: &mut Command) -> Finished {
    run_clean(command, LIMIT).unwrap_or_else(|error| panic!("{what}: {error}"))
}

pub fn shell(script: &str, args: &[&Path]) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", script, "sh"]).args(args);
    command
}

pub fn server(path: &Path, extra: &[&str]) -> Running {
    Running::start(
        "fifo-server",
        Command::new(SERVER).arg("--path").arg(path).args(extra),
    )
}

pub fn client(path: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(CLIENT);
    command.arg("--path").arg(path).args(extra).args(["--color", "never"]);
    command
}

pub fn make_fifo(path: &Path) {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o600)).unwrap();
}

pub fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect()
}

pub fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Asserts an error came as exactly one line on stderr, with `words` in it.
pub fn assert_one_line(stderr: &str, words: &str) {
    assert_eq!(stderr.lines().count(), 1, "one line expected, got:\n{stderr}");
    assert!(stderr.contains(words), "expected {words:?} in {stderr:?}");
}

/// A program of the readings, from this directory.
pub fn classic(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(file)
}

/// `python3 FILE ARGS`, or None, with the reason printed, where the
/// machine has no python3: the test then has nothing to run.
pub fn python3(file: &str, args: &[&Path]) -> Option<Command> {
    let found = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        eprintln!("skipped: no python3 here to run the classic {file}");
        return None;
    }
    let mut command = Command::new("python3");
    command.arg(classic(file)).args(args);
    Some(command)
}

/// `sh FILE ARGS`: the shell version of a classic program.
pub fn sh(file: &str, args: &[&Path]) -> Command {
    let mut command = Command::new("sh");
    command.arg(classic(file)).args(args);
    command
}
