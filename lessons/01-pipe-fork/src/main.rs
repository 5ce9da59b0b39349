//! Lesson 01 — `pipe-fork`: a pipe between parent and child.
//!
//! What it teaches: `pipe()` gives a process two file descriptors, a read
//! end and a write end of one kernel buffer. After `fork()` the child holds
//! copies of both. The child writes messages into the pipe; the parent reads
//! them. The parent's `read` returns 0 (end of file) only when *every* write
//! end is closed, in every process, its own copy included.
//!
//! Usage:
//!   cargo lab run 1                          5 messages, 200 ms apart
//!   cargo lab run 1 -- --count 3 --interval-ms 500
//!   cargo lab run 1 -- --pause 2             the child goes quiet for 2 s
//!   cargo lab run 1 -- --keep-write-end      the parent forgets to close
//!   cargo lab run 1 -- --trace               show each system call
//!
//! What to look for: the parent's last read returns 0 right after the child
//! closes its write end. With `--pause`, a read blocks while the pipe is
//! empty and a writer is still open. With `--keep-write-end`, the child exits
//! and still no end of file comes: the parent is waiting for itself.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Child, Kernel, Note, Parent};
use labkit::process::{Forked, exit_child, fork};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use nix::fcntl::OFlag;
use nix::unistd::{Pid, getpid, pipe2, read, write};

/// A child writes messages into a pipe; the parent reads them until end of file.
///
/// Shows the classic rules of pipes: a read blocks while the pipe is empty and
/// a writer is open, and returns 0 (end of file) only when every write end is
/// closed, including the parent's own copy.
#[derive(Parser)]
#[command(name = "pipe-fork", version)]
struct Args {
    /// How many messages the child sends.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    count: u32,

    /// Milliseconds the child waits between two messages.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    interval_ms: u64,

    /// After its first message, the child goes quiet for SECS seconds without
    /// closing its write end: the parent's read blocks until data comes again.
    #[arg(long, value_name = "SECS", default_value_t = 0.0, value_parser = seconds)]
    pause: f64,

    /// The parent "forgets" to close its own write end, so its read never sees
    /// end of file. The parent gives up after its patience runs out.
    #[arg(long)]
    keep_write_end: bool,

    /// How long the parent waits in one read, with no data and no end of file,
    /// before it gives up and explains the hang [default: 3 s, plus --pause].
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    patience: Option<f64>,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

/// Reads `--pause` and `--patience`: seconds, fractions allowed, up to an hour.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if (0.0..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "expected a number of seconds from 0 to 3600, got {text:?}"
        )),
    }
}

fn main() -> ExitCode {
    let args: Args = labkit::cli::parse();
    args.common.apply();
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("pipe-fork: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    // ANCHOR: pipe
    // O_CLOEXEC: if either process later exec()s another program, that
    // program does not inherit these descriptors by accident.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    trace(
        Parent,
        &format!(
            "pipe2([{}, {}], O_CLOEXEC)",
            fd_number(&read_end),
            fd_number(&write_end)
        ),
        &Ok::<_, nix::Error>(0),
    );
    say!(
        Parent,
        "pid {}: made a pipe: read end is fd {}, write end is fd {}",
        getpid(),
        fd_number(&read_end),
        fd_number(&write_end)
    );
    // ANCHOR_END: pipe

    // ANCHOR: fork
    let child = match fork()? {
        Forked::Child => {
            // The child only writes: its copy of the read end is of no use.
            drop(read_end);
            child_writes(args, write_end);
        }
        Forked::Parent { child } => child,
    };
    say!(Parent, "forked child {child}; both of us now hold both ends");
    // ANCHOR_END: fork

    // ANCHOR: close-write-end
    let parents_write_end = if args.keep_write_end {
        say!(
            Parent,
            "(--keep-write-end) I keep my write end open: the mistake of this lesson"
        );
        Some(write_end)
    } else {
        // The child now holds the only write end: when it closes it, our
        // read will return 0 (end of file).
        drop(write_end);
        say!(Parent, "closed my write end: the child's is now the only one");
        None
    };
    // ANCHOR_END: close-write-end

    let patience =
        Duration::from_secs_f64(args.patience.unwrap_or(3.0 + args.pause));
    let reached_eof = parent_reads(&read_end, patience)?;

    if !reached_eof {
        explain_the_hang(child, parents_write_end.is_some())?;
        return Ok(ExitCode::FAILURE);
    }

    // ANCHOR: reap
    // Reap the child, so that it does not linger as a zombie, and learn how it ended.
    match wait_for_child(child, Duration::from_secs(10))? {
        Some(ended) => {
            say!(Parent, "reaped child {child}: {}", status::explain(&ended))
        }
        None => {
            return Err(
                format!("child {child} did not exit within 10 s").into()
            );
        }
    }
    // ANCHOR_END: reap
    Ok(ExitCode::SUCCESS)
}

