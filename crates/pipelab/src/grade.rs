//! `cargo lab grade`: every exercise built and tested afresh (the state
//! file is never trusted here), each test run bounded by a limit that kills
//! a hung exercise and everything it started, and scored.
//!
//! The tests that count are the ones the course ships: the `#[test]`
//! functions of the pristine copy's tests/. A test a student adds earns
//! nothing; one they delete counts as failed; an edited test file is
//! reported. Points: `points` on a lesson makes its exercise all or
//! nothing; otherwise each test earns `points_per_test` (default 1).

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::cli::Format;
use crate::course::{Lesson, Workspace};
use crate::engine::{self, Kind, Target};
use crate::fingerprint;
use crate::state::State;
use crate::{Outcome, Problem, ui};

#[derive(Serialize)]
pub struct Report {
    pub course: String,
    pub score: u32,
    pub max_score: u32,
    pub exercises: Vec<ExerciseReport>,
}

#[derive(Serialize)]
pub struct ExerciseReport {
    pub number: u32,
    pub slug: String,
    pub package: String,
    /// passed, failed, does-not-compile, timed-out, missing
    pub status: &'static str,
    pub score: u32,
    pub max_score: u32,
    pub tests_passed: usize,
    pub tests_total: usize,
    /// True when tests/ differs from the course's.
    pub tests_modified: bool,
    /// The compiler error or why the run was stopped.
    pub detail: Option<String>,
    pub tests: Vec<TestReport>,
}

#[derive(Serialize)]
pub struct TestReport {
    pub name: String,
    pub passed: bool,
    pub score: u32,
    pub message: Option<String>,
}

