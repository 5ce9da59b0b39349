//! `cargo lab` and `cargo lab list`: the lessons, each exercise's state, and
//! the one next step.
//!
//! An exercise is "not started" while its files equal the pristine stub;
//! otherwise its state is its last verdict, if that verdict was made from
//! the sources as they are now, or a fresh check.

use std::process::ExitCode;
use std::time::Duration;

use crate::course::{Lesson, Workspace};
use crate::engine::{self, Target};
use crate::fingerprint;
use crate::state::State;
use crate::{Outcome, ui};

/// Where an exercise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The lesson's crate does not exist yet.
    ComingSoon,
    /// The lesson has no exercise, or it does not exist yet.
    NoExercise,
    NotStarted,
    Failing,
    Passing,
}

impl Progress {
    pub fn label(self) -> String {
        match self {
            Progress::ComingSoon => ui::dim("coming soon"),
            Progress::NoExercise => ui::dim("no exercise yet"),
            Progress::NotStarted => "not started".to_string(),
            Progress::Failing => ui::bad("failing"),
            Progress::Passing => ui::good("passing"),
        }
    }
}

/// The state of `lesson`'s exercise, checking it if its sources changed
/// since the last verdict.
pub fn progress(
    workspace: &Workspace,
    state: &mut State,
    lesson: &Lesson,
    limit: Duration,
) -> Progress {
    if !workspace.lesson_exists(lesson) {
        return Progress::ComingSoon;
    }
    let Some(target) = Target::exercise(workspace, lesson) else {
        return Progress::NoExercise;
    };
    let pristine = workspace.pristine_dir(lesson);
    if pristine.is_dir()
        && fingerprint::tree(&pristine).ok()
            == fingerprint::tree(&target.dir).ok()
    {
        return Progress::NotStarted;
    }
    if let (Ok(now), Some(cached)) =
        (target.fingerprint(workspace), state.results.get(&target.package))
        && cached.fingerprint == now
    {
        return if cached.passing {
            Progress::Passing
        } else {
            Progress::Failing
        };
    }
    ui::progress(&format!(
        "exercise {} changed since its last check: checking it...",
        lesson.number
    ));
    match engine::check_exercise(workspace, state, lesson, limit) {
        Ok(verdict) if verdict.kind == engine::Kind::Passing => {
            Progress::Passing
        }
        _ => Progress::Failing,
    }
}

/// Every lesson's progress, in course order.
pub fn all(
    workspace: &Workspace,
    state: &mut State,
) -> Vec<(Lesson, Progress)> {
    workspace
        .course
        .lessons
        .iter()
        .map(|lesson| {
            let progress =
                progress(workspace, state, lesson, Duration::from_secs(60));
            (lesson.clone(), progress)
        })
        .collect()
}

/// The one next step, given every lesson's progress.
pub fn next_step(table: &[(Lesson, Progress)]) -> String {
    let open = table
        .iter()
        .find(|(_, p)| matches!(p, Progress::NotStarted | Progress::Failing));
    match open {
        Some((lesson, Progress::NotStarted)) => format!(
            "start lesson {n}, {}: `cargo lab run {n}`, then complete exercises/{}/src/lib.rs and `cargo lab check {n}`.",
            lesson.title,
            lesson.dir_name(),
            n = lesson.number
        ),
        Some((lesson, _)) => format!(
            "finish exercise {n}: `cargo lab check {n}` (stuck? `cargo lab hint {n}`).",
            n = lesson.number
        ),
        None if table.iter().any(|(_, p)| *p == Progress::ComingSoon) => {
            "every exercise available so far passes; more lessons are coming soon.".to_string()
        }
        None => "every exercise passes: the course is done. Well done!".to_string(),
    }
}

/// `cargo lab` (with the next step) and `cargo lab list`.
pub fn show(workspace: &Workspace, list_only: bool) -> Outcome {
    let mut state = State::load(&workspace.state_dir);
    let table = all(workspace, &mut state);
    let _ = state.save(&workspace.state_dir);

    let width = table
        .iter()
        .map(|(lesson, _)| lesson.title.chars().count())
        .max()
        .unwrap_or(0)
        .max("lesson".len());
    let mut out = String::new();
    if !list_only {
        out += &format!("{}\n\n", ui::bold(&workspace.course.title));
    }
    out += &format!("  {:>2}  {:<width$}  {}\n", "#", "lesson", "exercise");
    for (lesson, progress) in &table {
        out += &format!(
            "  {:>2}  {:<width$}  {}\n",
            lesson.number,
            lesson.title,
            progress.label()
        );
    }
    if !list_only {
        let exercises = table
            .iter()
            .filter(|(_, p)| {
                matches!(
                    p,
                    Progress::NotStarted
                        | Progress::Failing
                        | Progress::Passing
                )
            })
            .count();
        let passing =
            table.iter().filter(|(_, p)| *p == Progress::Passing).count();
        out +=
            &format!("\nProgress: {passing} of {exercises} exercises pass.\n");
        out += &format!("{} {}\n", ui::bold("Next:"), next_step(&table));
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
