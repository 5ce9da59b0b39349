//! The command line, declared once: clap parses it, and the same
//! declaration generates the shell completions and the man page.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use labkit::ColorChoice;

/// The pipelab course runner: lessons, exercises, hints, grades.
///
/// With no command, shows the lessons, your progress and the next step.
/// LESSON is a lesson's number (1 or 01) or its slug (pipe-fork).
#[derive(Parser, Debug)]
#[command(name = "pipelab", bin_name = "cargo lab", version)]
pub struct Cli {
    /// Colour: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the lessons with the state of each exercise.
    List,

    /// Build and run a lesson's program; arguments after `--` go to it.
    Run {
        lesson: String,
        /// Which program, for lessons with several (its name, or the part
        /// after its last '-': `server` for fifo-server). Default: the demo.
        program: Option<String>,
        /// Arguments for the lesson's program (put them after `--`).
        #[arg(last = true)]
        args: Vec<String>,
    },

    /// Run an exercise's tests and show a one-screen verdict.
    Check {
        lesson: String,
        /// Stop the tests after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        limit: u64,
    },

    /// Show one more hint for an exercise each time (or all of them).
    Hint {
        lesson: String,
        /// Show every hint at once.
        #[arg(long)]
        all: bool,
    },

    /// Re-check the current exercise whenever its files are saved.
    Watch {
        /// Look for changes every second instead of using file events
        /// (for WSL2 and network file systems).
        #[arg(long)]
        poll: bool,
        /// Stop each check's tests after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        limit: u64,
    },

    /// Restore an exercise to its untouched stub, keeping a backup of yours.
    Reset {
        lesson: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },

    /// Show the reference solution of an exercise, once yours passes.
    Solution { lesson: String },

    /// Score every exercise (for instructors and autograders).
    ///
    /// Run it in the instructor's copy of the course: course.toml, the
    /// tests, manifests and runners come from there, and only each
    /// exercise's student_files from the submission.
    Grade {
        /// Grade only these lessons' exercises (default: all).
        lessons: Vec<String>,
        /// The student's copy of the course (default: this course, which
        /// is only a self-check).
        #[arg(long, value_name = "DIR")]
        submission: Option<PathBuf>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the report to FILE instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Stop an exercise's tests after this many seconds in all (the
        /// tests it did not finish score 0).
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        limit: u64,
    },

    /// Grade a class: every submission in DIR (one directory per student).
    ///
    /// Writes grades.csv and grades.json (to --out, default DIR's parent).
    GradeClass {
        /// A directory holding one directory (a clone or a folder) per student.
        submissions: PathBuf,
        /// Grade each clone's last commit before this time (git's date
        /// syntax, e.g. "2026-12-01 23:59 +0000"); a folder is graded as is.
        #[arg(long, value_name = "TIME")]
        deadline: Option<String>,
        /// A file with one student name a line: those without a submission
        /// get a row flagged "missing".
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Where to write grades.csv and grades.json.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Seconds each exercise's tests may take in all, per submission.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        limit: u64,
        /// Submissions graded at once (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },

    /// Write a student copy of the course, without the solutions, to DIR.
    Handout { dir: PathBuf },

    /// Check this machine for what the course needs.
    Doctor,

    /// Check the course's own rules (for course authors and CI).
    ///
    /// Every stub compiles and fails its tests, every solution passes them,
    /// every pristine copy matches its exercise, every lesson has hints.
    Verify {
        /// Stop each test run after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 120)]
        limit: u64,
    },

    /// Compare the pristine copies that `reset` restores with the exercises.
    ///
    /// Course authors who change a stub run `--update` to copy it over.
    Pristine {
        /// Copy the exercises over their pristine copies.
        #[arg(long)]
        update: bool,
        /// Only these lessons (default: all).
        lessons: Vec<String>,
    },

    /// Build the book (arguments go to the book builder: --open, --serve, --port N).
    #[command(disable_help_flag = true)]
    Book {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },

    /// Print the man page (roff).
    Man,
}

/// How `grade` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table and `Score: X/Y`, for people.
    Text,
    /// One JSON document, for autograders.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// GitHub Classroom's result (points per test), for its reporter.
    Classroom,
}
