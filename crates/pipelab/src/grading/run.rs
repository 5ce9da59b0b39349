//! Running an exercise's tests for a grade: each test in a process of its
//! own (`PROGRAM --exact NAME`), judged by that process's exit status.
//!
//! Nothing the test program prints decides a verdict: a student's code can
//! print anything, even into the test program's own output through
//! /proc/PPID/fd/1. Its output is read only for the message shown beside a
//! failure. One time limit covers all of an exercise's tests: what is left
//! of it bounds each test, and the tests it did not reach fail.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::libtest::{parse_libtest, tail};
use crate::{Problem, supervise};

/// How long listing a test program's tests may take.
const LIST_LIMIT: Duration = Duration::from_secs(20);

/// The tests a test program holds, as `--list --format terse` names them.
/// The program is the course's test file built with the student's library;
/// no code of theirs runs before `main` (the tree forbids `unsafe`), and
/// none of it runs in a listing.
pub fn list(program: &Path) -> Result<Vec<String>, Problem> {
    let mut command = Command::new(program);
    command.args(["--list", "--format", "terse"]);
    let done = supervise::run(&mut command, LIST_LIMIT).map_err(|error| {
        Problem::fail(format!("cannot run {}: {error}", program.display()))
    })?;
    if !done.status.is_some_and(|s| s.success()) {
        return Err(Problem::fail(format!(
            "{} --list failed: {}",
            program.display(),
            tail(&done.stderr, 1)
        )));
    }
    Ok(done
        .stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

/// How one test went.
pub struct Ran {
    pub passed: bool,
    pub timed_out: bool,
    pub message: Option<String>,
    pub seconds: f64,
}

/// Runs test `name` of `program` alone, for at most `limit`.
pub fn run_one(
    program: &Path,
    name: &str,
    dir: &Path,
    package: &str,
    limit: Duration,
) -> Result<Ran, Problem> {
    let started = Instant::now();
    let mut command = Command::new(program);
    command
        .args(["--exact", name, "--test-threads", "1", "--color", "never"])
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .env("CARGO_MANIFEST_DIR", dir)
        .env("CARGO_PKG_NAME", package);
    let done = supervise::run(&mut command, limit).map_err(|error| {
        Problem::fail(format!("cannot run {}: {error}", program.display()))
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let Some(status) = done.status else {
        return Ok(Ran {
            passed: false,
            timed_out: true,
            message: Some(
                "still running when the exercise's time limit ran out: \
                 stopped, with everything it started"
                    .to_string(),
            ),
            seconds,
        });
    };
    if status.success() {
        return Ok(Ran {
            passed: true,
            timed_out: false,
            message: None,
            seconds,
        });
    }
    // Only for the learner's eyes: what libtest said about the failure.
    let said = parse_libtest(&done.stdout)
        .into_iter()
        .find(|t| t.name == name)
        .and_then(|t| t.message);
    let message = said.unwrap_or_else(|| {
        format!(
            "the test program {}\n{}",
            labkit::status::explain_exit_status(status),
            tail(&done.stderr, 10)
        )
    });
    Ok(Ran { passed: false, timed_out: false, message: Some(message), seconds })
}
