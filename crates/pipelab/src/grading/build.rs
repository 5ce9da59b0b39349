//! Building exercises for grading: only their own test targets (the files
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

/// How long a submission's build may take before it is stopped.
pub const BUILD_LIMIT: Duration = Duration::from_secs(900);

/// The programs a build made: the test programs to run, and every program
/// of the package (the runner the tests start too), with their identity.
pub struct Programs {
    pub tests: Vec<PathBuf>,
    pub all: Vec<Identity>,
    /// Everything the build wrote for the package (libraries too).
    pub outputs: Vec<PathBuf>,
}

/// Every source file rustc read to build `outputs` (from the dep-info
/// files beside them): a student's file can `include!` or `#[path]` any
/// file the grader can read, the course's solutions among them.
pub fn sources_read(tree: &Path, outputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for output in outputs {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.split('.').next().unwrap_or_default().to_string();
        let dir = output.parent().unwrap_or(Path::new(""));
        let candidates = [
            dir.join(format!("{stem}.d")),
            dir.join(format!("{}.d", stem.trim_start_matches("lib"))),
        ];
        for info in candidates.iter().filter(|c| c.is_file()) {
            let text = std::fs::read_to_string(info).unwrap_or_default();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let Some((_, deps)) = line.split_once(": ").or_else(|| {
                    line.strip_suffix(':').map(|target| (target, target))
                }) else {
                    continue;
                };
                // Make's escaping: a space inside a path is "\ ".
                let deps = deps.replace("\\ ", "\u{0}");
                for dep in deps.split_whitespace() {
                    found.push(tree.join(dep.replace('\u{0}', " ")));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
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
    #[serde(default)]
    filenames: Vec<PathBuf>,
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

/// One package to build: its name and its directory in the tree.
pub struct Package {
    pub name: String,
    pub dir: PathBuf,
}

/// `cargo build --keep-going --test NAME... -p PACKAGE...` in `tree`: the
/// test targets named `targets` (the course's tests/*.rs file stems) of
/// every package at once, so that cargo starts once and compiles them side
/// by side, and one that does not compile stops no other. What each
/// package got, in the order given.
pub fn build(
    tree: &Path,
    target_dir: &Path,
    packages: &[Package],
    targets: &[String],
) -> Result<Vec<Built>, Problem> {
    let mut command = Command::new(cargo());
    command
        .args(["build", "--keep-going", "--message-format=json"])
        .arg("--manifest-path")
        .arg(tree.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(tree)
        .env("CARGO_TERM_COLOR", "never")
        // Every exercise is rebuilt from scratch for each submission:
        // incremental state and debug information are only work to write
        // (panic locations need neither).
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_PROFILE_DEV_DEBUG", "0")
        // A submission's build never reads the grader's own flags.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    for package in packages {
        command.args(["-p", &package.name]);
    }
    for target in targets {
        command.args(["--test", target]);
    }
    let done = supervise::run(&mut command, BUILD_LIMIT)
        .map_err(|error| Problem::fail(format!("cannot run cargo: {error}")))?;
    if done.timed_out() {
        let why = format!(
            "the build took more than {} s and was stopped",
            BUILD_LIMIT.as_secs()
        );
        return Ok(packages
            .iter()
            .map(|_| Built::Failed(why.clone()))
            .collect());
    }
    // Per package: test programs, every program, every output, and the
    // first error.
    type Found = (Vec<PathBuf>, Vec<Identity>, Vec<PathBuf>, Option<String>);
    let mut found: Vec<Found> = packages
        .iter()
        .map(|_| (Vec::new(), Vec::new(), Vec::new(), None))
        .collect();
    for line in done.stdout.lines() {
        let Ok(message) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        let Some(index) = packages.iter().position(|p| {
            message.manifest_path.as_deref() == Some(&p.dir.join("Cargo.toml"))
        }) else {
            continue;
        };
        let (tests, all, outputs, first_error) = &mut found[index];
        match message.reason.as_str() {
            "compiler-artifact" => {
                outputs.extend(message.filenames);
                if let Some(path) = message.executable {
                    if message.profile.is_some_and(|p| p.test) {
                        tests.push(path.clone());
                    }
                    all.push(Identity::of(&path)?);
                }
            }
            "compiler-message" if first_error.is_none() => {
                *first_error = message
                    .message
                    .filter(|diagnostic| diagnostic.level == "error")
                    .and_then(|diagnostic| diagnostic.rendered);
            }
            _ => {}
        }
    }
    Ok(found
        .into_iter()
        .map(|(tests, all, outputs, first_error)| {
            if tests.is_empty() || first_error.is_some() {
                Built::Failed(match first_error {
                    Some(error) => head(error.trim_end(), 25),
                    None => format!("cargo: {}", last_line(&done.stderr)),
                })
            } else {
                Built::Programs(Programs { tests, all, outputs })
            }
        })
        .collect())
}
