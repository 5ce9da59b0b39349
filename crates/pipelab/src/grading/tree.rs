//! The tree a submission is built in: the course's own copy of every
//! exercise (its pristine copy: Cargo.toml, tests, runner), with only the
//! files the lesson declares as `student_files` taken from the submission.
//!
//! Nothing else of a submission is read: not its course.toml (points), not
//! its tests, manifests, runner or pristine copies. The tree's workspace
//! manifest lists the exercises only, points the course's own libraries
//! (labkit) at the course's copy, and forbids `unsafe` in the exercises:
//! with it, a student's library could run code before `main` in the test
//! program (`#[link_section = ".init_array"]`) and end it with status 0.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::course::{Lesson, Workspace};
use crate::{Problem, fingerprint};

/// A build tree, kept from one submission to the next by a worker so that
/// the dependencies stay built; every exercise is replaced each time.
pub struct Tree {
    pub root: PathBuf,
}

/// What a submission holds for one exercise.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Every student file was there and copied in.
    Ready,
    /// The submission has no such exercise, or lacks one of its files.
    Missing(String),
}

impl Tree {
    /// Makes (or refreshes) the tree at `root` for `workspace`'s course.
    pub fn prepare(
        workspace: &Workspace,
        root: &Path,
    ) -> Result<Tree, Problem> {
        fs::create_dir_all(root)?;
        let manifest = fs::read_to_string(workspace.root.join("Cargo.toml"))?;
        let rewritten = grading_manifest(&manifest, &workspace.root)?;
        write_if_changed(&root.join("Cargo.toml"), rewritten.as_bytes())?;
        let lock = workspace.root.join("Cargo.lock");
        if lock.is_file() && !root.join("Cargo.lock").is_file() {
            fs::copy(&lock, root.join("Cargo.lock"))?;
        }
        let exercises = root.join("exercises");
        if exercises.is_dir() {
            fs::remove_dir_all(&exercises)?;
        }
        fs::create_dir_all(&exercises)?;
        Ok(Tree { root: root.to_path_buf() })
    }

    pub fn exercise_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("exercises").join(lesson.dir_name())
    }

    /// Lays out `lesson`'s exercise: the course's copy, then the student's
    /// files from `submission` (a course directory) over it. Every file is
    /// written now, so its modification time is newer than any earlier
    /// build in this tree: cargo rebuilds it, whatever the submission's
    /// own timestamps say.
    pub fn take(
        &self,
        workspace: &Workspace,
        lesson: &Lesson,
        submission: &Path,
    ) -> Result<Taken, Problem> {
        let shipped = shipped_dir(workspace, lesson);
        let dir = self.exercise_dir(lesson);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        for relative in fingerprint::files(&shipped)? {
            copy_fresh(&shipped.join(&relative), &dir.join(&relative))?;
        }
        forbid_unsafe(&dir.join("Cargo.toml"))?;
        let theirs = submission.join("exercises").join(lesson.dir_name());
        for file in lesson.student_paths()? {
            let from = theirs.join(&file);
            // A symbolic link could name any file on the grader's machine;
            // only a plain file is the student's work.
            match fs::symlink_metadata(&from) {
                Ok(meta) if meta.is_file() => {
                    copy_fresh(&from, &dir.join(&file))?
                }
                _ => {
                    return Ok(Taken::Missing(format!(
                        "exercises/{}/{} is missing from the submission",
                        lesson.dir_name(),
                        file.display()
                    )));
                }
            }
        }
        Ok(Taken::Ready)
    }

    /// Removes `lesson`'s exercise, so that a later build cannot pick up
    /// what this submission left.
    pub fn clear(&self, lesson: &Lesson) -> io::Result<()> {
        let dir = self.exercise_dir(lesson);
        if dir.exists() {
            fs::remove_dir_all(dir)?;
        }
        Ok(())
    }
}

/// The exercise as the course ships it: its pristine copy, or the course's
/// own exercises/ directory where there is none.
pub fn shipped_dir(workspace: &Workspace, lesson: &Lesson) -> PathBuf {
    let pristine = workspace.pristine_dir(lesson);
    if pristine.join("Cargo.toml").is_file() {
        pristine
    } else {
        workspace.exercise_dir(lesson)
    }
}

