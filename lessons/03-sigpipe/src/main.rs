//! Lesson 03 — `sigpipe`: writing to a pipe nobody reads.
//!
//! What it teaches: once the last read end of a pipe is closed, nothing
//! written to it can ever be read, and the kernel tells the writer so. By
//! default it sends the writer SIGPIPE (signal 13), whose default action
//! kills it: `waitpid` reports "killed by signal 13" and bash shows 141
//! (128 + 13). A writer that ignores SIGPIPE lives on, and its `write` fails
//! with EPIPE instead. Rust programs are of the second kind: the Rust
//! runtime sets SIGPIPE to SIG_IGN before `main`, and a forked child
//! inherits that.
//!
//! Usage (the --mode runs print 101, 141 and 0 last):
//!   cargo lab run 3              a child writes to a pipe with no reader
//!   cargo lab run 3 -- --trace   show each system call
//!   cargo lab run 3 -- --bare    the system calls alone, no narration
//!   cargo lab run 3 -- --mode rust-default | head -n 1; echo $PIPESTATUS
//!   cargo lab run 3 -- --mode default-signal | head -n 1; echo $PIPESTATUS
//!   cargo lab run 3 -- --mode graceful | head -n 1; echo $PIPESTATUS
//!
//! What to look for: in the first run the child announces its write and
//! never says another word: the kernel killed it inside `write`, and the
//! parent decodes the status word (`status & 0x7f` is 13). In the second run
//! the same write returns EPIPE and the child carries on. With `--mode`, the
//! program writes numbered lines until `head` has had enough and leaves;
//! `${PIPESTATUS[0]}` then shows how each way of meeting a closed pipe looks
//! to a shell.
//!
//! Each idea is in a file of its own: the Rust twist and the demo's order
//! (this file), the two runs of a writer meeting a closed pipe
//! (closed_pipe.rs), the status word the parent gets back (status_word.rs),
//! and the `--mode` streams for a shell pipeline (stream.rs). bare.rs is the
//! demo's core with no narration at all.

mod bare;
mod closed_pipe;
mod status_word;
mod stream;

use std::error::Error;
use std::process::ExitCode;

use clap::Parser;
use labkit::Speaker::{self, Kernel, Note, Parent};
use labkit::process::Disposition;
use labkit::say;
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

use closed_pipe::writer_meets_closed_pipe;
use status_word::explain_status_word;
use stream::{Mode, stream};

/// A child writes to a pipe whose read end is closed: killed by SIGPIPE, or
/// told EPIPE.
///
/// Without --mode, shows both outcomes with a forked child and decodes the
/// status word the parent gets back. With --mode, writes numbered lines to
/// stdout for a shell pipeline such as `| head -n 1`.
#[derive(Parser)]
#[command(name = "sigpipe", version)]
struct Args {
    /// Instead of the demo, write numbered lines to stdout until the reader
    /// leaves, and meet the closed pipe the way MODE says. Pipe the output
    /// into `head -n 1`.
    #[arg(long, value_enum, value_name = "MODE")]
    mode: Option<Mode>,

    /// With --mode: the most lines to write, so that a reader that never
    /// leaves still sees the stream end.
    #[arg(
        long,
        default_value_t = 1_000_000,
        value_parser = clap::value_parser!(u64).range(1..=100_000_000)
    )]
    lines: u64,

    /// Only the system calls (src/bare.rs), once with SIG_DFL and once with
    /// SIG_IGN: no narration, just how each child ended.
    #[arg(long, conflicts_with_all = ["mode", "lines"])]
    bare: bool,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        match args.mode {
            None if args.bare => bare_runs(),
            None => demo(),
            Some(mode) => stream(mode, args.lines),
        }
    })
}

fn demo() -> Result<ExitCode, Box<dyn Error>> {
    // ANCHOR: rust-twist
    say!(Note, "Before main() ran, the Rust runtime set SIGPIPE to SIG_IGN.");
    say(Kernel, sigpipe_in_proc(Parent)?);
    // ANCHOR_END: rust-twist

    // ANCHOR: two-runs
    say!(Note, "1. The child restores SIGPIPE to SIG_DFL, as a C program has.");
    let (child, raw) = writer_meets_closed_pipe(Disposition::Default)?;
    explain_status_word(child, raw);

    say!(
        Note,
        "2. The child keeps SIGPIPE ignored, as Rust's runtime left it."
    );
    let (child, raw) = writer_meets_closed_pipe(Disposition::Ignore)?;
    explain_status_word(child, raw);
    // ANCHOR_END: two-runs

    say!(
        Note,
        "With SIG_DFL the writer dies inside write(), with no chance to say\n\
         or clean up anything. With SIG_IGN the write fails with EPIPE and\n\
         the writer decides what to do. Every Rust program is of the second\n\
         kind: see what println! makes of EPIPE, with MODE rust-default,\n\
         default-signal or graceful:\n\
         \x20 cargo lab run 3 -- --mode MODE | head -n 1; echo $PIPESTATUS"
    );
    Ok(ExitCode::SUCCESS)
}

/// `--bare`: src/bare.rs with each disposition, and how its child ended.
fn bare_runs() -> Result<ExitCode, Box<dyn Error>> {
    for (name, disposition) in
        [("SIG_DFL", Disposition::Default), ("SIG_IGN", Disposition::Ignore)]
    {
        let ended = bare::run(disposition)?;
        // Exit code 0 is bare.rs's word for "write() failed with EPIPE".
        let epipe = matches!(ended, WaitStatus::Exited(_, 0));
        let how = if epipe { " (write() failed with EPIPE)" } else { "" };
        println!("{name}: child {}{how}", labkit::status::explain(&ended));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the kernel says about SIGPIPE in this process: /proc/self/status
/// lists the ignored signals as a mask, `SigIgn`, where signal N is bit N-1.
pub(crate) fn sigpipe_in_proc(who: Speaker) -> Result<String, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .ok_or("no SigIgn line in /proc/self/status")?;
    let mask = u64::from_str_radix(mask.trim(), 16)?;
    let bit = Signal::SIGPIPE as u32 - 1;
    let (state, meaning) = if mask & (1 << bit) != 0 {
        ("set", "SIGPIPE is ignored (SIG_IGN)")
    } else {
        ("clear", "SIGPIPE is at its default (SIG_DFL)")
    };
    Ok(format!(
        "/proc/self/status of the {}: SigIgn has bit 1 << {bit} {state}:\n\
         {meaning}",
        who.tag()
    ))
}
