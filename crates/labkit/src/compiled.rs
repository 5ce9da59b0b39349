//! Small programs, given as source text, compiled for a test by the
//! machine's real compilers: the course's own `rustc`, for claims about
//! Rust's standard library that the lesson programs do not show (what
//! `std::process::exit` flushes in a forked child, what `Command` does to
//! SIGPIPE, how many writes `eprintln!` makes), and `cc`, for what a C
//! header defines (`<limits.h>`'s `_POSIX_PIPE_BUF`).
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

/// A compiler is slow on a loaded two-core machine, but never this slow.
const COMPILE_LIMIT: Duration = Duration::from_secs(180);

/// Held while this process compiles, so that two of its tests never
/// compile the same program side by side.
static COMPILING: Mutex<()> = Mutex::new(());

/// The Rust program compiled from `source` by `$RUSTC` (cargo sets it for
/// tests), in `dir` (a test's `env!("CARGO_TARGET_TMPDIR")`), named after
/// `name` and its source's hash. Fails the test with rustc's messages if
/// it does not compile.
#[track_caller]
pub fn rust(source: &str, name: &str, dir: &Path) -> PathBuf {
    let rustc = std::env::var("RUSTC").unwrap_or("rustc".into());
    let mut command = Command::new(rustc);
    command.args(["--edition", "2021"]);
    compiled(command, "rs", source, name, dir)
}

/// The C program compiled from `source` by the system's `cc`, as
/// [`rust`] does.
#[track_caller]
pub fn c(source: &str, name: &str, dir: &Path) -> PathBuf {
    compiled(Command::new("cc"), "c", source, name, dir)
}

#[track_caller]
fn compiled(
    mut compiler: Command,
    extension: &str,
    source: &str,
    name: &str,
    dir: &Path,
) -> PathBuf {
    let _one_at_a_time =
        COMPILING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut hasher = DefaultHasher::new();
    (extension, source).hash(&mut hasher);
    let stem = format!("{name}-{:016x}", hasher.finish());
    let program = dir.join(&stem);
    if program.exists() {
        return program;
    }
    let mine = format!("{stem}_{}", std::process::id());
    let source_file = dir.join(format!("{mine}.{extension}"));
    std::fs::write(&source_file, source)
        .unwrap_or_else(|error| panic!("{}: {error}", source_file.display()));
    compiler.arg(&source_file).arg("-o").arg(dir.join(&mine));
    let done = watchdog::run(&mut compiler, COMPILE_LIMIT)
        .unwrap_or_else(|error| panic!("compiling {name}: {error}"));
    let _ = std::fs::remove_file(&source_file);
    assert!(
        done.status.success(),
        "compiling {name}: {}{}",
        done.stdout,
        done.stderr
    );
    std::fs::rename(dir.join(&mine), &program)
        .unwrap_or_else(|error| panic!("rename {mine}: {error}"));
    program
}