/// The course's workspace manifest, made for grading: the exercises are the
/// only members, path dependencies point into the course (absolute), and
/// `unsafe` is forbidden in the members (an `#![allow]` cannot undo it).
pub fn grading_manifest(text: &str, course: &Path) -> Result<String, Problem> {
    let bad = |why: String| {
        Problem::fail(format!("cannot read the course's Cargo.toml: {why}"))
    };
    let mut manifest: toml::Table =
        text.parse().map_err(|e: toml::de::Error| bad(e.to_string()))?;
    let workspace = manifest
        .get_mut("workspace")
        .and_then(|w| w.as_table_mut())
        .ok_or_else(|| bad("it has no [workspace]".to_string()))?;
    workspace.insert(
        "members".to_string(),
        toml::Value::Array(vec!["exercises/*".into()]),
    );
    workspace.remove("default-members");
    workspace.remove("exclude");
    if let Some(deps) =
        workspace.get_mut("dependencies").and_then(|d| d.as_table_mut())
    {
        for (_, spec) in deps.iter_mut() {
            if let Some(table) = spec.as_table_mut()
                && let Some(path) = table.get("path").and_then(|p| p.as_str())
            {
                let absolute = course.join(path);
                table.insert(
                    "path".to_string(),
                    absolute.to_string_lossy().into_owned().into(),
                );
            }
        }
    }
    let lints =
        workspace.entry("lints").or_insert_with(|| toml::Table::new().into());
    let rust = lints
        .as_table_mut()
        .ok_or_else(|| bad("[workspace.lints] is not a table".to_string()))?
        .entry("rust")
        .or_insert_with(|| toml::Table::new().into());
    rust.as_table_mut()
        .ok_or_else(
            || bad("[workspace.lints.rust] is not a table".to_string()),
        )?
        .insert("unsafe_code".to_string(), "forbid".into());
    toml::to_string(&manifest).map_err(|e| bad(e.to_string()))
}

/// Makes the exercise's own manifest forbid `unsafe` too, when it does not
/// take its lints from the workspace (which forbids it).
fn forbid_unsafe(manifest: &Path) -> Result<(), Problem> {
    let text = fs::read_to_string(manifest)?;
    let mut table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| {
            Problem::fail(format!("{}: {e}", manifest.display()))
        })?;
    let lints =
        table.entry("lints").or_insert_with(|| toml::Table::new().into());
    let Some(lints) = lints.as_table_mut() else {
        return Err(Problem::fail(format!(
            "{}: [lints] is not a table",
            manifest.display()
        )));
    };
    if lints.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
        return Ok(());
    }
    if let Some(rust) = lints
        .entry("rust")
        .or_insert_with(|| toml::Table::new().into())
        .as_table_mut()
    {
        rust.insert("unsafe_code".to_string(), "forbid".into());
    }
    let text =
        toml::to_string(&table).map_err(|e| Problem::fail(e.to_string()))?;
    fs::write(manifest, text)?;
    Ok(())
}

/// Copies `from` to `to` as a new file with the current time as its
/// modification time (fs::copy keeps neither the old inode nor its time,
/// but say so rather than rely on it).
fn copy_fresh(from: &Path, to: &Path) -> io::Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    let _ = fs::remove_file(to);
    fs::copy(from, to)?;
    fs::File::options().write(true).open(to)?.set_modified(SystemTime::now())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grading_manifest_has_only_exercises_and_forbids_unsafe() {
        let manifest = "[workspace]\nmembers = [\"crates/*\", \"exercises/*\"]\n\
            default-members = [\"crates/*\"]\n\n\
            [workspace.dependencies]\nlabkit = { path = \"crates/labkit\" }\nnix = \"0.31\"\n\n\
            [workspace.lints.rust]\nunsafe_code = \"deny\"\n";
        let out = grading_manifest(manifest, Path::new("/course")).unwrap();
        let parsed: toml::Table = out.parse().unwrap();
        let ws = &parsed["workspace"];
        assert_eq!(ws["members"].as_array().unwrap().len(), 1);
        assert!(ws.get("default-members").is_none());
        assert_eq!(
            ws["dependencies"]["labkit"]["path"].as_str(),
            Some("/course/crates/labkit")
        );
        assert_eq!(ws["dependencies"]["nix"].as_str(), Some("0.31"));
        assert_eq!(ws["lints"]["rust"]["unsafe_code"].as_str(), Some("forbid"));
    }
}
