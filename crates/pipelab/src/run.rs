//! `cargo lab run N [PROGRAM] [-- ARGS]` and `cargo lab book [ARGS]`.
//!
//! Both replace the runner with cargo (exec, not spawn): the lesson's exit
//! status, or the signal that killed it, becomes the command's own, so
//! `cargo lab run 3 -- ... | head -n1` shows 141 as a shell would.

use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::course::{Workspace, cargo};
use crate::{Outcome, Problem};

pub fn run(
    workspace: &Workspace,
    lesson: &str,
    program: Option<&str>,
    args: &[String],
) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    if !workspace.lesson_exists(lesson) {
        return Err(Problem::fail(format!(
            "lesson {} is coming soon: {} does not exist yet",
            lesson.number,
            workspace.relative(&workspace.lesson_dir(lesson)).display()
        )));
    }
    let program =
        pick_program(&lesson.programs, lesson.demo.as_deref(), program)
            .map_err(|valid| {
                Problem::usage(format!(
                    "lesson {} has no program '{}': choose one of {valid}",
                    lesson.number,
                    program.unwrap_or("")
                ))
            })?;
    let error = Command::new(cargo())
        .args(["run", "-q", "-p", &lesson.package, "--bin", &program, "--"])
        .args(args)
        .current_dir(&workspace.root)
        .exec();
    Err(Problem::fail(format!("cannot run cargo: {error}")))
}

/// The program `wanted` names (exactly, or by the part after its last
/// '-'), or the demo when none is named. On failure, the valid names.
pub fn pick_program(
    programs: &[String],
    demo: Option<&str>,
    wanted: Option<&str>,
) -> Result<String, String> {
    let found = match wanted {
        None => demo.map(str::to_string).or_else(|| programs.first().cloned()),
        Some(name) => programs
            .iter()
            .find(|p| p.as_str() == name)
            .or_else(|| {
                programs.iter().find(|p| {
                    p.rsplit_once('-').is_some_and(|(_, last)| last == name)
                })
            })
            .cloned(),
    };
    found.ok_or_else(|| programs.join(", "))
}

pub fn book(workspace: &Workspace, args: &[String]) -> Outcome {
    let package_dir = workspace.root.join("crates/pipelab-book");
    if !package_dir.join("Cargo.toml").is_file() {
        return Err(Problem::fail(
            "the book builder (crates/pipelab-book) is not in this copy of the course",
        ));
    }
    let error = Command::new(cargo())
        .args(["run", "-q", "-p", "pipelab-book", "--"])
        .args(args)
        .current_dir(&workspace.root)
        .exec();
    Err(Problem::fail(format!("cannot run cargo: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs() -> Vec<String> {
        ["fifo-demo", "fifo-server", "fifo-client"].map(String::from).to_vec()
    }

    #[test]
    fn a_program_is_picked_by_name_by_suffix_or_as_the_demo() {
        let all = programs();
        assert_eq!(
            pick_program(&all, Some("fifo-demo"), None).unwrap(),
            "fifo-demo"
        );
        assert_eq!(
            pick_program(&all, Some("fifo-demo"), Some("server")).unwrap(),
            "fifo-server"
        );
        assert_eq!(
            pick_program(&all, None, Some("fifo-client")).unwrap(),
            "fifo-client"
        );
        assert_eq!(
            pick_program(&all, None, Some("nope")).unwrap_err(),
            "fifo-demo, fifo-server, fifo-client"
        );
    }
}
