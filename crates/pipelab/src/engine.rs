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
use std::process::{Command, ExitCode};
use std::time::Duration;

use serde::Deserialize;

use crate::course::{Lesson, Workspace, cargo};
use crate::fingerprint::{self, Fnv};
use crate::state::{Build, CachedResult, Executable, State};
use crate::{Outcome, Problem, supervise, ui};

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
    pub fn fingerprint(&self, workspace: &Workspace) -> std::io::Result<String> {
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
    let Ok(text) = std::fs::read_to_string(workspace.root.join("Cargo.toml")) else {
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

/// One test and how it went.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    /// For a failure: its message, trimmed to what a learner needs.
    pub message: Option<String>,
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
/// cargo decide freshness itself (grading never trusts the state file).
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
            Problem::fail(format!("cannot run {}: {error}", program.path.display()))
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
    Ok(Verdict {
        kind,
        tests,
        detail,
        fingerprint,
    })
}

/// Checks `lesson`'s exercise and remembers the verdict.
pub fn check_exercise(
    workspace: &Workspace,
    state: &mut State,
    lesson: &Lesson,
    limit: Duration,
) -> Result<Verdict, Problem> {
    let target =
        Target::exercise(workspace, lesson).ok_or_else(|| no_exercise(workspace, lesson))?;
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
        None => Problem::fail(format!("lesson {} has no exercise", lesson.number)),
        Some(_) => Problem::fail(format!(
            "exercise {} is coming soon: {} does not exist yet",
            lesson.number,
            workspace
                .relative(&workspace.exercise_dir(lesson))
                .display()
        )),
    }
}

