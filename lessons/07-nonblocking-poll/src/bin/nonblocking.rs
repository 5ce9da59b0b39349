//! Lesson 07 — `nonblocking`: the four answers of a read, and the FIFO's
//! open rules with `O_NONBLOCK`.
//!
//! What it teaches. A `read` on a pipe or a FIFO gives one of four answers:
//! bytes; 0, end of file, when no writer is left; with `O_NONBLOCK`, -1
//! EAGAIN when it is empty but a writer is still open ("nothing yet"); and
//! without `O_NONBLOCK`, no answer at all until a writer writes or leaves.
//! Mixing up 0 and EAGAIN is the bug: a loop that takes 0 for "try again"
//! spins at 100 % CPU for ever; one that takes EAGAIN for end of file
//! stops early and loses what comes later. Then the open rules: a
//! non-blocking open for reading returns at once, one for writing fails
//! with ENXIO while nobody reads; a server that holds a write end of its
//! own FIFO never sees end of file between clients. Last, what `poll`
//! reports when a writer closes: POLLHUP, for a pipe for ever, for a FIFO
//! until a new writer comes or the reader opens again.
//!
//! Usage:
//!   cargo lab run 7 nonblocking                    every act in turn
//!   cargo lab run 7 nonblocking -- --show answers  one act: answers, spin,
//!                                                  lost, open, pollhup
//!   cargo lab run 7 nonblocking -- --show spin --spin-ms 1000
//!
//! What to look for: which read says EAGAIN and which says 0; the CPU time
//! the spinning loop burns next to the blocking read's; the message the
//! EAGAIN-as-end-of-file reader never sees.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::thread;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use labkit::Speaker::{Kernel, Note, Parent};
use labkit::cpu::cpu_time;
use labkit::fifo::{Access, Fifo, open};
use labkit::watchdog::wait_for_child;
use labkit::{say, trace};
use lesson07_nonblocking_poll::{poll_names, read_or_poll, set_nonblocking};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, read, write};

/// Shows the four answers of a read, and the FIFO open rules.
#[derive(Parser)]
#[command(name = "nonblocking", version)]
struct Args {
    /// Which act to show.
    #[arg(long, value_enum, default_value_t = Show::All)]
    show: Show,

    /// How long the wrong loop (0 taken as "try again") spins, in ms.
    #[arg(long, value_name = "MS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(10..=5000))]
    spin_ms: u64,

    /// How long the late writer stays silent before it writes, in ms.
    #[arg(long, value_name = "MS", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(10..=10_000))]
    late_ms: u64,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Show {
    /// Every act, in order.
    All,
    /// Data, EAGAIN, a read that waits, and 0.
    Answers,
    /// The loop that takes 0 for "try again", and the CPU it burns.
    Spin,
    /// The reader that takes EAGAIN for end of file, and what it loses.
    Lost,
    /// Opening a FIFO with O_NONBLOCK, and the server's own write end.
    Open,
    /// What poll() says when the writer closes: a pipe, then a FIFO.
    Pollhup,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        run(&args).map(|()| ExitCode::SUCCESS)
    })
}

fn run(args: &Args) -> Result<()> {
    let late = Duration::from_millis(args.late_ms);
    let wants = |act| args.show == Show::All || args.show == act;
    if wants(Show::Answers) {
        four_answers(late)?;
    }
    if wants(Show::Spin) {
        zero_as_try_again(Duration::from_millis(args.spin_ms))?;
    }
    if wants(Show::Lost) {
        eagain_as_end_of_file(late)?;
    }
    if wants(Show::Open) {
        open_rules()?;
    }
    if wants(Show::Pollhup) {
        pollhup()?;
    }
    Ok(())
}

/// One read, traced, with the outcome handed back as it came.
fn read_once(fd: impl AsFd, buffer: &mut [u8]) -> nix::Result<usize> {
    let fd = fd.as_fd();
    let got = read(fd, buffer);
    trace!(Parent, &got, "read({}, buf, {})", fd.as_raw_fd(), buffer.len());
    got
}

