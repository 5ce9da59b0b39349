//! What lesson 04's test files share: the programs, a limit for every
//! wait, a program running in the background whose output lines can be
//! waited for, and bounded runs that prove they left nothing behind.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use labkit::hygiene::run_clean;
pub use labkit::watchdog::Background;
use labkit::watchdog::Finished;
use nix::sys::stat::Mode;

pub const SERVER: &str = env!("CARGO_BIN_EXE_fifo-server");
pub const CLIENT: &str = env!("CARGO_BIN_EXE_fifo-client");
pub const DEMO: &str = env!("CARGO_BIN_EXE_fifo-demo");
/// Generous: CI has two cores and runs tests in parallel.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A program running beside a test (labkit's [`Background`]), each of its
/// waits bounded by [`LIMIT`].
pub fn background(command: &mut Command) -> Background {
    Background::start(command, LIMIT)
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

pub fn server(path: &Path, extra: &[&str]) -> Background {
    background(Command::new(SERVER).arg("--path").arg(path).args(extra))
}

pub fn client(path: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(CLIENT);
    command.arg("--path").arg(path).args(extra).args(["--color", "never"]);
    command
}

/// A server and a client, both given `--allow-shared`, on a FIFO whose mode
/// lets others in: both say who else may use it (`who`), and the client's
/// two messages and its `end` arrive.
pub fn exchange_allowing_shared(fifo: &Path, who: &str) {
    let mut server = server(fifo, &["--allow-shared", "--wait", "10"]);
    let who = format!("--allow-shared: {who}");
    server.wait_for(&who);
    let sent = bounded(
        "fifo-client",
        &mut client(fifo, &["--allow-shared", "--count", "2"]),
    );
    assert!(sent.status.success(), "{}", sent.stderr);
    assert!(sent.stdout.contains(&who), "{}", sent.stdout);
    let (status, out, stderr) = server.finish();
    assert!(status.success(), "{stderr}");
    assert!(out.contains("received 3 messages in all"), "{out}");
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
