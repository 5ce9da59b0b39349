//! `cargo lab hint N`: tiered hints, vague to precise. Each call shows one
//! more than the last (the count is kept in the state file); `--all` shows
//! every one.

use std::process::ExitCode;

use crate::course::{Lesson, Workspace};
use crate::state::State;
use crate::{Outcome, ui};

pub fn hint(workspace: &Workspace, lesson: &str, all: bool) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    let hints = &lesson.hints;
    if hints.is_empty() {
        println!("Lesson {} has no hints yet.", lesson.number);
        return Ok(ExitCode::SUCCESS);
    }
    let mut state = State::load(&workspace.state_dir);
    let shown = if all {
        state.hints.insert(lesson.slug.clone(), hints.len());
        hints.len()
    } else {
        reveal_next(&mut state, lesson)
    };
    state.save(&workspace.state_dir)?;

    for (index, text) in hints.iter().enumerate().take(shown) {
        let label = format!("Hint {} of {}:", index + 1, hints.len());
        // The newest hint stands out; the earlier ones are there to re-read.
        let label =
            if index + 1 == shown { ui::bold(&label) } else { ui::dim(&label) };
        println!("{label} {text}\n");
    }
    if shown < hints.len() {
        println!(
            "Run `cargo lab hint {}` again for the next one.",
            lesson.number
        );
    } else {
        println!(
            "That was the last hint. The book's chapter on lesson {} explains every step.",
            lesson.number
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts one more hint of `lesson` as seen; returns how many are seen now.
pub fn reveal_next(state: &mut State, lesson: &Lesson) -> usize {
    let seen = state.hints.get(&lesson.slug).copied().unwrap_or(0);
    let shown = (seen + 1).min(lesson.hints.len());
    state.hints.insert(lesson.slug.clone(), shown);
    shown
}
