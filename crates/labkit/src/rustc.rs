//! A small Rust program, given as source text, compiled for a test by the
//! same `rustc` that builds the course: for claims about Rust's standard
//! library that the lesson programs themselves do not show (what
//! `std::process::exit` flushes in a forked child, what `Command` does to
//! SIGPIPE).
//!
//! Each program is compiled once. Its file name holds a hash of its source,
//! so a changed source is a new program. Tests of one process compile one
//! at a time; tests in processes of their own (nextest runs them all at
//! once) each compile under a name of their own and rename the result into
//! place, and a rename is atomic: no test ever runs a half-written program.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::watchdog;

/// rustc is slow on a loaded two-core machine, but never this slow.
const COMPILE_LIMIT: Duration = Duration::from_secs(180);

/// Held while this process compiles, so that two of its tests never
/// compile the same program side by side.
static COMPILING: Mutex<()> = Mutex::new(());

/// The program compiled from `source`, in `dir` (a test's
/// `env!("CARGO_TARGET_TMPDIR")`), named after `name` and its source's hash.
/// Fails the test with rustc's messages if it does not compile.
#[track_caller]
pub fn compiled(source: &str, name: &str, dir: &Path) -> PathBuf {
    let _one_at_a_time =
        COMPILING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut hasher = DefaultHasher::new();
    source.hash(&mut hasher);
    let stem = format!("{name}-{:016x}", hasher.finish());
    let program = dir.join(&stem);
    if program.exists() {
        return program;
    }
    let mine = format!("{stem}_{}", std::process::id());
    let source_file = dir.join(format!("{mine}.rs"));
    std::fs::write(&source_file, source)
        .unwrap_or_else(|error| panic!("{}: {error}", source_file.display()));
    let rustc = std::env::var("RUSTC").unwrap_or("rustc".into());
    let mut command = Command::new(rustc);
    command
        .args(["--edition", "2021"])
        .arg(&source_file)
        .arg("-o")
        .arg(dir.join(&mine));
    let done = watchdog::run(&mut command, COMPILE_LIMIT)
        .unwrap_or_else(|error| panic!("rustc {name}: {error}"));
    let _ = std::fs::remove_file(&source_file);
    assert!(done.status.success(), "rustc {name}: {}", done.stderr);
    std::fs::rename(dir.join(&mine), &program)
        .unwrap_or_else(|error| panic!("rename {mine}: {error}"));
    program
}
