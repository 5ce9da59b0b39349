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
//!   cargo lab run 1 -- --bare --count 3      the system calls alone
//!
//! What to look for: the parent's last read returns 0 right after the child
//! closes its write end. With `--pause`, a read blocks while the pipe is
//! empty and a writer is still open. With `--keep-write-end`, the child exits
//! and still no end of file comes: the parent is waiting for itself.
//! `--bare` makes the same calls with no narration (src/bare.rs) and prints
//! what the parent read, then how the child ended.

mod bare;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Child, Kernel, Note, Parent};
use labkit::cli::seconds;
use labkit::process::{Forked, exit_child, fork};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use nix::fcntl::OFlag;
use nix::unistd::{Pid, getpid, pipe2, read, write};

/// A child writes into a pipe; the parent reads it until end of file.
#[derive(Parser)]
#[command(name = "pipe-fork", version)]
struct Args {
    /// How many messages the child sends.
    #[arg(long, default_value_t = 5)]
    #[arg(value_parser = clap::value_parser!(u32).range(0..=1000))]
    count: u32,

    /// Milliseconds the child waits between two messages.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    interval_ms: u64,

    /// The child goes quiet for PAUSE seconds after its first message.
    #[arg(long, default_value = "0", value_parser = seconds)]
    pause: f64,

    /// The parent "forgets" to close its write end: no end of file ever comes.
    #[arg(long)]
    keep_write_end: bool,

    /// Seconds a read may wait before the parent gives up [3 + --pause].
    #[arg(long, value_parser = seconds)]
    patience: Option<f64>,

    /// Only the system calls (src/bare.rs): no narration, no pauses, no
    /// deadline; print what the parent read and how the child ended.
    #[arg(long)]
    #[arg(conflicts_with_all = ["pause", "keep_write_end", "patience"])]
    #[arg(conflicts_with = "interval_ms")]
    bare: bool,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

fn main() -> ExitCode {
    labkit::cli::main(run)
}

fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    args.common.apply();
    if args.bare {
        return bare_run(args.count);
    }
    // ANCHOR: pipe
    // O_CLOEXEC: a program exec()ed later does not inherit these by accident.
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let (r, w) = (read_end.as_raw_fd(), write_end.as_raw_fd());
    trace!(Parent, &Ok::<_, nix::Error>(0), "pipe2([{r}, {w}], O_CLOEXEC)");
    let pid = getpid();
    say!(Parent, "pid {pid}: made a pipe: read end fd {r}, write end fd {w}");
    // ANCHOR_END: pipe

    // ANCHOR: fork
    let child = match fork()? {
        Forked::Child => {
            // The child only writes: its copy of the read end is of no use.
            drop(read_end);
            child_writes(&args, write_end);
        }
        Forked::Parent { child } => child,
    };
    say!(Parent, "forked child {child}; both of us now hold both ends");
    // ANCHOR_END: fork

    // ANCHOR: close-write-end
    let parents_write_end = if args.keep_write_end {
        say!(Parent, "I keep my write end open (--keep-write-end): the bug");
        Some(write_end)
    } else {
        drop(write_end); // the child's is the only writer: we will see EOF
        say!(Parent, "closed my write end: the child's is now the only one");
        None
    };
    // ANCHOR_END: close-write-end

    let patience = args.patience.unwrap_or(3.0 + args.pause);
    if !parent_reads(&read_end, Duration::from_secs_f64(patience))? {
        explain_the_hang(child, parents_write_end.is_some())?;
        return Ok(ExitCode::FAILURE);
    }

    // ANCHOR: reap
    // Reap the child, so that it does not linger as a zombie.
    let Some(ended) = wait_for_child(child, Duration::from_secs(10))? else {
        return Err(format!("child {child} did not exit within 10 s").into());
    };
    say!(Parent, "reaped child {child}: {}", status::explain(&ended));
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
            // Said before the write: it prints before the parent wakes.
            let pause = args.pause;
            say!(Child, "then quiet for {pause} s, my write end still open");
        }
        let written = write(&write_end, message.as_bytes());
        let (w, len) = (write_end.as_raw_fd(), message.len());
        trace!(Child, &written, "write({w}, {message:?}, {len})");
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
    drop(write_end); // the last write end: the parent's read now returns 0
    // _exit, not return: a return would run the parent's code here too.
    exit_child(0)
}
// ANCHOR_END: child

// ANCHOR: read-loop
/// Reads until end of file; false if patience ran out first (no data, no EOF).
fn parent_reads(read_end: &OwnedFd, patience: Duration) -> nix::Result<bool> {
    let mut buffer = [0u8; 256];
    loop {
        let started = Instant::now();
        // A bare read() could block here forever: wait with a deadline.
        if !wait_readable(read_end.as_fd(), patience)? {
            let secs = patience.as_secs_f64();
            say!(Kernel, "{secs:.1} s with no data and no EOF: read() blocks");
            return Ok(false);
        }
        let got = read(read_end, &mut buffer);
        let (r, len) = (read_end.as_raw_fd(), buffer.len());
        trace!(Parent, &got, "read({r}, buf, {len})");
        let waited = started.elapsed().as_secs_f64();
        if waited >= 1.0 {
            say!(
                Kernel,
                "read() waited {waited:.1} s: pipe empty, writer open"
            );
        }
        let n = got?;
        if n == 0 {
            say!(Kernel, "read() returned 0: end of file, no writer is left");
            return Ok(true);
        }
        let text = String::from_utf8_lossy(&buffer[..n]);
        say!(Parent, "read {n} bytes: {text:?}");
    }
}
// ANCHOR_END: read-loop

/// `--bare`: the messages through src/bare.rs, then what came out of it.
fn bare_run(count: u32) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let messages: Vec<String> =
        (1..=count).map(|n| format!("message {n} of {count}\n")).collect();
    let (received, ended) = bare::run(&messages)?;
    print!("{}", String::from_utf8_lossy(&received));
    println!("(the child {})", status::explain(&ended));
    Ok(ExitCode::SUCCESS)
}

/// Tells the reader what went wrong with `--keep-write-end`, and cleans up.
fn explain_the_hang(child: Pid, kept_write_end: bool) -> nix::Result<()> {
    if let Some(ended) = wait_for_child(child, Duration::from_secs(10))? {
        say!(Parent, "yet the child has ended: it {}", status::explain(&ended));
    }
    if kept_write_end {
        say!(
            Note,
            "The parent itself still holds a write end of the pipe. The\n\
             kernel reports end of file only when every write end is\n\
             closed, in every process, so this read waits for a writer\n\
             that is the reader itself: forever, without a deadline.\n\
             The fix: drop(write_end) in the parent right after fork()."
        );
    }
    Ok(())
}
