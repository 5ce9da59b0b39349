//! Lesson 06 — `pipe-buf`: many writers, one pipe, and PIPE_BUF.
//!
//! What it teaches: pipe(7)'s promise to many writers. A write() of at most
//! PIPE_BUF bytes (4096 on Linux; asked here with fpathconf) is atomic: its
//! bytes land in the pipe together, never mixed with another writer's. A
//! larger write is not: when the pipe fills, the writer sleeps in the middle
//! of its write, and another writer's bytes go in before it resumes. And
//! with O_NONBLOCK, a write of at most PIPE_BUF bytes goes in whole or fails
//! with EAGAIN, while a larger one may go in partly (a partial write).
//!
//! N writer processes each write M records into one FIFO (or one pipe),
//! one write() per record; this process reads them all and checks each
//! record's checksum: whole or torn.
//!
//! The writers are this same program, started again with `Command` and a
//! hidden `--writer-id K`, not forked: making a FIFO with labkit starts a
//! cleanup thread, and a process with two threads must not fork. Each
//! writer is then a program of its own, like the clients of a log collector.
//!
//! Usage:
//!   cargo lab run 6                            8 writers, 4096-byte records
//!   cargo lab run 6 -- --record-size 100000    above PIPE_BUF: torn records
//!   cargo lab run 6 -- --record-size 4097      one byte above: a few torn
//!   cargo lab run 6 -- --nonblocking --record-size 100000   partial writes
//!   cargo lab run 6 -- --record-size 8192 --pipe-size 4096   a small pipe
//!   cargo lab run 6 -- --via pipe              one pipe instead of a FIFO
//!   cargo lab run 6 -- --trace                 each read() and its result
//!
//! What to look for: the last line, `records: TOTAL, whole: W, torn: T`.
//! At 4096 bytes, T is 0 however many writers there are. At 100000 it is
//! not, and the first torn record is shown byte range by byte range, with
//! another writer's bytes inside it. Some sizes above PIPE_BUF (8192,
//! 65536) may come through whole run after run: that is this kernel's way
//! of filling the pipe's pages, not a promise (shrink the pipe with
//! --pipe-size and they tear). With --nonblocking, the partial writes are
//! counted: never one at or below PIPE_BUF.

mod record;
mod reports;
mod torn;
mod verdict;
mod writer;

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use labkit::Speaker::{Kernel, Note, Parent};
use labkit::cli::failed;
use labkit::fifo::{Access, Fifo, open_within};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use nix::fcntl::OFlag;
use nix::unistd::{PathconfVar, Pid, fpathconf, pipe2, read};

use record::{MAX_RECORD, MIN_RECORD, Scanner};
use reports::Reports;
use verdict::{explain, tally};

/// Many writers, one FIFO: which records arrive whole, and which torn.
///
/// N writer processes each write M records of BYTES bytes into one FIFO
/// (or pipe), one write() per record; the reader checks every record.
#[derive(Parser)]
#[command(name = "pipe-buf", version)]
struct Args {
    /// How many writer processes write at once.
    #[arg(long, default_value_t = 8, value_parser = count(1..=64))]
    writers: u32,

    /// How many records each writer writes.
    #[arg(long, default_value_t = 20, value_parser = count(1..=100_000))]
    records: u32,

    /// The size of each record in bytes, its 32-byte header included.
    #[arg(long, value_name = "BYTES", default_value_t = 4096)]
    #[arg(value_parser = record_size)]
    record_size: usize,

    /// What the writers share: a FIFO each opens by name, or one pipe.
    #[arg(long, value_enum, default_value_t = Via::Fifo)]
    via: Via,

    /// Resize the pipe (F_SETPIPE_SZ, lesson 02) before the writers start.
    #[arg(long, value_name = "BYTES", value_parser = count(4096..=1_048_576))]
    pipe_size: Option<u32>,

    /// The writers set O_NONBLOCK: count the writes that go in partly.
    #[arg(long)]
    nonblocking: bool,