/// The bytes as a quoted string: "hello\n".
fn quoted(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

// ANCHOR: answers
/// Act 1: the four answers of a read, on one FIFO.
fn four_answers(late: Duration) -> Result<()> {
    let fifo = Fifo::create_private("answers")?;
    say!(Parent, "act 1: the four answers of read(), on a FIFO of my own");
    // With O_NONBLOCK, neither open waits for the other side (act 4).
    let reader = open(fifo.path(), Access::Read, true)?;
    let writer = open(fifo.path(), Access::Write, true)?;
    say!(Parent, "opened it O_RDONLY|O_NONBLOCK and O_WRONLY|O_NONBLOCK");
    write(&writer, b"hello\n")?;
    let mut buffer = [0u8; 64];

    let n = read_once(&reader, &mut buffer)?;
    let data = quoted(&buffer[..n]);
    say!(Kernel, "answer 1, data: read() = {n}, the bytes {data}");

    match read_once(&reader, &mut buffer) {
        Err(Errno::EAGAIN) => {
            say!(Kernel, "answer 2, EAGAIN: read() = -1 EAGAIN: the FIFO is");
            say!(Kernel, "  empty and a writer (mine) is open: nothing yet");
        }
        other => return Err(format!("expected EAGAIN, got {other:?}").into()),
    }

    // A writer that stays silent, then writes once and closes its end.
    let late_writer = thread::spawn(move || {
        thread::sleep(late);
        let wrote = write(&writer, b"late\n");
        drop(writer); // the last write end: the next empty read says 0
        wrote
    });
    set_nonblocking(&reader, false)?;
    say!(Parent, "cleared O_NONBLOCK; the writer stays silent for a while");
    let (cpu, started) = (cpu_time()?, Instant::now());
    let n = read_once(&reader, &mut buffer)?; // waits: a writer is open
    let (waited, burned) = (started.elapsed(), cpu_time()? - cpu);
    let waited = format!("{:.1} s", waited.as_secs_f64());
    say!(Kernel, "answer 3, a wait: read() slept {waited} until the");
    say!(Kernel, "  writer wrote, then = {n}, {}", quoted(&buffer[..n]));
    say!(Note, "asleep in read(), the CPU time used was {}", ms(burned));

    late_writer.join().map_err(|_| "the late writer panicked")??;
    set_nonblocking(&reader, true)?;
    let n = read_once(&reader, &mut buffer)?;
    say!(Kernel, "answer 4, end of file: read() = {n}, even with O_NONBLOCK:");
    say!(Kernel, "  the FIFO is empty and no writer is left");
    say!(Note, "EAGAIN means \"not now\", 0 means \"no writer\": never mix");
    say!(Note, "  them up (the next two acts show what happens if you do)");
    Ok(())
}
// ANCHOR_END: answers

// ANCHOR: spin
/// Act 2: the loop that takes 0 for "try again" spins on the CPU.
fn zero_as_try_again(spin: Duration) -> Result<()> {
    let fifo = Fifo::create_private("spin")?;
    say!(
        Parent,
        "act 2, wrong: a loop that takes read() = 0 for \"try again\""
    );
    let reader = open(fifo.path(), Access::Read, true)?;
    let writer = open(fifo.path(), Access::Write, true)?;
    write(&writer, b"the only message\n")?;
    drop(writer); // the writer is done: after its message, end of file
    let mut buffer = [0u8; 64];
    let (mut messages, mut zeros) = (0, 0u64);
    let (cpu, started) = (cpu_time()?, Instant::now());
    while started.elapsed() < spin {
        match read(&reader, &mut buffer)? {
            0 => zeros += 1, // WRONG: end of file, "so try again"
            _ => messages += 1,
        }
    }
    let burned = cpu_time()? - cpu;
    let wall = started.elapsed();
    let share = 100.0 * burned.as_secs_f64() / wall.as_secs_f64();
    let (burned, wall) = (ms(burned), ms(wall));
    say!(Kernel, "{messages} message, then read() = 0 again and again:");
    say!(Kernel, "  {zeros} times in {wall} (the lesson stopped it there)");
    say!(Note, "it burned {burned} of CPU time in {wall}: {share:.0} %");
    say!(Note, "  of a CPU, waiting for bytes that no writer can send");
    say!(Note, "0 is final: stop reading, close, and (for a server) reopen");
    Ok(())
}
// ANCHOR_END: spin

// ANCHOR: lost
/// Act 3: the reader that takes EAGAIN for end of file loses the rest.
fn eagain_as_end_of_file(late: Duration) -> Result<()> {
    say!(Parent, "act 3: two messages, the second one late; two readers");
    let wrong = two_messages_to(late, ReadUntil::FirstEagain)?;
    say!(Parent, "wrong reader (stops at EAGAIN) got {wrong:?}");
    let right = two_messages_to(late, ReadUntil::EndOfFile)?;
    say!(Parent, "right reader (polls at EAGAIN, stops at 0) got {right:?}");
    if wrong.len() < right.len() {
        say!(Note, "EAGAIN is not the end: the wrong reader lost {:?}", {
            &right[wrong.len()..]
        });
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadUntil {
    FirstEagain,
    EndOfFile,
}

/// A writer sends "first" now and "second" after `late`, then closes;
/// the reader reads the FIFO non-blocking until `until`.
fn two_messages_to(late: Duration, until: ReadUntil) -> Result<Vec<String>> {
    let fifo = Fifo::create_private("lost")?;
    let reader = open(fifo.path(), Access::Read, true)?;
    let writer = open(fifo.path(), Access::Write, true)?;
    write(&writer, b"first\n")?;
    let late_writer = thread::spawn(move || {
        thread::sleep(late);
        let wrote = write(&writer, b"second\n");
        drop(writer); // done: the reader sees end of file after "second"
        wrote
    });
    let mut got = Vec::new();
    let mut buffer = [0u8; 64];
    let patience = PollTimeout::from(10_000u16); // the writer is ours: 10 s
    loop {
        let n = match until {
            // Wrong: EAGAIN ("nothing yet") taken for the end.
            ReadUntil::FirstEagain => match read_once(&reader, &mut buffer) {
                Ok(0) | Err(Errno::EAGAIN) => break,
                Ok(n) => n,
                Err(errno) => return Err(format!("read: {errno}").into()),
            },
            // Right: at EAGAIN, sleep in poll(); stop only at 0.
            ReadUntil::EndOfFile => {
                match read_or_poll(&reader, &mut buffer, patience)? {
                    None => break, // end of file: the writer has closed
                    Some(n) => n,
                }
            }
        };
        let text = String::from_utf8_lossy(&buffer[..n]);
        got.extend(text.lines().map(String::from));
    }
    late_writer.join().map_err(|_| "the late writer panicked")??;
    Ok(got)
}
// ANCHOR_END: lost

/// Runs `sh -c SCRIPT` with the FIFO's path as $1, and waits for it (10 s
/// at most: its open cannot wait, since we hold a reader, but be sure).
fn shell_client(script: &str, fifo: &Path) -> Result<()> {
    let child = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(fifo)
        .spawn()
        .map_err(|error| format!("cannot run sh: {error}"))?;
    let pid = Pid::from_raw(i32::try_from(child.id())?);
    let ended = wait_for_child(pid, Duration::from_secs(10))?;
    match ended {
        Some(WaitStatus::Exited(_, 0)) => Ok(()),
        Some(other) => {
            let ended = labkit::status::explain(&other);
            Err(format!("sh -c {script:?} {ended}").into())
        }
        None => {
            let _ = kill(pid, Signal::SIGKILL); // then reap it: no zombie
            let _ = waitpid(pid, None);
            Err(format!("sh -c {script:?} still ran after 10 s").into())
        }
    }
}

/// What poll() says about `fd` within `limit`: the events, or "nothing".
fn poll_says(fd: impl AsFd, limit: u16) -> Result<String> {
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    let ready = poll(&mut fds, PollTimeout::from(limit));
    trace!(Parent, &ready, "poll([{{fd, POLLIN}}], 1, {limit})");
    Ok(match (ready?, fds[0].revents()) {
        (0, _) | (_, None) => format!("nothing within {limit} ms"),
        (_, Some(events)) => poll_names(events),
    })
}

/// A duration in milliseconds, always in the same unit: "0.4 ms".
fn ms(time: Duration) -> String {
    format!("{:.1} ms", time.as_secs_f64() * 1000.0)
}

// ANCHOR: open-rules
/// Act 4: opening a FIFO with O_NONBLOCK, and the server's own writer.
fn open_rules() -> Result<()> {
    let fifo = Fifo::create_private("open")?;
    let path = fifo.path();
    say!(Parent, "act 4: the open rules, on a FIFO nobody has opened");
    match open(path, Access::Write, true) {
        Err(error) if error.errno() == Some(Errno::ENXIO) => {
            say!(Kernel, "open(O_WRONLY|O_NONBLOCK) = -1 ENXIO: no reader")
        }
        other => return Err(format!("expected ENXIO, got {other:?}").into()),
    }
    let reader = open(path, Access::Read, true)?;
    say!(Kernel, "open(O_RDONLY|O_NONBLOCK) returned at once, no writer");
    let mut buffer = [0u8; 64];
    let n = read_once(&reader, &mut buffer)?;
    say!(Kernel, "read() = {n}: no writer, so end of file, before anyone came");
    let first = poll_says(&reader, 200)?;
    say!(Kernel, "but poll(POLLIN) says {first}: it waits for a writer");

    say!(Parent, "a client (sh) writes one line and leaves");
    shell_client("echo 'hello from sh' > \"$1\"", path)?;
    let n = read_once(&reader, &mut buffer)?;
    say!(Kernel, "read() = {n}: {}", quoted(&buffer[..n]));
    let n = read_once(&reader, &mut buffer)?;
    say!(Kernel, "read() = {n}: the client left, end of file;");
    say!(Kernel, "  and poll() says {} at once", poll_says(&reader, 200)?);

    say!(Parent, "now the trick: a server holds a write end of its own FIFO");
    let own_writer = open(path, Access::Write, true)?; // never written to
    say!(Kernel, "open(O_WRONLY|O_NONBLOCK) succeeds: I am a reader");
    shell_client("echo 'hello again' > \"$1\"", path)?;
    let n = read_once(&reader, &mut buffer)?;
    say!(Kernel, "read() = {n}: {}", quoted(&buffer[..n]));
    match read_once(&reader, &mut buffer) {
        Err(Errno::EAGAIN) => {
            say!(Kernel, "read() = -1 EAGAIN: the client left, but my own");
            say!(Kernel, "  write end is open: no end of file between clients")
        }
        other => return Err(format!("expected EAGAIN, got {other:?}").into()),
    }
    say!(Kernel, "and poll() says {}", poll_says(&reader, 200)?);
    say!(Note, "the price: the server cannot tell when a client has gone");
    drop(own_writer); // done: the FIFO may read as end of file again
    Ok(())
}
// ANCHOR_END: open-rules

// ANCHOR: pollhup
/// Act 5: POLLHUP, on a pipe and on a FIFO.
fn pollhup() -> Result<()> {
    say!(Parent, "act 5: what poll() says when the last writer closes");
    let (pipe_reader, pipe_writer) = std::io::pipe()?;
    drop(pipe_writer); // the pipe's only write end: nobody can ever write
    let said = poll_says(&pipe_reader, 200)?;
    say!(Kernel, "pipe, writer closed: poll() = {said}, every time from");
    say!(Kernel, "  now on: no process can open a pipe's write end again");

    let fifo = Fifo::create_private("pollhup")?;
    let reader: OwnedFd = open(fifo.path(), Access::Read, true)?;
    let writer = open(fifo.path(), Access::Write, true)?;
    drop(writer); // a writer came and went
    let said = poll_says(&reader, 200)?;
    say!(Kernel, "FIFO, writer closed: poll() = {said}; and again:");
    say!(
        Kernel,
        "  {}: a loop that polls on would spin",
        poll_says(&reader, 0)?
    );
    say!(Parent, "I open the FIFO for writing: a new writer");
    let writer = open(fifo.path(), Access::Write, true)?;
    say!(Kernel, "FIFO, new writer: poll() = {}", poll_says(&reader, 200)?);
    drop(writer); // and goes again: POLLHUP once more
    let reopened = open(fifo.path(), Access::Read, true)?;
    drop(reader); // the new descriptor replaces it
    say!(Parent, "the writer left again; I open the FIFO again for reading");
    let said = poll_says(&reopened, 200)?;
    say!(Kernel, "FIFO, fresh descriptor: poll() = {said}: the hang-up");
    say!(Kernel, "  belonged to the old one; this one waits for new writers");
    Ok(())
}
// ANCHOR_END: pollhup
