//! Lesson 02 — `pipe-capacity`: how much does a pipe hold?
//!
//! What it teaches: a pipe is a buffer in the kernel, made of pages, with a
//! fixed capacity. A writer can run ahead of its reader only that far; then
//! `write` blocks (or, on a non-blocking descriptor, fails with EAGAIN). The
//! program finds the capacity by filling a pipe that nobody reads, then asks
//! the kernel with `fcntl(F_GETPIPE_SZ)` and resizes it with `F_SETPIPE_SZ`
//! (both Linux only).
//!
//! Usage:
//!   cargo lab run 2                      probe, compare with F_GETPIPE_SZ
//!   cargo lab run 2 -- --step-delay 60   watch it fill, a page every 60 ms
//!   cargo lab run 2 -- --size 1000000    then resize a pipe, probe again
//!   cargo lab run 2 -- --show blocking   a blocking writer waits
//!   cargo lab run 2 -- --show write-sizes   what fits depends on the size
//!   cargo lab run 2 -- --show pipe-buf   up to PIPE_BUF: all or nothing
//!   cargo lab run 2 -- --trace           show each system call
//!   cargo lab run 2 -- --show bare       the system calls alone
//!
//! Each `--show` view is one idea, in a file of its own: the probe (this
//! file, the default), blocking.rs, write_sizes.rs, pipe_buf.rs; bare.rs is
//! the probe and a resize with no narration at all. `--size`
//! belongs to the probe: it shows the kernel rounding a request up, the
//! ceiling in /proc/sys/fs/pipe-max-size, and EPERM above it.
//!
//! What to look for: the probe stops at exactly the number F_GETPIPE_SZ
//! reports (65536 bytes, 16 pages, on a default Linux). `--size 1000000` is
//! granted 1048576. `--size 2000000` is refused with EPERM unless you hold
//! CAP_SYS_RESOURCE, and the program says whether you do.

mod bar;
mod bare;
mod blocking;
mod pipe;
mod pipe_buf;
mod resize;
mod write_sizes;

use std::os::fd::{AsFd, BorrowedFd};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::{Kernel, Note, Parent};
use labkit::say;

use crate::bar::PageBar;
use crate::pipe::{
    Outcome, capacity, fd_number, fill, new_pipe, page_size, restore_flags,
    set_nonblocking,
};

/// Fills a pipe that nobody reads to find out how much it holds, and checks
/// the answer against the kernel's own figure (fcntl F_GETPIPE_SZ).
#[derive(Parser)]
#[command(name = "pipe-capacity", version)]
struct Args {
    /// Which experiment to run.
    #[arg(long, value_enum, value_name = "VIEW", default_value_t = View::Probe)]
    show: View,

    /// After the probe, resize a fresh pipe to BYTES (fcntl F_SETPIPE_SZ) and
    /// probe it again. Probe view only.
    #[arg(long, value_name = "BYTES", value_parser = pipe_size)]
    size: Option<i32>,

    /// Milliseconds to pause each time a page of the pipe fills, so that the
    /// probe's progress bar can be watched.
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=10_000))]
    step_delay: u64,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum View {
    /// Fill a pipe nobody reads until EAGAIN; compare with F_GETPIPE_SZ.
    Probe,
    /// A blocking writer stops when the pipe is full, goes on as it drains.
    Blocking,
    /// How many bytes fit depends on how many each write carries.
    WriteSizes,
    /// A write of up to PIPE_BUF bytes goes in whole or not at all.
    PipeBuf,
    /// The probe and a resize: the system calls alone, no narration.
    Bare,
}

/// `--size`: a positive number of bytes that fits the `int` F_SETPIPE_SZ takes.
fn pipe_size(text: &str) -> Result<i32, String> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err("expected a number of bytes, such as 1000000".to_string());
    }
    match text.parse::<i32>() {
        Ok(0) => {
            Err("a pipe cannot hold 0 bytes: ask for at least 1".to_string())
        }
        Ok(bytes) => Ok(bytes),
        Err(_) => {
            Err(format!("fcntl(F_SETPIPE_SZ) takes at most {} bytes", i32::MAX))
        }
    }
}

fn main() -> ExitCode {
    labkit::cli::main(run)
}

fn run(args: Args) -> Outcome<ExitCode> {
    args.common.apply();
    if args.size.is_some() && args.show != View::Probe {
        eprintln!("pipe-capacity: error: --size is for the probe: no --show");
        return Ok(ExitCode::from(2));
    }
    let args = &args;
    let page = page_size()?;
    match args.show {
        View::Probe => probe_view(args, page),
        View::Blocking => blocking::show(page).map(|()| ExitCode::SUCCESS),
        View::WriteSizes => write_sizes::show(page).map(|()| ExitCode::SUCCESS),
        View::PipeBuf => pipe_buf::show(page).map(|()| ExitCode::SUCCESS),
        View::Bare => bare_view(),
    }
}