    /// (internal) Run as writer K, started by the reader.
    #[arg(long, hide = true)]
    writer_id: Option<u32>,

    /// (internal) The FIFO a writer opens.
    #[arg(long, hide = true)]
    fifo_path: Option<PathBuf>,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Via {
    /// A FIFO in a private directory, opened by each writer by its name.
    Fifo,
    /// One pipe; every writer gets its write end as standard output.
    Pipe,
}

/// A whole number in `range`, for `--writers` and `--records`.
fn count(
    range: std::ops::RangeInclusive<i64>,
) -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(range)
}

/// Reads `--record-size`: a header and a newline at least, 1 MB at most.
fn record_size(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(size) if (MIN_RECORD..=MAX_RECORD).contains(&size) => Ok(size),
        _ => Err(format!(
            "expected a size from {MIN_RECORD} (a 32-byte header and a \
             newline) to {MAX_RECORD} bytes, got {text:?}"
        )),
    }
}

/// At most this much in one run: the reader holds little, but it all
/// goes through the pipe, and a lesson should end within seconds.
const MAX_TOTAL: u64 = 1 << 30;

/// How long the reader waits for a writer to start, report or send bytes.
const PATIENCE: Duration = Duration::from_secs(20);

fn main() -> ExitCode {
    labkit::cli::main(start)
}

