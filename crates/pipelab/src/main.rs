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

mod check;
mod cli;
mod course;
mod doctor;
mod engine;
mod fingerprint;
mod grade;
mod grade_class;
mod grading;
mod handout;
mod hint;
mod leak;
mod libtest;
mod overview;
mod pristine;
mod report;
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
        Problem { message: message.into(), status: 2 }
    }

    /// Anything else that stops a command: exit status 1.
    pub fn fail(message: impl Into<String>) -> Self {
        Problem { message: message.into(), status: 1 }
    }
}

impl From<std::io::Error> for Problem {
    fn from(error: std::io::Error) -> Self {
        Problem::fail(error.to_string())
    }
}

pub type Outcome = Result<ExitCode, Problem>;

fn main() -> ExitCode {
    // Like any Unix filter: when the reader of our output goes away
    // (`cargo lab grade | head`), end quietly, killed by SIGPIPE, instead of
    // Rust's default of failing every later print with a panic.
    let _ = labkit::process::set_disposition(
        nix::sys::signal::Signal::SIGPIPE,
        labkit::process::Disposition::Default,
    );
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
    // Every command but `completions` and `man` needs the course.
    let course = Workspace::find;
    match cli.command {
        None => overview::show(&course()?, false),
        Some(Command::List) => overview::show(&course()?, true),
        Some(Command::Run { lesson, program, args }) => {
            run::run(&course()?, &lesson, program.as_deref(), &args)
        }
        Some(Command::Check { lesson, limit }) => {
            check::command(&course()?, &lesson, limit)
        }
        Some(Command::Hint { lesson, all }) => {
            hint::hint(&course()?, &lesson, all)
        }
        Some(Command::Watch { poll, limit }) => {
            watch::watch(&course()?, poll, limit)
        }
        Some(Command::Reset { lesson, yes }) => {
            reset::reset(&course()?, &lesson, yes)
        }
        Some(Command::Solution { lesson }) => {
            reset::solution(&course()?, &lesson)
        }
        Some(Command::Grade { lessons, submission, format, out, limit }) => {
            grade::grade(
                &course()?,
                &lessons,
                submission.as_deref(),
                format,
                out.as_deref(),
                limit,
            )
        }
        Some(Command::GradeClass {
            submissions,
            deadline,
            roster,
            out,
            limit,
            jobs,
        }) => grade_class::grade_class(
            &course()?,
            &grade_class::Options {
                submissions,
                deadline,
                roster,
                out,
                limit,
                jobs,
            },
        ),
        Some(Command::Handout { dir }) => handout::handout(&course()?, &dir),
        Some(Command::Doctor) => doctor::doctor(&course()?),
        Some(Command::Verify { limit }) => verify::verify(&course()?, limit),
        Some(Command::Pristine { update, lessons }) => {
            pristine::command(&course()?, &lessons, update)
        }
        Some(Command::Book { args }) => run::book(&course()?, &args),
        Some(Command::Completions { shell }) => {
            let mut command = Cli::command();
            clap_complete::generate(
                shell,
                &mut command,
                "pipelab",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Man) => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
