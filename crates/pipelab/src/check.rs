//! `cargo lab check N`, and the one-screen verdict it prints (which
//! `watch` shows too): the tests, the first failure, what to do next.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::course::{Lesson, Workspace};
use crate::engine::{Kind, Verdict, check_exercise};
use crate::state::State;
use crate::{Outcome, fingerprint, ui};

/// `cargo lab check N`.
pub fn command(workspace: &Workspace, lesson: &str, limit: u64) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    let mut state = State::load(&workspace.state_dir);
    ui::progress(&format!("checking exercise {}...", lesson.number));
    let verdict = check_exercise(
        workspace,
        &mut state,
        lesson,
        Duration::from_secs(limit),
    )?;
    let _ = state.save(&workspace.state_dir);
    print!("{}", render(workspace, &state, lesson, &verdict));
    Ok(if verdict.kind == Kind::Passing {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The one-screen verdict: the tests, the first failure, what to do next.
pub fn render(
    workspace: &Workspace,
    state: &State,
    lesson: &Lesson,
    verdict: &Verdict,
) -> String {
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
        let mark = if test.passed { ui::good("pass") } else { ui::bad("FAIL") };
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
            out += &format!(
                "\nNext: fix that error in {dir}, then `cargo lab check {n}` again.\n"
            );
        }
        Kind::TimedOut => {
            out += &format!(
                "\n{}\n",
                ui::bad(
                    verdict.detail.as_deref().unwrap_or("the tests timed out")
                )
            );
            out += "Something in your code waits forever: a read whose pipe still has a \
                    write end open somewhere, or a wait for a child that never ends.\n";
            out += &format!(
                "Next: `cargo lab hint {n}`, then `cargo lab check {n}` again.\n"
            );
        }
        Kind::Failing => {
            out += &format!(
                "\n{} of {} tests pass.\n",
                verdict.passed(),
                verdict.tests.len()
            );
            if let Some(failure) = verdict.first_failure() {
                out += &format!(
                    "\n{} {}\n",
                    ui::bad("First failure:"),
                    failure.name
                );
                out += &indent(
                    failure.message.as_deref().unwrap_or("(no message)"),
                );
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
        .filter(|p| {
            p.extension().is_some_and(|e| e == "rs") && !p.starts_with("tests")
        })
        .filter(|p| {
            std::fs::read_to_string(dir.join(p))
                .is_ok_and(|text| text.contains("// TODO"))
        })
        .collect()
}