/// One of the writers (the hidden --writer-id), or the whole lesson.
fn start(args: Args) -> Result<ExitCode> {
    args.common.apply();
    if let Some(id) = args.writer_id {
        let job = writer::Job {
            id,
            records: args.records,
            size: args.record_size,
            nonblocking: args.nonblocking,
            fifo: args.fifo_path.as_deref(),
        };
        return Ok(ExitCode::from(writer::run(&job) as u8));
    }
    let total = u64::from(args.writers)
        * u64::from(args.records)
        * args.record_size as u64;
    if total > MAX_TOTAL {
        eprintln!(
            "pipe-buf: error: {} writers × {} records × {} bytes is {total} \
             bytes; keep it to {MAX_TOTAL}",
            args.writers, args.records, args.record_size
        );
        return Ok(ExitCode::from(2));
    }
    run(&args)
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Where the records go: a FIFO (kept until the end, then removed), or the
/// write end of a pipe, to give to the writers.
enum Channel {
    Fifo(Fifo),
    Pipe { read_end: OwnedFd, write_end: OwnedFd },
}

fn run(args: &Args) -> Result<ExitCode> {
    // ANCHOR: channel
    let channel = match args.via {
        Via::Fifo => {
            let fifo = Fifo::create_private("records")?;
            say!(
                Parent,
                "made a FIFO for the records: {}",
                fifo.path().display()
            );
            Channel::Fifo(fifo)
        }
        Via::Pipe => {
            // O_CLOEXEC: only the writers we give it to hold the write end.
            let (read_end, write_end) =
                pipe2(OFlag::O_CLOEXEC).map_err(failed("pipe2"))?;
            say!(Parent, "made a pipe for the records");
            Channel::Pipe { read_end, write_end }
        }
    };
    // ANCHOR_END: channel

    // ANCHOR: spawn
    // The start pipe: every writer reads it, and starts when it reads end
    // of file. O_CLOEXEC, so that no writer inherits its write end, which
    // would keep that end of file from ever coming.
    let (start_read, start_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(failed("pipe2"))?;
    // The report pipe: every writer's standard error. Its lines are short,
    // one write() each, so they never mix.
    let (report_read, report_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(failed("pipe2"))?;
    let mut writers = Vec::new();
    for id in 1..=args.writers {
        let mut command = writer_command(args, id, &channel)?;
        command
            .stdin(Stdio::from(start_read.try_clone().map_err(failed("dup"))?))
            .stderr(Stdio::from(
                report_write.try_clone().map_err(failed("dup"))?,
            ));
        writers.push(command.spawn().map_err(|e| format!("spawn: {e}"))?);
    }
    say!(
        Parent,
        "started {} writers: each writes {} records of {} bytes,\n\
         one write() per record",
        args.writers,
        args.records,
        args.record_size
    );
    // The writers hold their copies now. Ours of the start pipe's read end
    // is of no use; ours of the report pipe's write end would keep us from
    // ever reading end of file there.
    drop((start_read, report_write));
    let (data, _fifo) = match channel {
        Channel::Pipe { read_end, write_end } => {
            // The same: the writers hold the only write ends now, so our
            // read() returns 0 when the last of them has closed.
            drop(write_end);
            (read_end, None)
        }
        Channel::Fifo(fifo) => {
            // open(O_RDONLY) waits until a writer opens the FIFO.
            let fd = open_within(fifo.path(), Access::Read, PATIENCE)?;
            say!(Parent, "opened the FIFO for reading: a writer has come");
            (fd, Some(fifo))
        }
    };
    // ANCHOR_END: spawn

    // ANCHOR: pipe-buf
    // PIPE_BUF as this system defines it for this very pipe or FIFO.
    let asked = fpathconf(&data, PathconfVar::PIPE_BUF);
    trace!(
        Parent,
        &asked.map(|v| v.unwrap_or(-1)),
        "fpathconf(fd, _PC_PIPE_BUF)"
    );
    let pipe_buf = asked
        .map_err(|e| format!("fpathconf(_PC_PIPE_BUF): {e}"))?
        .and_then(|value| usize::try_from(value).ok())
        .ok_or("fpathconf(_PC_PIPE_BUF): no limit reported")?;
    say!(
        Kernel,
        "PIPE_BUF is {pipe_buf} bytes: fpathconf(fd, _PC_PIPE_BUF) = \
         {pipe_buf}\n(limits.h says {})",
        libc::PIPE_BUF
    );
    let atomic = args.record_size <= pipe_buf;
    let relation = if atomic { "at most" } else { "more than" };
    say!(Note, "a record is {} bytes: {relation} PIPE_BUF", args.record_size);
    // ANCHOR_END: pipe-buf

    let capacity = capacity(&data, args.pipe_size)?;

    let mut reports = Reports::new(report_read);
    let ready = reports.until_all(args.writers, "ready")?;
    say!(
        Parent,
        "all {ready} writers have their write end and wait on the start pipe"
    );
    // ANCHOR: start
    // End of file on the start pipe is the starting gun: every writer's
    // read() returns 0 at once.
    drop(start_write);
    say!(Parent, "closed the start pipe: they all start writing now");
    // ANCHOR_END: start

    let (scanner, bytes) = read_all(&data)?;
    say!(
        Kernel,
        "read {bytes} bytes, then 0: every writer has closed its write end"
    );
    drop(data); // done reading; the FIFO itself goes when `_fifo` drops

    let done = reports.until_all(args.writers, "done")?;
    let mut all_ended_well = reap(&mut writers)?;
    all_ended_well &= done == args.writers;
    let sent = u64::from(args.writers) * u64::from(args.records);
    let expected_bytes = sent * args.record_size as u64;
    if bytes != expected_bytes {
        say!(Kernel, "{expected_bytes} bytes were written: some are missing");
        all_ended_well = false;
    }

    let whole = tally(args, &scanner);
    if args.nonblocking {
        reports.show_partial_writes(pipe_buf, args.record_size);
    }
    explain(atomic, whole, sent, &scanner, capacity, args.record_size);
    // The line scripts read: always last, always in this form. Like the
    // narration, best-effort: a reader that left early (`| head`) is no
    // reason to panic (lesson 03).
    let torn = sent - whole;
    let _ = writeln!(
        std::io::stdout(),
        "records: {sent}, whole: {whole}, torn: {torn}"
    );
    Ok(if all_ended_well { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// ANCHOR: capacity
/// How much the pipe holds (Linux's F_GETPIPE_SZ), after resizing it with
/// F_SETPIPE_SZ if asked to: the kernel grants a power of two pages.
#[cfg(target_os = "linux")]
fn capacity(data: &OwnedFd, resize: Option<u32>) -> Result<Option<usize>> {
    use nix::fcntl::{FcntlArg, fcntl};
    if let Some(bytes) = resize {
        let granted =
            fcntl(data, FcntlArg::F_SETPIPE_SZ(i32::try_from(bytes)?));
        trace!(Parent, &granted, "fcntl(fd, F_SETPIPE_SZ, {bytes})");
        granted.map_err(|e| format!("fcntl(F_SETPIPE_SZ, {bytes}): {e}"))?;
    }
    let size = fcntl(data, FcntlArg::F_GETPIPE_SZ);
    trace!(Parent, &size, "fcntl(fd, F_GETPIPE_SZ)");
    let size = size.map_err(|e| format!("fcntl(F_GETPIPE_SZ): {e}"))?;
    let how = if resize.is_some() { "now holds" } else { "holds" };
    say!(Kernel, "the pipe {how} {size} bytes (F_GETPIPE_SZ)");
    Ok(usize::try_from(size).ok())
}
// ANCHOR_END: capacity

/// Elsewhere the capacity is not asked: --pipe-size is refused.
#[cfg(not(target_os = "linux"))]
fn capacity(_: &OwnedFd, resize: Option<u32>) -> Result<Option<usize>> {
    match resize {
        Some(_) => Err("--pipe-size needs Linux's F_SETPIPE_SZ".into()),
        None => Ok(None),
    }
}

/// This program again, as writer `id`.
fn writer_command(args: &Args, id: u32, channel: &Channel) -> Result<Command> {
    let mut command =
        Command::new(std::env::current_exe().map_err(failed("current_exe"))?);
    command
        .args(["--writer-id", &id.to_string()])
        .args(["--records", &args.records.to_string()])
        .args(["--record-size", &args.record_size.to_string()])
        .args(["--color", "never"]);
    if args.nonblocking {
        command.arg("--nonblocking");
    }
    match channel {
        Channel::Fifo(fifo) => {
            command.arg("--fifo-path").arg(fifo.path());
            command.stdout(Stdio::null());
        }
        Channel::Pipe { write_end, .. } => {
            command.stdout(Stdio::from(
                write_end.try_clone().map_err(failed("dup"))?,
            ));
        }
    }
    Ok(command)
}

// ANCHOR: read-loop
/// Reads until end of file, handing every piece to the record scanner.
fn read_all(data: &OwnedFd) -> Result<(Scanner, u64)> {
    let mut scanner = Scanner::default();
    let mut buffer = vec![0u8; 65536];
    let mut bytes = 0u64;
    loop {
        if !wait_readable(data.as_fd(), PATIENCE).map_err(failed("poll"))? {
            return Err(format!(
                "read() still blocked after {} s: a writer went quiet \
                 with its write end open",
                PATIENCE.as_secs()
            )
            .into());
        }
        let got = read(data, &mut buffer);
        trace!(Parent, &got, "read(fd, buf, {})", buffer.len());
        match got.map_err(|e| format!("read: {e}"))? {
            0 => break,
            n => {
                bytes += n as u64;
                scanner.push(&buffer[..n]);
            }
        }
    }
    scanner.finish();
    Ok((scanner, bytes))
}
// ANCHOR_END: read-loop

/// Reaps every writer within PATIENCE; true if all exited with code 0.
fn reap(writers: &mut [Child]) -> Result<bool> {
    let mut all_fine = true;
    for (id, writer) in (1..).zip(writers.iter()) {
        let pid = Pid::from_raw(i32::try_from(writer.id())?);
        match wait_for_child(pid, PATIENCE).map_err(failed("waitpid"))? {
            Some(ended) => {
                let said = status::explain(&ended);
                if !said.contains("exited with code 0") {
                    say!(Parent, "writer {id} {said}");
                    all_fine = false;
                }
            }
            None => return Err(format!("writer {id} did not exit").into()),
        }
    }
    Ok(all_fine)
}