// ANCHOR: child
/// The child's whole life: write the messages, close the write end, exit.
fn child_writes(args: &Args, write_end: OwnedFd) -> ! {
    let interval = Duration::from_millis(args.interval_ms);
    for number in 1..=args.count {
        std::thread::sleep(interval);
        let message = format!("message {number} of {}\n", args.count);
        say!(Child, "writing {message:?}");
        let go_quiet = number == 1 && args.pause > 0.0;
        if go_quiet {
            // Said before the write, so that it prints before the parent wakes up.
            say!(
                Child,
                "then going quiet for {} s, my write end still open",
                args.pause
            );
        }
        let written = write(&write_end, message.as_bytes());
        trace!(
            Child,
            &written,
            "write({}, {message:?}, {})",
            fd_number(&write_end),
            message.len()
        );
        if let Err(errno) = written {
            say!(Child, "write failed: {errno}; exiting with code 1");
            exit_child(1);
        }
        if go_quiet {
            std::thread::sleep(Duration::from_secs_f64(args.pause));
        }
    }
    std::thread::sleep(interval);
    say!(Child, "done: closing my write end and exiting with code 0");
    // The last write end: once it closes, the parent's read returns 0.
    drop(write_end);
    // _exit, not return: returning would run the parent's code a second time,
    // here in the child.
    exit_child(0)
}
// ANCHOR_END: child

// ANCHOR: read-loop
/// Reads until end of file. Returns false if the parent's patience ran out
/// first: no data and no end of file for that long.
fn parent_reads(read_end: &OwnedFd, patience: Duration) -> nix::Result<bool> {
    let mut buffer = [0u8; 256];
    loop {
        let started = Instant::now();
        // A bare read() would block here for as long as the pipe is empty and
        // a write end is open: possibly forever. Wait with a deadline instead.
        if !wait_readable(read_end.as_fd(), patience)? {
            say!(
                Kernel,
                "no data and no end of file for {:.1} s: read() would still be blocked",
                patience.as_secs_f64()
            );
            return Ok(false);
        }
        let got = read(read_end, &mut buffer);
        trace!(
            Parent,
            &got,
            "read({}, buf, {})",
            fd_number(read_end),
            buffer.len()
        );
        let waited = started.elapsed();
        if waited >= Duration::from_secs(1) {
            say!(
                Kernel,
                "read() blocked for {:.1} s: the pipe was empty and a write end was still open",
                waited.as_secs_f64()
            );
        }
        match got? {
            0 => {
                say!(
                    Kernel,
                    "read() returned 0: end of file, every write end is closed"
                );
                return Ok(true);
            }
            n => say!(
                Parent,
                "read {n} bytes: {:?}",
                String::from_utf8_lossy(&buffer[..n])
            ),
        }
    }
}
// ANCHOR_END: read-loop

/// Tells the reader what went wrong with `--keep-write-end`, and cleans up.
fn explain_the_hang(
    child: Pid,
    parent_kept_write_end: bool,
) -> nix::Result<()> {
    if let Some(ended) = wait_for_child(child, Duration::from_secs(10))? {
        say!(
            Parent,
            "yet the child has already ended: it {}",
            status::explain(&ended)
        );
    }
    if parent_kept_write_end {
        say!(
            Note,
            "The parent itself still holds a write end of the pipe. The kernel reports\n\
                   end of file only when every write end is closed, in every process, so this\n\
                   read waits for a writer that is the reader itself: forever, without a deadline.\n\
                   The fix: drop(write_end) in the parent right after fork()."
        );
    }
    Ok(())
}

/// The number of a file descriptor, for narration.
fn fd_number(fd: &OwnedFd) -> i32 {
    fd.as_raw_fd()
}
