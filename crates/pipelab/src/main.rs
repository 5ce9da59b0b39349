//! pipelab: the course runner, `cargo lab`.
//!
//! Usage:
//!   cargo lab                      the lessons, your progress, the next step
//!   cargo lab run N [PROGRAM] [-- ARGS]
//!   cargo lab check N              your exercise's tests, one screen of verdict
//!   cargo lab hint N [--all]       one more hint each time
//!   cargo lab watch                re-check on every save
//!   cargo lab grade --format json  every exercise scored (instructors)
//!
//! The runner reads course.toml, the one list of lessons, and keeps its own
//! state (results cached by a hash of each exercise's sources, hints seen)
//! under target/pipelab/. It never asks a question without a terminal and
//! never colours output that is not one.

mod cli;
mod course;
mod doctor;
mod engine;
mod fingerprint;
mod grade;
mod handout;
mod hint;
mod overview;
mod pristine;
mod reset;
mod run;
mod state;
mod supervise;
mod ui;
mod verify;
mod watch;

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::course::Workspace;

/// What went wrong, as one line for stderr, and the exit status it earns.
#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub status: u8,
}

impl Problem {
    /// A bad argument: exit status 2, as clap and cargo use.
    pub fn usage(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            status: 2,
        }
    }

    /// Anything else that stops a command: exit status 1.
    pub fn fail(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            status: 1,
        }
    }
}

impl From<std::io::Error> for Problem {
    fn from(error: std::io::Error) -> Self {
        Problem::fail(error.to_string())
    }
}

pub type Outcome = Result<ExitCode, Problem>;

fn main() -> ExitCode {
    let cli: Cli = labkit::cli::parse();
    ui::init(cli.color);
    match dispatch(cli) {
        Ok(code) => code,
        Err(problem) => {
            eprintln!("pipelab: error: {}", problem.message);
            ExitCode::from(problem.status)
        }
    }
}

fn dispatch(cli: Cli) -> Outcome {
    let command = match cli.command {
        // These two need no course at all.
        Some(Command::Completions { shell }) => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "pipelab", &mut std::io::stdout());
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Man) => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            return Ok(ExitCode::SUCCESS);
        }
        other => other,
    };
    let workspace = Workspace::find()?;
    match command {
        None => overview::show(&workspace, false),
        Some(Command::List) => overview::show(&workspace, true),
        Some(Command::Run {
            lesson,
            program,
            args,
        }) => run::run(&workspace, &lesson, program.as_deref(), &args),
        Some(Command::Check { lesson, limit }) => engine::check_command(&workspace, &lesson, limit),
        Some(Command::Hint { lesson, all }) => hint::hint(&workspace, &lesson, all),
        Some(Command::Watch { poll, limit }) => watch::watch(&workspace, poll, limit),
        Some(Command::Reset { lesson, yes }) => reset::reset(&workspace, &lesson, yes),
        Some(Command::Solution { lesson }) => reset::solution(&workspace, &lesson),
        Some(Command::Grade {
            lessons,
            format,
            out,
            limit,
        }) => grade::grade(&workspace, &lessons, format, out.as_deref(), limit),
        Some(Command::Handout { dir }) => handout::handout(&workspace, &dir),
        Some(Command::Doctor) => doctor::doctor(&workspace),
        Some(Command::Verify { limit }) => verify::verify(&workspace, limit),
        Some(Command::Pristine { update, lessons }) => {
            pristine::command(&workspace, &lessons, update)
        }
        Some(Command::Book { args }) => run::book(&workspace, &args),
        Some(Command::Completions { .. } | Command::Man) => Ok(ExitCode::SUCCESS),
    }
}
