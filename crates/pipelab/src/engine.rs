//! Checking an exercise: build its tests, run them, read the verdict.
//!
//! The slow part of a check is cargo itself, even when it has nothing to
//! build. So the runner remembers which test programs the last build made
//! and from which sources (a fingerprint of the package, the workspace's
//! path dependencies, Cargo.toml and Cargo.lock). While the fingerprint and
//! the programs' timestamps are unchanged, it runs those programs directly;
//! otherwise it asks `cargo test --no-run --message-format=json` to build
//! them and say where they are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::course::{Lesson, Workspace, cargo};
use crate::fingerprint::{self, Fnv};
use crate::libtest::{TestResult, head, last_line, parse_libtest, tail};
use crate::state::{Build, CachedResult, Executable, State};
use crate::{Problem, supervise, ui};

/// How long a build may take before it is stopped.
const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// A package to build and test: an exercise, or a solution (which reads
/// the exercise's test file, so the exercise's sources count for it too).
pub struct Target {
    pub package: String,
    pub dir: PathBuf,
    pub also_reads: Option<PathBuf>,
}

impl Target {
    pub fn exercise(workspace: &Workspace, lesson: &Lesson) -> Option<Target> {
        Some(Target {
            package: workspace.exercise_of(lesson)?.to_string(),
            dir: workspace.exercise_dir(lesson),
            also_reads: None,
        })
    }

    pub fn solution(workspace: &Workspace, lesson: &Lesson) -> Option<Target> {
        let dir = workspace.solution_dir(lesson);
        Some(Target {
            package: lesson.solution.clone()?,
            also_reads: Some(workspace.exercise_dir(lesson)),
            dir: dir.join("Cargo.toml").is_file().then_some(dir)?,
        })
    }

    /// Everything a build of this package reads, hashed.
    pub fn fingerprint(
        &self,
        workspace: &Workspace,
    ) -> std::io::Result<String> {
        let mut hash = Fnv::new();
        hash.field(self.package.as_bytes());
        fingerprint::add_tree(&mut hash, &self.dir)?;
        if let Some(other) = &self.also_reads {
            fingerprint::add_tree(&mut hash, other)?;
        }
        fingerprint::add_file(&mut hash, &workspace.root.join("Cargo.toml"))?;
        fingerprint::add_file(&mut hash, &workspace.root.join("Cargo.lock"))?;
        for dependency in path_dependencies(workspace) {
            fingerprint::add_tree(&mut hash, &dependency)?;
        }
        Ok(hash.hex())
    }
}

/// The workspace's own library crates (`path = ...` in
/// [workspace.dependencies]), which every exercise may use.
fn path_dependencies(workspace: &Workspace) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(workspace.root.join("Cargo.toml"))
    else {
        return Vec::new();
    };
    let Ok(manifest) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let dependencies = manifest
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.as_table());
    let mut paths: Vec<PathBuf> = dependencies
        .into_iter()
        .flatten()
        .filter_map(|(_, spec)| spec.get("path")?.as_str())
        .map(|path| workspace.root.join(path))
        .collect();
    paths.sort();
    paths
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Passing,
    Failing,
    DoesNotCompile,
    TimedOut,
}

/// The outcome of checking one package.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub kind: Kind,
    pub tests: Vec<TestResult>,
    /// The first compiler error, or what stopped the run.
    pub detail: Option<String>,
    pub fingerprint: String,
}

impl Verdict {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed).count()
    }

    pub fn first_failure(&self) -> Option<&TestResult> {
        self.tests.iter().find(|t| !t.passed)
    }
}

/// What a build gave: test programs, or the reason there are none.
enum Built {
    Programs(Vec<Executable>),
    CompileError(String),
}

/// Builds (when needed) and runs `target`'s tests. `trust_cache` false makes
/// cargo decide freshness itself (`verify` never trusts the state file;
/// grading does not come here at all: see `grading`).
pub fn check(
    workspace: &Workspace,
    state: &mut State,
    target: &Target,
    limit: Duration,
    trust_cache: bool,
) -> Result<Verdict, Problem> {
    let fingerprint = target.fingerprint(workspace)?;
    let cached = state
        .builds
        .get(&target.package)
        .filter(|build| trust_cache && build.fingerprint == fingerprint)
        .filter(|build| build.executables.iter().all(Executable::unchanged))
        .map(|build| build.executables.clone());
    let programs = match cached {
        Some(programs) => programs,
        None => match build(workspace, target)? {
            Built::Programs(programs) => {
                state.builds.insert(
                    target.package.clone(),
                    Build {
                        fingerprint: fingerprint.clone(),
                        executables: programs.clone(),
                    },
                );
                programs
            }
            Built::CompileError(error) => {
                state.builds.remove(&target.package);
                return Ok(Verdict {
                    kind: Kind::DoesNotCompile,
                    tests: Vec::new(),
                    detail: Some(error),
                    fingerprint,
                });
            }
        },
    };
    let mut tests = Vec::new();
    for program in programs.iter().filter(|p| p.test) {
        let mut command = Command::new(&program.path);
        command
            .args(["--color", "never"])
            .current_dir(&target.dir)
            .env("RUST_BACKTRACE", "0")
            .env("CARGO_MANIFEST_DIR", &target.dir)
            .env("CARGO_PKG_NAME", &target.package);
        let done = supervise::run(&mut command, limit).map_err(|error| {
            Problem::fail(format!(
                "cannot run {}: {error}",
                program.path.display()
            ))
        })?;
        let mut found = parse_libtest(&done.stdout);
        let Some(status) = done.status else {
            // Killed at the limit: what finished before still shows.
            tests.append(&mut found);
            return Ok(Verdict {
                kind: Kind::TimedOut,
                tests,
                detail: Some(format!(
                    "the tests were still running after {} s and were stopped",
                    limit.as_secs()
                )),
                fingerprint,
            });
        };
        if !status.success() && found.iter().all(|t| t.passed) {
            // The program failed without naming a failed test: it crashed.
            found.push(TestResult {
                name: program_name(&program.path),
                passed: false,
                message: Some(format!(
                    "the test program {}\n{}",
                    labkit::status::explain_exit_status(status),
                    tail(&done.stderr, 10)
                )),
            });
        }
        tests.append(&mut found);
    }
    // Tests finish in any order; a verdict reads the same every time.
    tests.sort_by(|a, b| a.name.cmp(&b.name));
    let kind = if !tests.is_empty() && tests.iter().all(|t| t.passed) {
        Kind::Passing
    } else {
        Kind::Failing
    };
    let detail = tests.is_empty().then(|| "no tests ran".to_string());
    Ok(Verdict { kind, tests, detail, fingerprint })
}

