//! Exercise 09: a throughput meter with an honest method.
//!
//! [`one_run`] is given: it measures one run of a mechanism (a child
//! writes `size`-byte chunks, the parent reads them for a while and counts
//! the bytes). One run is not a measurement. Your work is the method:
//!
//! - [`median`]: the middle of a list of rates;
//! - [`measure`]: a warm-up run, thrown away; then [`REPETITIONS`] counted
//!   runs; then their median, lowest and highest rate.
//!
//! `cargo lab check 9` compares your meter with a reference one in the same
//! run, and checks the method itself: that the warm-up is kept apart from
//! the counted runs, and that the figure is a median of several runs.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use labkit::process::{Forked, exit_child, fork};
use labkit::watchdog::wait_for_child;
use nix::errno::Errno;
use nix::unistd::Pid;

/// What connects the writer and the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// An anonymous pipe (pipe2).
    Pipe,
    /// A connected pair of Unix stream sockets (socketpair).
    Socketpair,
}

/// One run: the bytes read, and the seconds they took.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Run {
    pub bytes: u64,
    pub seconds: f64,
}

impl Run {
    /// Bytes per second.
    pub fn rate(&self) -> f64 {
        self.bytes as f64 / self.seconds
    }
}

/// A measurement: the warm-up run, kept apart; every counted run; and the
/// median, lowest and highest of the counted runs' rates (bytes/s).
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub warmup: Run,
    pub runs: Vec<Run>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// How many counted runs a measurement takes.
pub const REPETITIONS: usize = 5;

/// How long the warm-up lasts: half a counted run.
pub fn warmup_duration(duration: Duration) -> Duration {
    duration / 2
}

/// One run, given: a forked child writes `size`-byte chunks into the
/// mechanism until its reader goes; this process reads `size` bytes at a
/// time for `duration`, with the clock started when the first read
/// returns (so the child's start-up is not timed), and returns the bytes
/// read after that first read with the time they took.
pub fn one_run(
    mechanism: Mechanism,
    size: usize,
    duration: Duration,
) -> nix::Result<Run> {
    let (reader, writer): (OwnedFd, OwnedFd) = match mechanism {
        Mechanism::Pipe => {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            (r, w)
        }
        Mechanism::Socketpair => {
            let (a, b) = UnixStream::pair().map_err(io_errno)?;
            (a.into(), b.into())
        }
    };
    let child = match fork().map_err(io_errno)? {
        Forked::Child => {
            // The child only writes.
            drop(reader);
            let mut out = File::from(writer);
            let chunk = vec![b'x'; size];
            // Until the parent closes its end: then EPIPE (Rust ignores
            // SIGPIPE) or, for a socket, ECONNRESET.
            while out.write(&chunk).is_ok() {}
            exit_child(0);
        }
        Forked::Parent { child } => child,
    };
    // The child holds the only writer: if it dies, our read sees EOF.
    drop(writer);
    let run = read_for(File::from(reader), size, duration);
    // Our read end is closed now: the child's next write fails and it exits.
    reap(child)?;
    run
}

fn read_for(
    mut reader: File,
    size: usize,
    duration: Duration,
) -> nix::Result<Run> {
    let mut buffer = vec![0u8; size];
    if reader.read(&mut buffer).map_err(io_errno)? == 0 {
        return Err(Errno::EPIPE);
    }
    let start = Instant::now();
    let mut bytes = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(io_errno)?;
        if n == 0 {
            return Err(Errno::EPIPE);
        }
        bytes += n as u64;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            return Ok(Run { bytes, seconds: elapsed.as_secs_f64() });
        }
    }
}

fn reap(child: Pid) -> nix::Result<()> {
    match wait_for_child(child, Duration::from_secs(10))? {
        Some(_) => Ok(()),
        None => Err(Errno::ETIMEDOUT),
    }
}

fn io_errno(error: std::io::Error) -> Errno {
    Errno::from_raw(error.raw_os_error().unwrap_or(Errno::EIO as i32))
}

/// The median of `rates`: the middle value once sorted, or, for an even
/// count, the mean of the two middle values. `rates` is never empty.
///
/// The median, not the mean: one run disturbed by another program moves a
/// mean as far as it likes, and a median hardly at all.
pub fn median(rates: &[f64]) -> f64 {
    // TODO: sort a copy (f64::total_cmp compares floats), take the middle.
    let _ = rates;
    todo!("the median of the rates")
}

/// Measures `mechanism` at write size `size`, honestly:
///
/// 1. a warm-up: one run of [`warmup_duration`]`(duration)`, whose figure
///    goes into `warmup` and nowhere else (it wakes caches, page tables,
///    the CPU's clock; it is not part of the result);
/// 2. [`REPETITIONS`] counted runs of `duration` each, every one listed in
///    `runs`;
/// 3. `median`, `min` and `max`: of the counted runs' rates
///    ([`Run::rate`]), never including the warm-up.
pub fn measure(
    mechanism: Mechanism,
    size: usize,
    duration: Duration,
) -> nix::Result<Measurement> {
    // TODO: one_run(...) for the warm-up, then REPETITIONS runs, then the
    // median and the spread.
    let _ = (mechanism, size, duration);
    todo!("warm-up, repetitions, median")
}
