//! The pristine copies: each exercise as the course ships it, kept in
//! crates/pipelab/pristine/NN-slug. `cargo lab reset` restores from here
//! (not from git: a student's copy may have no history, or theirs only), and
//! "not started" means "equal to this".
//!
//! Course authors who change a stub run `cargo lab pristine --update`;
//! `cargo lab verify` (in CI) fails while a copy and its exercise differ.

use std::fs;
use std::io;
use std::path::Path;
use std::process::ExitCode;

use crate::course::{Lesson, Workspace};
use crate::fingerprint;
use crate::{Outcome, Problem};

/// How a pristine copy compares with its exercise.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    Same,
    Differs,
    Missing,
}

pub fn compare(
    workspace: &Workspace,
    lesson: &Lesson,
) -> io::Result<Comparison> {
    let pristine = workspace.pristine_dir(lesson);
    if !pristine.is_dir() {
        return Ok(Comparison::Missing);
    }
    let same = fingerprint::tree(&pristine)?
        == fingerprint::tree(&workspace.exercise_dir(lesson))?;
    Ok(if same { Comparison::Same } else { Comparison::Differs })
}

/// Replaces everything `dir` holds (but its build output) with a copy of
/// `from`.
pub fn replace_tree(from: &Path, dir: &Path) -> io::Result<()> {
    for relative in fingerprint::files(dir)? {
        fs::remove_file(dir.join(relative))?;
    }
    copy_tree(from, dir)
}

/// Copies every file `fingerprint::files` sees under `from` into `to`.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    for relative in fingerprint::files(from)? {
        let target = to.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(from.join(&relative), &target)?;
    }
    Ok(())
}

/// The lessons named in `args`, or every lesson with an exercise on disk.
pub fn selected<'a>(
    workspace: &'a Workspace,
    args: &[String],
) -> Result<Vec<&'a Lesson>, Problem> {
    Ok(workspace
        .lessons_named(args)?
        .into_iter()
        .filter(|lesson| workspace.exercise_of(lesson).is_some())
        .collect())
}

/// `cargo lab pristine [--update] [LESSON...]`.
pub fn command(
    workspace: &Workspace,
    lessons: &[String],
    update: bool,
) -> Outcome {
    if update && workspace.is_handout() {
        return Err(Problem::fail(
            "a handout's pristine copies are the course's: they are not updated here",
        ));
    }
    let mut differing = 0;
    for lesson in selected(workspace, lessons)? {
        let pristine = workspace.pristine_dir(lesson);
        let shown = workspace.relative(&pristine).display().to_string();
        match (compare(workspace, lesson)?, update) {
            (Comparison::Same, _) => println!("{shown}: matches its exercise"),
            (Comparison::Missing, true) | (Comparison::Differs, true) => {
                fs::create_dir_all(&pristine)?;
                replace_tree(&workspace.exercise_dir(lesson), &pristine)?;
                println!("{shown}: updated from its exercise");
            }
            (Comparison::Missing, false) => {
                differing += 1;
                println!(
                    "{shown}: missing (run `cargo lab pristine --update {}`)",
                    lesson.number
                );
            }
            (Comparison::Differs, false) => {
                differing += 1;
                println!(
                    "{shown}: differs from its exercise (run `cargo lab pristine --update {}` after changing the stub)",
                    lesson.number
                );
            }
        }
    }
    Ok(if differing == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
