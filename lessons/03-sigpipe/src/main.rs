//! Lesson 03 — `sigpipe`: writing to a pipe nobody reads.
//!
//! What it teaches: once the last read end of a pipe is closed, nothing
//! written to it can ever be read, and the kernel tells the writer so. By
//! default it sends the writer SIGPIPE (signal 13), whose default action
//! kills it: `waitpid` reports "killed by signal 13" and a shell shows 141
//! (128 + 13). A writer that ignores SIGPIPE lives on, and its `write` fails
//! with EPIPE instead. Rust programs are of the second kind: the Rust
//! runtime sets SIGPIPE to SIG_IGN before `main`, and a forked child
//! inherits that.
//!
//! Usage (the --mode runs print 101, 141 and 0 last):
//!   cargo lab run 3              a child writes to a pipe with no reader
//!   cargo lab run 3 -- --trace   show each system call
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

use std::error::Error;
use std::io::{self, IsTerminal, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitCode, ExitStatus};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use labkit::Speaker::{self, Child, Kernel, Note, Parent};
use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use labkit::raw_status::wait_for_raw_status;
use labkit::status::{shell_status, signal_name};
use labkit::{say, trace};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;
use nix::unistd::{Pid, pipe2, write};

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

    #[command(flatten)]
    common: labkit::CommonArgs,
}

/// How the `--mode` stream meets a reader that has gone.
#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    /// Rust as it comes: SIGPIPE ignored, `println!` panics on EPIPE (101).
    RustDefault,
    /// SIGPIPE back to SIG_DFL, as in C: the kernel kills the writer (141).
    DefaultSignal,
    /// SIGPIPE ignored and EPIPE handled: stop quietly, with status 0.
    Graceful,
}

/// How long a child waits for the parent to close its read end, and the
/// parent for the child to end: both take milliseconds unless something is
/// wrong.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        match args.mode {
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

// ANCHOR: parent
/// Makes a pipe and forks a child that writes into it once the parent has
/// closed the last read end. Returns the child's pid and its status word.
fn writer_meets_closed_pipe(
    disposition: Disposition,
) -> Result<(Pid, i32), Box<dyn Error>> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let (r, w) = (read_end.as_raw_fd(), write_end.as_raw_fd());
    trace!(Parent, &Ok::<_, Errno>(0), "pipe2([{r}, {w}], O_CLOEXEC)");
    say!(Parent, "made a pipe: read end fd {r}, write end fd {w}");
    let child = match fork()? {
        Forked::Child => child_writes(read_end, write_end, disposition),
        Forked::Parent { child } => child,
    };
    // The parent never writes: the child's write end is the one that matters.
    drop(write_end);
    say!(Parent, "forked child {child}; closing my read end, the last one:");
    say!(Parent, "nobody can read now");
    // The child closed its copy first thing, so this is the last read end:
    // from here on the pipe has no reader, and never will again.
    drop(read_end);

    let raw = wait_for_raw_status(child, PATIENCE)?.ok_or_else(|| {
        format!("child {child} was still running after {PATIENCE:?}")
    })?;
    trace!(
        Parent,
        &Ok::<_, Errno>(child),
        "waitpid({child}, [{raw:#06x}], WNOHANG)"
    );
    Ok((child, raw))
}
// ANCHOR_END: parent

// ANCHOR: child
/// The child's whole life: wait until no reader is left, set SIGPIPE as
/// `disposition` says, write, and (if still alive) report what `write` said.
fn child_writes(
    read_end: OwnedFd,
    write_end: OwnedFd,
    disposition: Disposition,
) -> ! {
    // The child only writes. Its copy of the read end must go too: while
    // any read end is open, in any process, the pipe has a reader.
    drop(read_end);
    if let Err(error) = wait_until_no_reader(&write_end) {
        eprintln!("sigpipe: child: {error}");
        exit_child(1);
    }
    say!(Kernel, "poll() reports POLLERR on the child's write end:");
    say!(Kernel, "no read end is open anywhere");

    if disposition == Disposition::Default {
        say!(Child, "signal(SIGPIPE, SIG_DFL): back to SIGPIPE's default");
        say!(Child, "action, which is to terminate");
        let restored = set_disposition(Signal::SIGPIPE, Disposition::Default);
        trace!(Child, &restored.map(|()| 0), "signal(SIGPIPE, SIG_DFL)");
        if let Err(errno) = restored {
            eprintln!("sigpipe: child: signal(SIGPIPE, SIG_DFL): {errno}");
            exit_child(1);
        }
    }
    match sigpipe_in_proc(Child) {
        Ok(fact) => say(Kernel, fact),
        Err(error) => eprintln!("sigpipe: child: {error}"),
    }

    let message = "hello?\n";
    say!(Child, "writing {} bytes into the pipe...", message.len());
    let written = write(&write_end, message.as_bytes());
    // With SIG_DFL, nothing below runs: the kernel ends this process inside
    // write(), before it returns.
    let (w, len) = (write_end.as_raw_fd(), message.len());
    trace!(Child, &written, "write({w}, {message:?}, {len})");
    match written {
        Err(Errno::EPIPE) => {
            say!(Child, "write() failed with EPIPE (Broken pipe):");
            say!(Child, "nobody will ever read this pipe");
            say!(Child, "I stop writing and exit with code 0");
            exit_child(0)
        }
        Err(errno) => {
            say!(Child, "write() failed with {errno:?}: {}", errno.desc());
            exit_child(1)
        }
        Ok(count) => {
            say!(Child, "write() took {count} bytes that nobody will read");
            exit_child(1)
        }
    }
}
// ANCHOR_END: child

