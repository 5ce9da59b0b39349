//! `cargo lab grade`: a submission scored against the course, for
//! instructors and autograders.
//!
//! The course the runner is started in is the instructor's, and everything
//! the grade trusts comes from it: course.toml (points), each exercise's
//! Cargo.toml, tests and runner. `--submission DIR` names the student's
//! copy; only each exercise's `student_files` are taken from it (without
//! the option, the course grades itself, which is a student's own check and
//! proves nothing to anyone else). See `grading` for how it is built and
//! run, and `report` for the formats.
//!
//! Points: `points` on a lesson makes its exercise all or nothing;
//! otherwise each test earns `points_per_test` (default 1). The exit status
//! is 0 only when every test passed and there was something to earn.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::cli::Format;
use crate::course::Workspace;
use crate::grading::{self, Worker};
use crate::{Outcome, Problem, fingerprint, report};

#[derive(Serialize)]
pub struct Report {
    pub course: String,
    pub score: u32,
    pub max_score: u32,
    /// What the instructor should know: trusted files the submission
    /// changed (and that were ignored).
    pub flags: Vec<String>,
    pub exercises: Vec<ExerciseReport>,
}

impl Report {
    /// Full marks, with marks to be had: the only grade that exits 0.
    pub fn full_marks(&self) -> bool {
        self.max_score > 0
            && self.score == self.max_score
            && self.exercises.iter().all(|e| e.status == "passed")
    }
}

#[derive(Serialize)]
pub struct ExerciseReport {
    pub number: u32,
    pub slug: String,
    pub package: String,
    /// passed, failed, does-not-compile, timed-out, missing, tampered
    pub status: &'static str,
    pub score: u32,
    pub max_score: u32,
    pub tests_passed: usize,
    pub tests_total: usize,
    /// True when the submission's tests/ differs from the course's.
    pub tests_modified: bool,
    /// Files of the submission's exercise, outside `student_files`, that
    /// differ from the course's: never built, reported.
    pub ignored_changes: Vec<String>,
    /// The compiler error or why the run was stopped.
    pub detail: Option<String>,
    /// Building and testing, in seconds.
    pub seconds: f64,
    pub tests: Vec<TestReport>,
}

#[derive(Serialize)]
pub struct TestReport {
    pub name: String,
    pub passed: bool,
    pub score: u32,
    pub message: Option<String>,
    pub seconds: f64,
}

pub fn grade(
    workspace: &Workspace,
    lessons: &[String],
    submission: Option<&Path>,
    format: Format,
    out: Option<&Path>,
    limit: u64,
) -> Outcome {
    let selected = grading::exercises(workspace, lessons)?;
    if selected.is_empty() {
        return Err(Problem::fail("there is no exercise to grade"));
    }
    let submission = match submission {
        Some(dir) if !dir.is_dir() => {
            return Err(Problem::usage(format!(
                "the submission {} is not a directory",
                dir.display()
            )));
        }
        Some(dir) => dir.canonicalize()?,
        None => workspace.root.clone(),
    };
    // A student's code runs as the same user as the grader: without this,
    // it could write into the grader's output through /proc/PID/fd/1, or
    // trace it. (It protects nothing from root.)
    let _ = nix::sys::prctl::set_dumpable(false);
    let worker = Worker::claim(workspace)?;
    let mut report = grading::grade(
        workspace,
        &worker,
        &submission,
        &selected,
        Duration::from_secs(limit),
    )?;
    if submission == workspace.root {
        report.flags.push(
            "graded the course's own copy: a self-check, not a grade \
             (an instructor grades with --submission)"
                .into(),
        );
    }
    let text = report::render(&report, format)?;
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|error| {
                Problem::fail(format!(
                    "cannot write {}: {error}",
                    path.display()
                ))
            })?;
            println!(
                "Score: {}/{} (report written to {})",
                report.score,
                report.max_score,
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(if report.full_marks() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The names of the `#[test]` functions in the .rs files under `dir`.
pub fn test_names(dir: &Path) -> Result<Vec<String>, Problem> {
    let mut names = Vec::new();
    for relative in fingerprint::files(dir)? {
        if relative.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(&relative))?;
        let mut after_attribute = false;
        for line in text.lines().map(str::trim) {
            if line == "#[test]" {
                after_attribute = true;
            } else if after_attribute && let Some(name) = function_name(line) {
                names.push(name);
                after_attribute = false;
            }
        }
    }
    Ok(names)
}

fn function_name(line: &str) -> Option<String> {
    let rest = line.split_once("fn ")?.1;
    let name: String =
        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_functions_are_found_after_their_attribute() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("exercise.rs"),
            "fn helper() {}\n#[test]\nfn first() {}\n\n#[test]\n// why\npub fn second_one() -> Result<(), ()> { Ok(()) }\n",
        )
        .unwrap();
        assert_eq!(test_names(dir.path()).unwrap(), ["first", "second_one"]);
    }
}