pub fn grade(
    workspace: &Workspace,
    lessons: &[String],
    format: Format,
    out: Option<&Path>,
    limit: u64,
) -> Outcome {
    let selected = graded(workspace, lessons)?;
    if selected.is_empty() {
        return Err(Problem::fail("there is no exercise to grade"));
    }
    let limit = Duration::from_secs(limit);
    let mut state = State::load(&workspace.state_dir);
    let mut exercises = Vec::new();
    for lesson in selected {
        ui::progress(&format!("grading exercise {}...", lesson.number));
        exercises.push(grade_one(workspace, &mut state, lesson, limit)?);
    }
    let report = Report {
        course: workspace.course.title.clone(),
        score: exercises.iter().map(|e| e.score).sum(),
        max_score: exercises.iter().map(|e| e.max_score).sum(),
        exercises,
    };
    let text = match format {
        Format::Text => text(&report),
        Format::Json => {
            serde_json::to_string_pretty(&report)
                .map_err(|e| Problem::fail(e.to_string()))?
                + "\n"
        }
        Format::Junit => junit(&report),
    };
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
    Ok(if report.score == report.max_score {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The exercises to grade: those named (or all) that exist, or that the
/// course ships (it keeps a pristine copy) but the student's copy has lost,
/// which score 0 rather than vanish from the total.
fn graded<'a>(
    workspace: &'a Workspace,
    args: &[String],
) -> Result<Vec<&'a Lesson>, Problem> {
    Ok(workspace
        .lessons_named(args)?
        .into_iter()
        .filter(|lesson| {
            workspace.exercise_of(lesson).is_some()
                || (lesson.exercise.is_some()
                    && workspace.pristine_dir(lesson).is_dir())
        })
        .collect())
}

fn grade_one(
    workspace: &Workspace,
    state: &mut State,
    lesson: &Lesson,
    limit: Duration,
) -> Result<ExerciseReport, Problem> {
    let pristine_tests = workspace.pristine_dir(lesson).join("tests");
    let exercise_tests = workspace.exercise_dir(lesson).join("tests");
    let canonical_dir =
        if pristine_tests.is_dir() { &pristine_tests } else { &exercise_tests };
    let canonical = test_names(canonical_dir)?;
    let tests_modified = pristine_tests.is_dir()
        && fingerprint::tree(&pristine_tests)?
            != fingerprint::tree(&exercise_tests)?;
    let verdict = match Target::exercise(workspace, lesson) {
        Some(target) => {
            Some(engine::check(workspace, state, &target, limit, false)?)
        }
        None => None,
    };

    let per_test = workspace.course.points_per_test.unwrap_or(1);
    let max_score = lesson.points.unwrap_or(per_test * canonical.len() as u32);
    let counted = verdict.as_ref().is_some_and(|v| v.kind != Kind::TimedOut);
    let results = verdict.as_ref().map(|v| v.tests.as_slice()).unwrap_or(&[]);
    let tests: Vec<TestReport> = canonical
        .iter()
        .map(|name| {
            let result = results.iter().find(|t| same_test(&t.name, name));
            let passed = counted && result.is_some_and(|t| t.passed);
            TestReport {
                name: name.clone(),
                passed,
                score: if passed && lesson.points.is_none() {
                    per_test
                } else {
                    0
                },
                message: match result {
                    None if counted => {
                        Some("this test did not run".to_string())
                    }
                    None => None,
                    Some(t) => t.message.clone(),
                },
            }
        })
        .collect();
    let tests_passed = tests.iter().filter(|t| t.passed).count();
    let all_pass = !tests.is_empty() && tests_passed == tests.len();
    let score = match lesson.points {
        Some(points) if all_pass => points,
        Some(_) => 0,
        None => tests.iter().map(|t| t.score).sum(),
    };
    let status = match verdict.as_ref().map(|v| v.kind) {
        None => "missing",
        Some(Kind::DoesNotCompile) => "does-not-compile",
        Some(Kind::TimedOut) => "timed-out",
        _ if all_pass => "passed",
        _ => "failed",
    };
    let detail = match verdict {
        Some(verdict) => verdict.detail,
        None => Some(format!(
            "{} is missing",
            workspace.relative(&workspace.exercise_dir(lesson)).display()
        )),
    };
    Ok(ExerciseReport {
        number: lesson.number,
        slug: lesson.slug.clone(),
        package: lesson.exercise.clone().unwrap_or_default(),
        status,
        score,
        max_score,
        tests_passed,
        tests_total: tests.len(),
        tests_modified,
        detail,
        tests,
    })
}

/// libtest names a test by its module path; the source gives the bare name.
fn same_test(run_name: &str, source_name: &str) -> bool {
    run_name == source_name || run_name.ends_with(&format!("::{source_name}"))
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

fn text(report: &Report) -> String {
    let mut out =
        format!("{}\n\n", ui::bold(&format!("Grading: {}", report.course)));
    let width =
        report.exercises.iter().map(|e| e.package.len()).max().unwrap_or(8);
    let _ = writeln!(
        out,
        "  {:>2}  {:<width$}  {:>6}  {:>6}  result",
        "#", "exercise", "tests", "points"
    );
    for e in &report.exercises {
        let result = match e.status {
            "passed" => ui::good("passed"),
            other => ui::bad(other),
        };
        let _ = writeln!(
            out,
            "  {:>2}  {:<width$}  {:>6}  {:>6}  {result}{}",
            e.number,
            e.package,
            format!("{}/{}", e.tests_passed, e.tests_total),
            format!("{}/{}", e.score, e.max_score),
            if e.tests_modified { "  (tests/ was modified)" } else { "" }
        );
    }
    let _ = writeln!(out, "\nScore: {}/{}", report.score, report.max_score);
    out
}

fn junit(report: &Report) -> String {
    let failures: usize =
        report.exercises.iter().map(|e| e.tests_total - e.tests_passed).sum();
    let total: usize = report.exercises.iter().map(|e| e.tests_total).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{total}\" failures=\"{failures}\">",
        xml(&report.course)
    );
    for e in &report.exercises {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
            xml(&e.package),
            e.tests_total,
            e.tests_total - e.tests_passed
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"score\" value=\"{}/{}\"/><property name=\"status\" value=\"{}\"/></properties>",
            e.score, e.max_score, e.status
        );
        for t in &e.tests {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&e.package),
                xml(&t.name)
            );
            if t.passed {
                out += "/>\n";
            } else {
                let message = t
                    .message
                    .as_deref()
                    .or(e.detail.as_deref())
                    .unwrap_or(e.status);
                // The location line says where; the line after it says what.
                let first = message
                    .lines()
                    .find(|line| {
                        !line.trim().is_empty()
                            && !line.starts_with("panicked at")
                    })
                    .unwrap_or(e.status);
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(first),
                    xml(message)
                );
            }
        }
        out += "  </testsuite>\n";
    }
    out += "</testsuites>\n";
    out
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml(r#"a<b & "c">"#), "a&lt;b &amp; &quot;c&quot;&gt;");
    }
}
