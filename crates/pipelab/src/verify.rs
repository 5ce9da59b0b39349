//! `cargo lab verify`: the course's own rules, for CI. For every exercise
//! on disk: its pristine copy matches it, its stub compiles and FAILS its
//! tests, its solution PASSES the same tests (every one the stub has), and
//! its lesson has hints.

use std::process::ExitCode;
use std::time::Duration;

use crate::course::Workspace;
use crate::engine::{self, Kind, Target};
use crate::pristine::{self, Comparison};
use crate::state::State;
use crate::{Outcome, ui};

pub fn verify(workspace: &Workspace, limit: u64) -> Outcome {
    let limit = Duration::from_secs(limit);
    let mut state = State::load(&workspace.state_dir);
    let mut problems = 0;
    let mut report = |ok: bool, text: String| {
        if ok {
            println!("  {} {text}", ui::good("ok  "));
        } else {
            problems += 1;
            println!("  {} {text}", ui::bad("FAIL"));
        }
    };
    let mut checked = 0;
    for lesson in &workspace.course.lessons {
        let Some(stub) = Target::exercise(workspace, lesson) else {
            continue;
        };
        checked += 1;
        println!(
            "{}",
            ui::bold(&format!("exercise {} ({})", lesson.number, stub.package))
        );
        let pristine_shown = workspace
            .relative(&workspace.pristine_dir(lesson))
            .display()
            .to_string();
        match pristine::compare(workspace, lesson)? {
            Comparison::Same => {
                report(true, format!("{pristine_shown} matches the stub"))
            }
            Comparison::Differs => report(
                false,
                format!(
                    "{pristine_shown} differs from the stub: run `cargo lab pristine --update {}`",
                    lesson.number
                ),
            ),
            Comparison::Missing => report(
                false,
                format!(
                    "{pristine_shown} is missing: run `cargo lab pristine --update {}`",
                    lesson.number
                ),
            ),
        }
        report(
            !lesson.hints.is_empty(),
            format!(
                "course.toml has {} hints for lesson {}",
                lesson.hints.len(),
                lesson.number
            ),
        );

        let stub_verdict =
            engine::check(workspace, &mut state, &stub, limit, false)?;
        match stub_verdict.kind {
            Kind::DoesNotCompile => report(
                false,
                format!(
                    "the stub does not compile:\n{}",
                    stub_verdict.detail.unwrap_or_default()
                ),
            ),
            Kind::TimedOut => report(
                false,
                format!("the stub's tests hung ({} s)", limit.as_secs()),
            ),
            Kind::Passing => report(
                false,
                "the stub passes its tests: it must fail them".to_string(),
            ),
            Kind::Failing => report(
                stub_verdict.tests.len() > stub_verdict.passed(),
                format!(
                    "the stub compiles and fails its tests ({} of {} fail)",
                    stub_verdict.tests.len() - stub_verdict.passed(),
                    stub_verdict.tests.len()
                ),
            ),
        }

        let Some(solution) = Target::solution(workspace, lesson) else {
            if workspace.is_handout() {
                println!("  (no solutions in a handout)");
            } else {
                report(false, format!("solution {} is missing", lesson.number));
            }
            continue;
        };
        let verdict =
            engine::check(workspace, &mut state, &solution, limit, false)?;
        let missing: Vec<&str> = stub_verdict
            .tests
            .iter()
            .filter(|t| !verdict.tests.iter().any(|s| s.name == t.name))
            .map(|t| t.name.as_str())
            .collect();
        match verdict.kind {
            Kind::Passing if missing.is_empty() => report(
                true,
                format!(
                    "the solution passes all {} tests",
                    verdict.tests.len()
                ),
            ),
            Kind::Passing => report(
                false,
                format!(
                    "the solution does not run these tests of the stub: {}",
                    missing.join(", ")
                ),
            ),
            _ => {
                let why = verdict
                    .first_failure()
                    .map(|t| {
                        format!(
                            "{}: {}",
                            t.name,
                            t.message.clone().unwrap_or_default()
                        )
                    })
                    .or(verdict.detail.clone())
                    .unwrap_or_default();
                report(false, format!("the solution fails: {why}"));
            }
        }
    }
    let _ = state.save(&workspace.state_dir);
    println!("\nExercises checked: {checked}. Problems: {problems}.");
    Ok(if problems == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
