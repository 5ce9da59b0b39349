//! `cargo lab handout DIR`: a student copy of the course. Everything but
//! the reference solutions (and build output, version control, backups),
//! with the workspace's member lists rewritten so that it builds without
//! them, and a HANDOUT.md at its root that marks it as a handout.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::course::{HANDOUT_MARKER, Workspace};
use crate::{Outcome, Problem, fingerprint, pristine};

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
    fs::create_dir_all(dir).map_err(|error| {
        Problem::fail(format!("cannot create {}: {error}", dir.display()))
    })?;
    let dir = dir.canonicalize()?;
    if dir.starts_with(&workspace.root) {
        let _ = fs::remove_dir(&dir);
        return Err(Problem::usage(
            "the handout must be written outside the course",
        ));
    }

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

    check_no_solution_inside(workspace, &dir)?;
    println!(
        "Wrote a student copy of the course to {} (no solutions/; marked by {HANDOUT_MARKER}).",
        dir.display()
    );
    println!("Check it with: cd {} && cargo test && cargo lab", dir.display());
    Ok(ExitCode::SUCCESS)
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

/// Refuses a handout in which a file has the same contents as a solution's
/// source: a sure sign that solution code got in.
fn check_no_solution_inside(
    workspace: &Workspace,
    dir: &Path,
) -> Result<(), Problem> {
    let solutions = workspace.root.join("solutions");
    let mut sources = Vec::new();
    for relative in fingerprint::files(&solutions)? {
        if relative.extension().is_some_and(|e| e == "rs") {
            sources
                .push((relative.clone(), fs::read(solutions.join(&relative))?));
        }
    }
    for relative in fingerprint::files(dir)? {
        let bytes = fs::read(dir.join(&relative))?;
        if let Some((source, _)) = sources.iter().find(|(_, s)| *s == bytes) {
            return Err(Problem::fail(format!(
                "{} in the handout is a copy of solutions/{}: the handout is not safe to give out",
                relative.display(),
                source.display()
            )));
        }
    }
    Ok(())
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