/// `cargo lab check N`.
pub fn check_command(workspace: &Workspace, lesson: &str, limit: u64) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    let mut state = State::load(&workspace.state_dir);
    ui::progress(&format!("checking exercise {}...", lesson.number));
    let verdict = check_exercise(workspace, &mut state, lesson, Duration::from_secs(limit))?;
    let _ = state.save(&workspace.state_dir);
    print!("{}", render(workspace, &state, lesson, &verdict));
    Ok(if verdict.kind == Kind::Passing {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The one-screen verdict: the tests, the first failure, what to do next.
pub fn render(workspace: &Workspace, state: &State, lesson: &Lesson, verdict: &Verdict) -> String {
    let dir = workspace
        .relative(&workspace.exercise_dir(lesson))
        .display()
        .to_string();
    let mut out = format!(
        "{} {} — {} ({dir})\n\n",
        ui::bold("Exercise"),
        ui::bold(&lesson.number.to_string()),
        lesson.title
    );
    for test in &verdict.tests {
        let mark = if test.passed {
            ui::good("pass")
        } else {
            ui::bad("FAIL")
        };
        out += &format!("  {mark}  {}\n", test.name);
    }
    let n = lesson.number;
    match verdict.kind {
        Kind::DoesNotCompile => {
            out += &format!(
                "{}\n\n",
                ui::bad("Your code does not compile yet. The first error:")
            );
            out += &indent(verdict.detail.as_deref().unwrap_or(""));
            out += &format!("\nNext: fix that error in {dir}, then `cargo lab check {n}` again.\n");
        }
        Kind::TimedOut => {
            out += &format!(
                "\n{}\n",
                ui::bad(verdict.detail.as_deref().unwrap_or("the tests timed out"))
            );
            out += "Something in your code waits forever: a read whose pipe still has a \
                    write end open somewhere, or a wait for a child that never ends.\n";
            out += &format!("Next: `cargo lab hint {n}`, then `cargo lab check {n}` again.\n");
        }
        Kind::Failing => {
            out += &format!(
                "\n{} of {} tests pass.\n",
                verdict.passed(),
                verdict.tests.len()
            );
            if let Some(failure) = verdict.first_failure() {
                out += &format!("\n{} {}\n", ui::bad("First failure:"), failure.name);
                out += &indent(failure.message.as_deref().unwrap_or("(no message)"));
            } else if let Some(detail) = &verdict.detail {
                out += &format!("\n{detail}\n");
            }
            let todo = files_with_todo(&workspace.exercise_dir(lesson));
            let place = if todo.is_empty() {
                dir.clone()
            } else {
                todo.iter()
                    .map(|p| format!("{dir}/{}", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let seen = state.hints.get(&lesson.slug).copied().unwrap_or(0);
            let hint = if lesson.hints.is_empty() {
                String::new()
            } else {
                format!(
                    " Stuck? `cargo lab hint {n}` ({seen} of {} hints seen).",
                    lesson.hints.len()
                )
            };
            out += &format!(
                "\nNext: work on {place} (look for `// TODO`), then `cargo lab check {n}` again.{hint}\n"
            );
        }
        Kind::Passing => {
            out += &format!(
                "\n{}\n",
                ui::good(&format!(
                    "All {} tests pass: exercise {n} is done.",
                    verdict.tests.len()
                ))
            );
            out += &match workspace.next_lesson(lesson) {
                Some(next) if workspace.lesson_exists(next) => format!(
                    "Next: lesson {}, {}: `cargo lab run {}`. (`cargo lab solution {n}` shows the reference solution.)\n",
                    next.number, next.title, next.number
                ),
                Some(next) => format!(
                    "Next: lesson {} is coming soon; `cargo lab solution {n}` shows the reference solution.\n",
                    next.number
                ),
                None => format!(
                    "That was the last lesson. `cargo lab solution {n}` shows the reference solution.\n"
                ),
            };
        }
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| match line.trim_end() {
            "" => "\n".to_string(),
            line => format!("    {line}\n"),
        })
        .collect()
}

/// The files of an exercise that still hold a `// TODO`, relative to it.
fn files_with_todo(dir: &Path) -> Vec<PathBuf> {
    fingerprint::files(dir)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs") && !p.starts_with("tests"))
        .filter(|p| std::fs::read_to_string(dir.join(p)).is_ok_and(|text| text.contains("// TODO")))
        .collect()
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
            "compiler-artifact" if message.manifest_path.as_deref() == Some(&manifest) => {
                if let (Some(path), Some(profile)) = (message.executable, message.profile) {
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

/// Reads libtest's plain output: `test NAME ... ok|FAILED` lines, then a
/// `---- NAME stdout ----` section for each failure.
pub fn parse_libtest(output: &str) -> Vec<TestResult> {
    let mut results: Vec<TestResult> = Vec::new();
    let mut current_failure: Option<(String, Vec<&str>)> = None;
    let finish = |failure: Option<(String, Vec<&str>)>, results: &mut Vec<TestResult>| {
        if let Some((name, body)) = failure
            && let Some(result) = results.iter_mut().find(|r| r.name == name)
        {
            result.message = Some(trim_failure(&body));
        }
    };
    for line in output.lines() {
        if let Some((name, outcome)) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.rsplit_once(" ... "))
        {
            let name = name.trim_end_matches(" - should panic").to_string();
            match outcome.trim() {
                "ok" => results.push(TestResult {
                    name,
                    passed: true,
                    message: None,
                }),
                "FAILED" => results.push(TestResult {
                    name,
                    passed: false,
                    message: None,
                }),
                // ignored tests neither pass nor fail
                _ => {}
            }
            continue;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            finish(current_failure.take(), &mut results);
            current_failure = Some((name.to_string(), Vec::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            finish(current_failure.take(), &mut results);
            continue;
        }
        if let Some((_, body)) = current_failure.as_mut() {
            body.push(line);
        }
    }
    finish(current_failure.take(), &mut results);
    results
}

/// A failure's message without what does not help: the backtrace note,
/// backtraces, thread names; at most 15 lines.
fn trim_failure(body: &[&str]) -> String {
    let mut kept: Vec<String> = Vec::new();
    let mut in_backtrace = false;
    for line in body {
        let trimmed = line.trim_start();
        if trimmed.starts_with("stack backtrace:") {
            in_backtrace = true;
            continue;
        }
        if in_backtrace {
            let frame = trimmed
                .split_once(':')
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
                || trimmed.starts_with("at ")
                || trimmed.starts_with("note: Some details are omitted");
            if frame {
                continue;
            }
            in_backtrace = false;
        }
        if trimmed.starts_with("note: run with `RUST_BACKTRACE=")
            || trimmed.starts_with("note: Some details are omitted")
        {
            continue;
        }
        if let Some((_, place)) = trimmed
            .strip_prefix("thread '")
            .and_then(|rest| rest.split_once(" panicked at "))
        {
            kept.push(format!("panicked at {place}"));
            continue;
        }
        kept.push(line.to_string());
    }
    while kept.first().is_some_and(|l| l.trim().is_empty()) {
        kept.remove(0);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    head(&kept.join("\n"), 15)
}

/// The first `n` lines of `text`, with a note when some were cut.
fn head(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= n {
        return text.to_string();
    }
    format!(
        "{}\n... ({} more lines)",
        lines[..n].join("\n"),
        lines.len() - n
    )
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn last_line(text: &str) -> String {
    text.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

fn program_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 3 tests\n\
test a_passes ... ok\n\
test b_fails ... FAILED\n\
test c_panics - should panic ... ok\n\
\n\
failures:\n\
\n\
---- b_fails stdout ----\n\
\n\
thread 'b_fails' (4242) panicked at tests/exercise.rs:33:5:\n\
scenario \"one\": the runner exited with code 101.\n\
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
\n\
\n\
failures:\n\
    b_fails\n\
\n\
test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";

    #[test]
    fn libtest_output_gives_each_test_and_the_failure_message_trimmed() {
        let results = parse_libtest(OUTPUT);
        let names: Vec<(&str, bool)> = results
            .iter()
            .map(|r| (r.name.as_str(), r.passed))
            .collect();
        assert_eq!(
            names,
            [("a_passes", true), ("b_fails", false), ("c_panics", true)]
        );
        assert_eq!(
            results[1].message.as_deref(),
            Some(
                "panicked at tests/exercise.rs:33:5:\n\
                 scenario \"one\": the runner exited with code 101."
            )
        );
    }

    #[test]
    fn a_long_message_is_cut_with_a_count() {
        let text: Vec<String> = (1..=20).map(|i| format!("line {i}")).collect();
        let cut = head(&text.join("\n"), 15);
        assert!(cut.ends_with("line 15\n... (5 more lines)"), "{cut}");
    }
}
