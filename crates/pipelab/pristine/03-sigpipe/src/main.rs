//! The test runner for exercise 03: you do not need to edit this file.
//!
//! `cargo lab check 3` runs this program once per scenario, as a process of
//! its own, because each scenario forks (a child that dies in a chosen way,
//! or a reader that leaves), and a fork is only safe in a process with a
//! single thread (the test harness has many). It prints what your code
//! returned, one `key: value` line each, for tests/exercise.rs to check.
//!
//! SIGPIPE stays as the Rust runtime set it before `main`: ignored. So when
//! a reader leaves, your writer's `write` fails with EPIPE instead of this
//! process being killed.

use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;
use std::time::Duration;

use ex03_sigpipe::{describe, write_until_reader_leaves};
use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use labkit::raw_status::wait_for_raw_status;
use labkit::watchdog::wait_for_child;
use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, raise};
use nix::unistd::{pipe2, read, write};

/// What a reader child does with the pipe.
#[derive(Clone, Copy)]
enum Reader {
    /// Reads until end of file.
    Stays,
    /// Reads this many bytes, then exits, closing its read end.
    LeavesAfter(usize),
}

const LIMIT: Duration = Duration::from_secs(15);

fn main() -> ExitCode {
    let Some(scenario) = std::env::args().nth(1) else {
        eprintln!(
            "usage: ex03-sigpipe SCENARIO (exit-0, exit-3, exit-255, sigpipe, \
             sigkill, no-reader, reader-stays, reader-leaves, describe RAW)"
        );
        return ExitCode::from(2);
    };
    let outcome = match scenario.as_str() {
        "describe" => describe_word(std::env::args().nth(2)),
        "exit-0" => describe_child(|| exit_child(0)),
        "exit-3" => describe_child(|| exit_child(3)),
        "exit-255" => describe_child(|| exit_child(255)),
        "sigpipe" => describe_child(die_of_sigpipe),
        "sigkill" => describe_child(|| {
            let _ = raise(Signal::SIGKILL);
            exit_child(1)
        }),
        "no-reader" => write_with_no_reader(),
        "reader-stays" => write_to_reader(200_000, Reader::Stays),
        "reader-leaves" => {
            write_to_reader(1_000_000, Reader::LeavesAfter(1000))
        }
        other => Err(format!("unknown scenario {other:?}")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ex03-sigpipe: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what `describe` makes of one status word given in decimal. The
/// tests ask here, in a process of the runner's, never in the test program:
/// code of yours that ran there could end it with status 0 and pass.
fn describe_word(raw: Option<String>) -> Result<(), String> {
    let raw: i32 = raw
        .as_deref()
        .and_then(|word| word.parse().ok())
        .ok_or("describe needs a status word, in decimal")?;
    println!("describe: {}", describe(raw));
    Ok(())
}

/// Forks a child that ends by `dying`, reaps it, and prints the status word
/// and what `describe` makes of it.
fn describe_child(dying: fn() -> !) -> Result<(), String> {
    let child = match fork().map_err(|error| error.to_string())? {
        Forked::Child => dying(),
        Forked::Parent { child } => child,
    };
    let raw = wait_for_raw_status(child, LIMIT)
        .map_err(|errno| format!("waitpid: {errno}"))?
        .ok_or("the child did not end")?;
    println!("raw: {raw:#06x}");
    println!("describe: {}", describe(raw));
    Ok(())
}

/// In a child: restore SIGPIPE's default action and write to a pipe whose
/// only read end is closed. The kernel kills the child inside `write`.
fn die_of_sigpipe() -> ! {
    let _ = set_disposition(Signal::SIGPIPE, Disposition::Default);
    if let Ok((read_end, write_end)) = pipe2(OFlag::O_CLOEXEC) {
        // The only read end: once closed, the pipe has no reader.
        drop(read_end);
        let _ = write(&write_end, b"x");
    }
    exit_child(1)
}

/// The simplest case: the read end is closed before the first write.
fn write_with_no_reader() -> Result<(), String> {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2: {e}"))?;
    print_capacity(&write_end);
    // The only read end: from here on the pipe has no reader.
    drop(read_end);
    let report = write_until_reader_leaves(write_end.as_fd(), &[b'x'; 10_000]);
    print_report(10_000, &report);
    Ok(())
}

/// Forks a reader child that behaves as `reader` says, and writes `total`
/// bytes to it with the exercise's writer.
fn write_to_reader(total: usize, reader: Reader) -> Result<(), String> {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2: {e}"))?;
    print_capacity(&write_end);
    let child = match fork().map_err(|error| error.to_string())? {
        Forked::Child => {
            // The reader never writes, and its copy of the write end would
            // keep it from ever seeing end of file.
            drop(write_end);
            read_as(reader, read_end)
        }
        Forked::Parent { child } => child,
    };
    // The child holds the only read end now: when it leaves, nobody reads.
    drop(read_end);
    let report =
        write_until_reader_leaves(write_end.as_fd(), &vec![b'x'; total]);
    // The reader waits for end of file in the Stays case: give it one.
    drop(write_end);
    wait_for_child(child, LIMIT)
        .map_err(|errno| format!("waitpid: {errno}"))?
        .ok_or("the reader child did not end")?;
    print_report(total, &report);
    Ok(())
}

/// In the reader child: read as `reader` says, print how many bytes came,
/// and exit.
fn read_as(reader: Reader, read_end: OwnedFd) -> ! {
    let wanted = match reader {
        Reader::Stays => usize::MAX,
        Reader::LeavesAfter(count) => count,
    };
    let mut got = 0;
    let mut buffer = [0u8; 4096];
    while got < wanted {
        let room = buffer.len().min(wanted - got);
        match read(&read_end, &mut buffer[..room]) {
            Ok(0) | Err(_) => break,
            Ok(count) => got += count,
        }
    }
    println!("reader-got: {got}");
    // Leaving closes the read end: the writer's next write meets no reader.
    exit_child(0)
}

/// The pipe's capacity, so the tests can bound what a leaving reader lost.
fn print_capacity(write_end: &OwnedFd) {
    #[cfg(target_os = "linux")]
    if let Ok(bytes) =
        nix::fcntl::fcntl(write_end, nix::fcntl::FcntlArg::F_GETPIPE_SZ)
    {
        println!("pipe-capacity: {bytes}");
    }
}

fn print_report(total: usize, report: &ex03_sigpipe::Report) {
    println!("total: {total}");
    println!("bytes-written: {}", report.bytes_written);
    match report.error {
        Some(errno) => println!("error: {errno:?}"),
        None => println!("error: none"),
    }
}
