//! Small programs compiled by a test, with the machine's real compilers:
//! the way a test asks what a C header defines (`cc` and `<limits.h>`) or
//! what Rust's standard library does (the `rustc` that builds the course).
//!
//! Each program is compiled once for its source: tests that run side by
//! side (threads of one test binary, or processes under nextest) each
//! compile under a name of their own and rename the result into place. A
//! rename is atomic, so no test ever runs a half-written program.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::watchdog;

/// A compiler may be slow on two busy cores, but it must end.
const COMPILE_LIMIT: Duration = Duration::from_secs(180);

/// Which compiler turns the source into a program.
#[derive(Clone, Copy, Debug, Hash)]
pub enum Language {
    /// The system's C compiler, `cc`.
    C,
    /// `$RUSTC` (set by cargo for build scripts and tests), else `rustc`.
    Rust,
}

impl Language {
    fn extension(self) -> &'static str {
        match self {
            Language::C => "c",
            Language::Rust => "rs",
        }
    }

    fn compiler(self) -> String {
        match self {
            Language::C => "cc".to_string(),
            Language::Rust => {
                std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())
            }
        }
    }
}

/// The program compiled from `source`, kept in `dir` (a test's
/// `env!("CARGO_TARGET_TMPDIR")`) under `name` and a hash of the source,
/// so that a changed source is compiled again. Panics, with the
/// compiler's messages, when it does not compile.
pub fn program(
    dir: &Path,
    name: &str,
    language: Language,
    source: &str,
) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    (language, source).hash(&mut hasher);
    let stem = format!("{name}_{:016x}", hasher.finish());
    let program = dir.join(&stem);
    if program.exists() {
        return program;
    }
    // A name no other test compiling at the same time can have (rustc
    // takes the crate's name from it: letters, digits and `_` only).
    static COMPILING: AtomicUsize = AtomicUsize::new(0);
    let mine = dir.join(format!(
        "{stem}_{}_{}",
        std::process::id(),
        COMPILING.fetch_add(1, Ordering::Relaxed)
    ));
    let mine = mine.display().to_string();
    let source_file = format!("{mine}.{}", language.extension());
    std::fs::write(&source_file, source)
        .unwrap_or_else(|error| panic!("writing {source_file}: {error}"));
    let compiler = language.compiler();
    let done = watchdog::run(
        Command::new(&compiler).arg(&source_file).arg("-o").arg(&mine),
        COMPILE_LIMIT,
    )
    .unwrap_or_else(|error| panic!("{compiler} {source_file}: {error}"));
    let _ = std::fs::remove_file(&source_file);
    assert!(
        done.status.success(),
        "{compiler} {source_file} failed:\n{}{}",
        done.stdout,
        done.stderr
    );
    std::fs::rename(&mine, &program)
        .unwrap_or_else(|error| panic!("renaming {mine}: {error}"));
    program
}