// ANCHOR: wait-no-reader
/// Waits, at most [`PATIENCE`], until no read end of the pipe is open.
///
/// On Linux, poll() reports POLLERR on a pipe's write end once the last read
/// end is closed. We ask for no event at all, so only that (or an error)
/// ends the wait. This is how the child knows that the parent has closed its
/// read end before it writes, so that the two never race.
fn wait_until_no_reader(write_end: &OwnedFd) -> Result<(), String> {
    let millis = u16::try_from(PATIENCE.as_millis()).unwrap_or(u16::MAX);
    loop {
        let mut fds = [PollFd::new(write_end.as_fd(), PollFlags::empty())];
        let polled = poll(&mut fds, PollTimeout::from(millis));
        trace!(
            Child,
            &polled,
            "poll([{{fd={}, events=0}}], 1, {millis})",
            write_end.as_raw_fd()
        );
        match polled {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(format!("poll: {errno}")),
            Ok(0) => {
                return Err(format!(
                    "a read end was still open after {PATIENCE:?}: \
                     did the parent close its copy?"
                ));
            }
            Ok(_) => {
                let events = fds[0].revents().unwrap_or(PollFlags::empty());
                return if events.contains(PollFlags::POLLERR) {
                    Ok(())
                } else {
                    Err(format!("poll reported {events:?}, not POLLERR"))
                };
            }
        }
    }
}
// ANCHOR_END: wait-no-reader

/// What the kernel says about SIGPIPE in this process: /proc/self/status
/// lists the ignored signals as a mask, `SigIgn`, where signal N is bit N-1.
fn sigpipe_in_proc(who: Speaker) -> Result<String, Box<dyn Error>> {
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

// ANCHOR: status-word
/// Reads the status word the way the C macros do, then shows what nix, std
/// and a shell make of it.
fn explain_status_word(child: Pid, raw: i32) {
    say!(Parent, "waitpid() stored the status word {raw:#06x}");
    if let Ok(decoded) = WaitStatus::from_raw(child, raw) {
        say!(Parent, "nix decodes it as {}", without_pid(&decoded));
    }
    let signal = raw & 0x7f;
    let high_byte = (raw >> 8) & 0xff;
    if signal != 0 {
        let name = signal_name(signal);
        say!(
            Note,
            "status & 0x7f = {signal}: a signal ended the child: {name}"
        );
        say!(Note, "(status >> 8) & 0xff = {high_byte}: no exit code,");
        say!(Note, "the child never called exit()");
    } else {
        say!(Note, "status & 0x7f = 0: no signal ended the child: it exited");
        say!(Note, "(status >> 8) & 0xff = {high_byte}: its exit code");
    }
    let status = ExitStatus::from_raw(raw);
    say!(
        Note,
        "std::process::ExitStatus: code() = {:?}, signal() = {:?}",
        status.code(),
        status.signal()
    );
    if let Some(shell) = shell_status(status) {
        let sum = if signal != 0 {
            format!(" (128 + {signal})")
        } else {
            String::new()
        };
        say!(Note, "a shell would put {shell}{sum} in $?");
    }
}
// ANCHOR_END: status-word

/// A `WaitStatus` as nix prints it, with the pid (which changes every run)
/// replaced by the word `child`.
fn without_pid(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("Exited(child, {code})"),
        WaitStatus::Signaled(_, signal, core_dumped) => {
            format!("Signaled(child, {signal:?}, {core_dumped})")
        }
        other => format!("{other:?}"),
    }
}

// ANCHOR: stream
/// Writes numbered lines to stdout until the reader leaves (or `lines` run
/// out), meeting the closed pipe as `mode` says.
fn stream(mode: Mode, lines: u64) -> Result<ExitCode, Box<dyn Error>> {
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