/// `--show bare`: src/bare.rs's figures, one per line, and whether the probe
/// and the kernel agree.
fn bare_view() -> Outcome<ExitCode> {
    let found = pipe::checked("bare", bare::run())?;
    println!("probe: {} bytes went in before EAGAIN", found.probed);
    println!("fcntl(F_GETPIPE_SZ) = {}", found.reported);
    let request = bare::REQUEST;
    println!("fcntl(F_SETPIPE_SZ, {request}) = {}", found.granted);
    Ok(exit_code(found.probed == found.reported))
}

fn probe_view(args: &Args, page: usize) -> Outcome<ExitCode> {
    let step_delay = Duration::from_millis(args.step_delay);

    // ANCHOR: probe-view
    let (read_end, write_end) = new_pipe()?;
    let (r, w) = (fd_number(&read_end), fd_number(&write_end));
    say!(Parent, "made a pipe: read end fd {r}, write end fd {w}");
    say!(Parent, "nobody will read from it");
    let probed = probe(write_end.as_fd(), page, step_delay)?;
    let mut agreed = agrees_with_kernel(write_end.as_fd(), probed)?;
    // Closing both ends frees the pipe; the bytes nobody read vanish with it.
    drop((read_end, write_end));
    // ANCHOR_END: probe-view

    let Some(requested) = args.size else {
        say!(
            Note,
            "next: --size 1000000 resizes a pipe; --show blocking,\n\
             --show write-sizes and --show pipe-buf are the other experiments"
        );
        return Ok(exit_code(agreed));
    };

    // ANCHOR: reprobe
    // A fresh pipe: shrinking one below the pages its bytes occupy is EBUSY.
    let (read_end, write_end) = new_pipe()?;
    let (r, w) = (fd_number(&read_end), fd_number(&write_end));
    say!(
        Parent,
        "made a fresh pipe to resize: read end fd {r}, write end fd {w}"
    );
    let granted = resize::resize(write_end.as_fd(), requested, page)?;
    let probed = probe(write_end.as_fd(), page, step_delay)?;
    agreed &= agrees_with_kernel(write_end.as_fd(), probed)?;
    if probed == granted {
        say!(Note, "the probe finds exactly what F_SETPIPE_SZ granted");
    } else {
        agreed = false;
        say!(
            Note,
            "F_SETPIPE_SZ granted {granted}, yet the probe found {probed}"
        );
    }
    // Done with the resized pipe too: closing both ends frees its pages.
    drop((read_end, write_end));
    // ANCHOR_END: reprobe
    Ok(exit_code(agreed))
}

// ANCHOR: probe
/// Counts the bytes the pipe takes before it is full: 1 byte per write on a
/// non-blocking write end, until EAGAIN. Leaves the flags as they were.
fn probe(
    write_end: BorrowedFd<'_>,
    page: usize,
    step_delay: Duration,
) -> Outcome<usize> {
    let original_flags = set_nonblocking(write_end)?;
    say!(
        Parent,
        "set O_NONBLOCK on the write end: once the pipe is full, write()\n\
         fails with EAGAIN instead of waiting for a reader that never comes"
    );
    say!(Parent, "writing 1 byte per write() until EAGAIN;");
    say!(Parent, "a # is one page ({page} bytes) of the pipe");
    let mut bar = PageBar::new(page, step_delay);
    let filled = fill(write_end, 1, |bytes| bar.update(bytes))?;
    bar.finish(filled.bytes);
    say!(
        Kernel,
        "write() = -1 EAGAIN after {} writes: the pipe is full",
        filled.writes
    );
    // Whoever uses this descriptor next expects it as it was: blocking.
    restore_flags(write_end, original_flags)?;
    say!(
        Parent,
        "probed capacity: {} bytes ({} pages of {page})",
        filled.bytes,
        filled.bytes / page
    );
    Ok(filled.bytes)
}
// ANCHOR_END: probe

// ANCHOR: compare
/// Asks the kernel for the same figure, and says whether the two agree.
fn agrees_with_kernel(
    write_end: BorrowedFd<'_>,
    probed: usize,
) -> Outcome<bool> {
    let reported = capacity(write_end)?;
    say!(Kernel, "fcntl(F_GETPIPE_SZ) = {reported}");
    if reported == probed {
        say!(Note, "the probe and the kernel agree");
    } else {
        say!(
            Note,
            "the probe found {probed} bytes, the kernel reports {reported}"
        );
    }
    Ok(reported == probed)
}
// ANCHOR_END: compare

fn exit_code(agreed: bool) -> ExitCode {
    if agreed { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
