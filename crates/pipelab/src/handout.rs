//! `cargo lab handout DIR`: a student copy of the course. Everything but
//! the reference solutions (and build output, version control, backups),
//! with the workspace's member lists rewritten so that it builds without
//! them, and a HANDOUT.md at its root that marks it as a handout.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::course::{HANDOUT_MARKER, Workspace};
use crate::{Outcome, Problem, fingerprint, leak, pristine};

/// Top-level entries of the course that a handout leaves out.
const LEFT_OUT: [&str; 4] = ["solutions", "target", "backups", "book/build"];

const MARKER_TEXT: &str = "# A student copy of pipelab\n\n\
This copy of the course was made with `cargo lab handout` for students: the\n\
reference solutions are not included. Start with `cargo lab`.\n";

pub fn handout(workspace: &Workspace, dir: &Path) -> Outcome {
    if dir.exists()
        && fs::read_dir(dir)
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(true)
    {
        return Err(Problem::fail(format!(
            "{} already exists and is not empty: choose a new directory",
            dir.display()
        )));
    }
    let name = dir.file_name().ok_or_else(|| {
        Problem::usage(format!("{} names no directory", dir.display()))
    })?;
    let parent = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).map_err(|error| {
        Problem::fail(format!("cannot create {}: {error}", parent.display()))
    })?;
    let dir = parent.canonicalize()?.join(name);
    if dir.starts_with(&workspace.root) {
        return Err(Problem::usage(
            "the handout must be written outside the course",
        ));
    }
    // Written beside its place, then moved there once it is checked: a
    // refused handout leaves nothing behind.
    let partial = dir.with_file_name(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write(workspace, &partial)
        .and_then(|()| leak::check(workspace, &partial))
        .and_then(|()| {
            fs::rename(&partial, &dir).map_err(|error| {
                Problem::fail(format!(
                    "cannot write {}: {error}",
                    dir.display()
                ))
            })
        });
    if let Err(problem) = written {
        let _ = fs::remove_dir_all(&partial);
        return Err(problem);
    }
    println!("Wrote a student copy of the course to {}", dir.display());
    println!("(no solutions/; marked by {HANDOUT_MARKER}).");
    println!("Check it with: cd {} && cargo test && cargo lab", dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The course without its solutions, at `dir`.
fn write(workspace: &Workspace, dir: &Path) -> Result<(), Problem> {
    fs::create_dir_all(dir)?;
    for relative in fingerprint::files(&workspace.root)? {
        if LEFT_OUT.iter().any(|left| relative.starts_with(left)) {
            continue;
        }
        let target = dir.join(&relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::copy(workspace.root.join(&relative), &target)?;
    }
    // Hidden files the course needs (the `cargo lab` alias, CI workflows):
    // `fingerprint::files` skips every dot-file, so copy these on purpose.
    for hidden in [".cargo", ".github", ".gitignore"] {
        let from = workspace.root.join(hidden);
        if from.is_dir() {
            pristine::copy_tree(&from, &dir.join(hidden))?;
        } else if from.is_file() {
            fs::copy(&from, dir.join(hidden))?;
        }
    }
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)?;
    fs::write(&manifest, without_solutions(&text)?)?;
    fs::write(dir.join(HANDOUT_MARKER), MARKER_TEXT)?;
    Ok(())
}

/// The workspace manifest without `solutions/*` in its member lists.
pub fn without_solutions(manifest: &str) -> Result<String, Problem> {
    let rewritten = manifest
        .replace(", \"solutions/*\"", "")
        .replace("\"solutions/*\", ", "")
        .replace("\"solutions/*\"", "");
    let parsed: toml::Table = rewritten.parse().map_err(|error| {
        Problem::fail(format!("cannot rewrite Cargo.toml: {error}"))
    })?;
    let workspace = parsed.get("workspace").and_then(|w| w.as_table());
    let mentions = ["members", "default-members"].iter().any(|key| {
        workspace
            .and_then(|w| w.get(*key))
            .and_then(|m| m.as_array())
            .is_some_and(|m| {
                m.iter().any(|v| {
                    v.as_str().is_some_and(|s| s.starts_with("solutions"))
                })
            })
    });
    if mentions {
        return Err(Problem::fail(
            "Cargo.toml lists solutions in a form the handout cannot rewrite",
        ));
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solutions_leave_both_member_lists() {
        let manifest = "[workspace]\nmembers = [\"crates/*\", \"lessons/*\", \"exercises/*\", \"solutions/*\"]\n\
                        default-members = [\"crates/*\", \"solutions/*\", \"lessons/*\"]\n";
        let rewritten = without_solutions(manifest).unwrap();
        assert_eq!(
            rewritten,
            "[workspace]\nmembers = [\"crates/*\", \"lessons/*\", \"exercises/*\"]\n\
             default-members = [\"crates/*\", \"lessons/*\"]\n"
        );
    }
}
