//! One writer: the same program, started by the reader with `--writer-id K`.
//!
//! Its standard input is the start pipe (it begins when that reads end of
//! file), its standard error the report pipe it shares with the other
//! writers, and its data goes to the FIFO (opened by path, as any client of
//! a FIFO would) or, with `--via pipe`, to its standard output.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use labkit::fifo::{Access, open_within};
use labkit::watchdog::wait_readable;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{getpid, read, write};

use crate::record::encode;

/// How long a writer waits for the start, or for room in a full pipe,
/// before it decides the reader is gone and gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// What one writer was told to do.
pub struct Job<'a> {
    pub id: u32,
    pub records: u32,
    pub size: usize,
    pub nonblocking: bool,
    /// The FIFO to open; None: write to standard output (a pipe).
    pub fifo: Option<&'a Path>,
}

/// How a writer's write() calls went.
#[derive(Default)]
struct Counts {
    writes: u64,
    partial: u64,
    eagain: u64,
    /// The first partial write: (bytes taken, bytes offered).
    first_partial: Option<(usize, usize)>,
}

/// The writer's whole life. Returns the exit status.
pub fn run(job: &Job) -> i32 {
    match write_all_records(job) {
        Ok(()) => 0,
        Err(error) => {
            report(&format!("error {}: {error}\n", job.id));
            1
        }
    }
}

/// A line on the report pipe (our stderr), in ONE write(): shorter than
/// PIPE_BUF, so the other writers' lines never land inside it.
fn report(line: &str) {
    let _ = write(std::io::stderr().as_fd(), line.as_bytes());
}

fn write_all_records(job: &Job) -> Result<(), String> {
    // ANCHOR: writer-open
    let fifo_fd: Option<OwnedFd> = match job.fifo {
        // open(O_WRONLY) waits until the reader has the FIFO open.
        Some(path) => Some(
            open_within(path, Access::Write, PATIENCE)
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    let stdout = std::io::stdout();
    let out = match &fifo_fd {
        Some(fd) => fd.as_fd(),
        None => stdout.as_fd(),
    };
    if job.nonblocking {
        let flags = fcntl(out, FcntlArg::F_GETFL)
            .map_err(|e| format!("fcntl(F_GETFL): {e}"))?;
        let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
        fcntl(out, FcntlArg::F_SETFL(flags))
            .map_err(|e| format!("fcntl(F_SETFL, O_NONBLOCK): {e}"))?;
    }
    report(&format!("ready {} {}\n", job.id, getpid()));
    // ANCHOR_END: writer-open

    // ANCHOR: writer-start
    // The start pipe: read() returns 0 when the reader closes its end,
    // which it does once every writer is ready. All start at that moment.
    let stdin = std::io::stdin();
    if !wait_readable(stdin.as_fd(), PATIENCE).unwrap_or(false) {
        return Err(
            "no start signal: the reader never closed the start pipe".into()
        );
    }
    let mut byte = [0u8; 1];
    read(stdin.as_fd(), &mut byte).map_err(|e| format!("read(0): {e}"))?;
    // ANCHOR_END: writer-start

    let mut counts = Counts::default();
    for seq in 0..job.records {
        let record = encode(job.id, seq, job.size);
        write_record(out, &record, &mut counts)?;
    }
    let first = counts
        .first_partial
        .map_or(String::new(), |(took, of)| format!(" first={took}/{of}"));
    report(&format!(
        "done {} writes={} partial={} eagain={}{first}\n",
        job.id, counts.writes, counts.partial, counts.eagain
    ));
    Ok(())
}

// ANCHOR: write-record
/// Writes one record, with one write() when the kernel takes it all.
/// A write that takes less (a partial write: only a non-blocking write
/// larger than PIPE_BUF does that) is counted, and the rest written next.
fn write_record(
    out: BorrowedFd<'_>,
    record: &[u8],
    counts: &mut Counts,
) -> Result<(), String> {
    let mut done = 0;
    while done < record.len() {
        let offered = record.len() - done;
        match write(out, &record[done..]) {
            Ok(took) => {
                counts.writes += 1;
                if took < offered {
                    counts.partial += 1;
                    counts.first_partial.get_or_insert((took, offered));
                }
                done += took;
            }
            // Non-blocking, and the pipe has no room for this write: wait
            // until it has some (POLLOUT), then try again.
            Err(Errno::EAGAIN) => {
                counts.eagain += 1;
                wait_writable(out)?;
            }
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(format!("write: {errno}")),
        }
    }
    Ok(())
}

/// Waits until `out` can take a write (poll, POLLOUT), within PATIENCE.
fn wait_writable(out: BorrowedFd<'_>) -> Result<(), String> {
    let millis = u16::try_from(PATIENCE.as_millis()).unwrap_or(u16::MAX);
    let mut fds = [PollFd::new(out, PollFlags::POLLOUT)];
    match poll(&mut fds, PollTimeout::from(millis)) {
        Ok(0) => Err("the pipe stayed full: the reader stopped reading".into()),
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(errno) => Err(format!("poll(POLLOUT): {errno}")),
    }
}
// ANCHOR_END: write-record
