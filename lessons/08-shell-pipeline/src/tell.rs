//! Narration on standard error.
//!
//! labkit's `say!` writes to standard output, which here belongs to the
//! pipeline: what `bash -c 'A | B'` would print, byte for byte. So this
//! lesson tags its lines the same way (`labkit::narrate::format_line`) and
//! writes them to standard error, each block in one `write`: a block of at
//! most PIPE_BUF bytes is never cut by another process's lines, even when
//! several stages narrate into the same terminal or pipe.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use colored::Colorize;
use labkit::Speaker;
use labkit::narrate::{format_call, format_line};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns narration off (`--quiet`) or on, and decides its colour for
/// standard error (labkit decides it for standard output).
pub fn setup(quiet: bool, color: labkit::ColorChoice) {
    QUIET.store(quiet, Ordering::Relaxed);
    let no_color = std::env::var("NO_COLOR").ok();
    let wanted =
        color.wants_color(std::io::stderr().is_terminal(), no_color.as_deref());
    colored::control::set_override(wanted);
}

/// Writes `text` as `who`'s words, one tagged line per line, in one write.
pub fn tell(who: Speaker, text: &str) {
    if QUIET.load(Ordering::Relaxed) {
        return;
    }
    let mut block = String::new();
    for line in text.lines() {
        block.push_str(&format_line(who, line));
        block.push('\n');
    }
    // Best effort, as labkit's say: a closed stderr must not stop the run.
    let _ = std::io::stderr().write_all(block.as_bytes());
}

/// With `--trace`, a system call and its outcome, strace-style.
pub fn trace<T: std::fmt::Display>(
    who: Speaker,
    call: &str,
    outcome: &Result<T, nix::Error>,
) {
    if labkit::narrate::tracing() {
        let line = format!("  {}", format_call(call, outcome));
        tell(who, &line.dimmed().to_string());
    }
}

/// `tell!(Parent, "forked {pid}")`: narration on stderr, formatted in place.
#[macro_export]
macro_rules! tell {
    ($who:expr, $($text:tt)+) => {
        $crate::tell::tell($who, &::std::format!($($text)+))
    };
}
