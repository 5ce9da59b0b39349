//! Lesson 03, `--mode`: numbered lines written to stdout for a shell
//! pipeline such as `| head -n 1`, meeting the closed pipe in one of three
//! ways; `${PIPESTATUS[0]}` then shows how each looks to a shell.

use std::error::Error;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::ValueEnum;
use labkit::process::{Disposition, set_disposition};
use nix::sys::signal::Signal;

/// How the `--mode` stream meets a reader that has gone.
#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Rust as it comes: SIGPIPE ignored, `println!` panics on EPIPE (101).
    RustDefault,
    /// SIGPIPE back to SIG_DFL, as in C: the kernel kills the writer (141).
    DefaultSignal,
    /// SIGPIPE ignored and EPIPE handled: stop quietly, with status 0.
    Graceful,
}

// ANCHOR: stream
/// Writes numbered lines to stdout until the reader leaves (or `lines` run
/// out), meeting the closed pipe as `mode` says.
pub fn stream(mode: Mode, lines: u64) -> Result<ExitCode, Box<dyn Error>> {
    if io::stdout().is_terminal() {
        eprintln!(
            "sigpipe: --mode writes up to {lines} lines for a reader that \
             leaves early: pipe it into one, e.g. \
             `cargo lab run 3 -- --mode graceful | head -n 1`"
        );
        return Ok(ExitCode::from(2));
    }
    match mode {
        Mode::RustDefault => {
            // The one place in the course where a panic is the expected
            // outcome, and the point of the lesson: once the reader is gone,
            // println! panics with "failed printing to stdout: Broken pipe"
            // and the process exits with status 101.
            for number in 1..=lines {
                println!("line {number}");
            }
        }
        Mode::DefaultSignal => {
            // Back to the default action: the first write after the reader
            // leaves never returns; the kernel kills us with SIGPIPE.
            set_disposition(Signal::SIGPIPE, Disposition::Default)?;
            write_lines(lines)?;
        }
        Mode::Graceful => match write_lines(lines) {
            // The reader has had all it wanted: stop, quietly and
            // successfully. (`yes` is as quiet in `yes | head`, but it is
            // killed by SIGPIPE: its status is 141.)
            Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
            other => other?,
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes "line 1", "line 2", ... to stdout, one write per line.
fn write_lines(lines: u64) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    for number in 1..=lines {
        writeln!(stdout, "line {number}")?;
    }
    stdout.flush()
}
// ANCHOR_END: stream
