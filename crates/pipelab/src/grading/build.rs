//! Building one exercise for grading: only its own test targets (the files
//! of the course's tests/, never a target a manifest could add), in the
//! grading tree, into the worker's target directory.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::course::cargo;
use crate::libtest::{head, last_line};
use crate::{Problem, supervise};

/// How long one exercise's build may take before it is stopped.
pub const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// The programs a build made: the test programs to run, and every program
/// of the package (the runner the tests start too), with their identity.
pub struct Programs {
    pub tests: Vec<PathBuf>,
    pub all: Vec<Identity>,
}

/// A built program as it was when the build ended. A student's code runs
/// while the tests do, as the same user: it could replace the runner or a
/// test program for the tests after it. Any write or rename changes the
/// inode or its change time, which no user can set back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub path: PathBuf,
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
    size: u64,
}

impl Identity {
    pub fn of(path: &Path) -> std::io::Result<Identity> {
        let meta = std::fs::metadata(path)?;
        Ok(Identity {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            size: meta.size(),
        })
    }

    /// True while the file is the one the build made.
    pub fn unchanged(&self) -> bool {
        Identity::of(&self.path).is_ok_and(|now| now == *self)
    }
}

pub enum Built {
    Programs(Programs),
    /// The first compiler error (or cargo's last line), for the report.
    Failed(String),
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    manifest_path: Option<PathBuf>,
    executable: Option<PathBuf>,
    profile: Option<Profile>,
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Profile {
    test: bool,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    rendered: Option<String>,
}

/// `cargo test --no-run -p PACKAGE --test NAME...` in `tree`, for the test
/// targets named `targets` (the course's tests/*.rs file stems).
pub fn build(
    tree: &Path,
    target_dir: &Path,
    package: &str,
    exercise_dir: &Path,
    targets: &[String],
) -> Result<Built, Problem> {
    let mut command = Command::new(cargo());
    command
        .args(["test", "--no-run", "--message-format=json", "-p", package])
        .arg("--manifest-path")
        .arg(tree.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(tree)
        .env("CARGO_TERM_COLOR", "never")
        // A submission's build never reads the grader's own flags.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for target in targets {
        command.args(["--test", target]);
    }
    let done = supervise::run(&mut command, BUILD_LIMIT)
        .map_err(|error| Problem::fail(format!("cannot run cargo: {error}")))?;
    if done.timed_out() {
        return Ok(Built::Failed(format!(
            "the build took more than {} s and was stopped",
            BUILD_LIMIT.as_secs()
        )));
    }
    let manifest = exercise_dir.join("Cargo.toml");
    let mut tests = Vec::new();
    let mut all = Vec::new();
    let mut first_error = None;
    for line in done.stdout.lines() {
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        match message.reason.as_str() {
            "compiler-artifact"
                if message.manifest_path.as_deref() == Some(&manifest) =>
            {
                if let Some(path) = message.executable {
                    if message.profile.is_some_and(|p| p.test) {
                        tests.push(path.clone());
                    }
                    all.push(Identity::of(&path)?);
                }
            }
            "compiler-message" if first_error.is_none() => {
                first_error = message
                    .message
                    .filter(|diagnostic| diagnostic.level == "error")
                    .and_then(|diagnostic| diagnostic.rendered);
            }
            _ => {}
        }
    }
    if !done.status.is_some_and(|s| s.success()) || tests.is_empty() {
        let why = match first_error {
            Some(error) => head(error.trim_end(), 25),
            None => format!("cargo: {}", last_line(&done.stderr)),
        };
        return Ok(Built::Failed(why));
    }
    Ok(Built::Programs(Programs { tests, all }))
}