/// Checks `lesson`'s exercise and remembers the verdict.
pub fn check_exercise(
    workspace: &Workspace,
    state: &mut State,
    lesson: &Lesson,
    limit: Duration,
) -> Result<Verdict, Problem> {
    let target = Target::exercise(workspace, lesson)
        .ok_or_else(|| no_exercise(workspace, lesson))?;
    let verdict = check(workspace, state, &target, limit, true)?;
    // A run that hung is a verdict too: these sources fail, and `cargo lab`
    // should not sit through the time limit again to learn it.
    state.results.insert(
        target.package.clone(),
        CachedResult {
            fingerprint: verdict.fingerprint.clone(),
            passing: verdict.kind == Kind::Passing,
            passed: verdict.passed(),
            total: verdict.tests.len(),
        },
    );
    Ok(verdict)
}

/// The error for a lesson without an exercise (yet).
pub fn no_exercise(workspace: &Workspace, lesson: &Lesson) -> Problem {
    match &lesson.exercise {
        None => {
            Problem::fail(format!("lesson {} has no exercise", lesson.number))
        }
        Some(_) => Problem::fail(format!(
            "exercise {} is coming soon: {} does not exist yet",
            lesson.number,
            workspace.relative(&workspace.exercise_dir(lesson)).display()
        )),
    }
}

/// One line of `cargo --message-format=json` output, the parts we read.
#[derive(Deserialize)]
struct CargoMessage {
    reason: String,
    manifest_path: Option<PathBuf>,
    executable: Option<PathBuf>,
    profile: Option<Profile>,
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Profile {
    test: bool,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    rendered: Option<String>,
}

/// `cargo test --no-run` for one package: its test programs and the
/// programs they run, or its first compiler error.
fn build(workspace: &Workspace, target: &Target) -> Result<Built, Problem> {
    ui::progress(&format!(
        "building {}'s tests (cargo test --no-run -p {0})...",
        target.package
    ));
    let mut command = Command::new(cargo());
    command
        .args([
            "test",
            "--no-run",
            "--message-format=json",
            "-p",
            &target.package,
        ])
        .current_dir(&workspace.root)
        .env("CARGO_TERM_COLOR", "never");
    let done = supervise::run(&mut command, BUILD_LIMIT)
        .map_err(|error| Problem::fail(format!("cannot run cargo: {error}")))?;
    if done.timed_out() {
        return Err(Problem::fail(format!(
            "building {} took more than {} s and was stopped",
            target.package,
            BUILD_LIMIT.as_secs()
        )));
    }
    let manifest = target.dir.join("Cargo.toml");
    let mut programs = Vec::new();
    let mut first_error = None;
    for line in done.stdout.lines() {
        let Ok(message) = serde_json::from_str::<CargoMessage>(line) else {
            continue;
        };
        match message.reason.as_str() {
            "compiler-artifact"
                if message.manifest_path.as_deref() == Some(&manifest) =>
            {
                if let (Some(path), Some(profile)) =
                    (message.executable, message.profile)
                {
                    programs.extend(Executable::at(path, profile.test));
                }
            }
            "compiler-message" if first_error.is_none() => {
                first_error = message
                    .message
                    .filter(|diagnostic| diagnostic.level == "error")
                    .and_then(|diagnostic| diagnostic.rendered);
            }
            _ => {}
        }
    }
    let success = done.status.is_some_and(|s| s.success());
    if !success {
        return match first_error {
            Some(error) => Ok(Built::CompileError(head(error.trim_end(), 25))),
            None => Err(Problem::fail(format!(
                "cargo could not build {}: {}",
                target.package,
                last_line(&done.stderr)
            ))),
        };
    }
    Ok(Built::Programs(programs))
}

fn program_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
