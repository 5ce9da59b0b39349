//! Lesson 04 — `fifo-client`: write framed messages into a server's FIFO.
//!
//! What it teaches: a writer's `open` of a FIFO waits until a reader has it
//! open. With `O_NONBLOCK` it does not wait: it fails at once with ENXIO
//! when there is no reader. The client tries that first, to show it, then
//! waits (with a limit). Each message goes out as one frame in one `write`:
//! up to `PIPE_BUF` bytes (4096 on Linux), the kernel never mixes it with
//! another writer's bytes. If the server goes away, the next `write` fails
//! with EPIPE (Rust ignores SIGPIPE, which would otherwise kill us: lesson 03).
//!
//! Usage:
//!   cargo lab run 4 client -- --path FIFO     `ping` 100 times, then `end`
//!   cargo lab run 4 client -- --path FIFO --count 5 --message hello \
//!       --interval-ms 300
//!   cargo lab run 4 client -- --path FIFO --framing fixed
//!                                             4-byte frames, `end\0`
//!   cargo lab run 4 client -- --path FIFO --framing read
//!                                             the classic Python bytes:
//!                                             `ping` 100 times, then `end`
//!
//! What to look for: started before the server, the client reports ENXIO and
//! waits in `open`; started after, its open succeeds at once. Stop the
//! server mid-stream and the client ends with one line about EPIPE.

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Client, Kernel, Note};
use labkit::cli::seconds;
use labkit::fifo::{
    Access, FifoError, SharingArgs, open, open_within, shared_with,
};
use labkit::{say, trace};
use lesson04_fifo_client_server::{Framing, FramingArgs, NONBLOCKING, shown};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::write;

/// Sends framed messages into a FIFO, then `end`.
#[derive(Parser)]
#[command(name = "fifo-client", version)]
struct Args {
    /// The server's FIFO (the server prints it).
    #[arg(long, value_name = "PATH")]
    path: PathBuf,

    /// How many messages to send before `end`.
    #[arg(long, default_value_t = 100)]
    #[arg(value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    count: u32,

    /// The message to send.
    #[arg(long, default_value = "ping")]
    message: String,

    /// Milliseconds to wait between two messages.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    interval_ms: u64,

    #[command(flatten)]
    framing: FramingArgs,

    /// Seconds to wait in open() for a server to open the FIFO for reading.
    #[arg(long, default_value = "60", value_parser = seconds)]
    wait: f64,

    /// Print only the first and the last message sent.
    #[arg(long)]
    quiet: bool,

    #[command(flatten)]
    sharing: SharingArgs,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

fn main() -> ExitCode {
    labkit::cli::main(run)
}

fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    args.common.apply();
    args.sharing.apply();
    let frame = args.framing.encode(args.message.as_bytes())?;
    let end = args.framing.encode(b"end")?;
    if frame.len() > libc::PIPE_BUF {
        say!(
            Note,
            "a frame of {} bytes is larger than PIPE_BUF ({}):\n\
             the kernel may split it, and mix it with another writer's bytes",
            frame.len(),
            libc::PIPE_BUF
        );
    }

    let size = usize::from(args.framing.size);
    if args.framing.framing == Framing::Read && frame.len() > size {
        say!(
            Note,
            "--framing read: {} bytes in one write, more than --size {size}:\n\
             a reader that takes {size} bytes a read cuts it in pieces, and\n\
             counts each piece as a message",
            frame.len()
        );
    }

    let wait = Duration::from_secs_f64(args.wait);
    let writer = open_for_writing(&args.path, wait)?;
    let mode = std::fs::symlink_metadata(&args.path)?.permissions().mode();
    if let Some(who) = shared_with(mode) {
        say!(Note, "--allow-shared: mode {:04o}: {who}", mode & 0o777);
        say!(Note, "anyone of them can inject messages or read them");
    }

    // ANCHOR: send
    let interval = Duration::from_millis(args.interval_ms);
    for number in 1..=args.count {
        std::thread::sleep(interval);
        if !args.quiet || number == 1 || number == args.count {
            say!(
                Client,
                "sending {} ({number} of {})",
                shown(args.message.as_bytes()),
                args.count
            );
        }
        send(&writer, &frame).map_err(|error| {
            format!(
                "{error}; {} of {} messages were sent",
                number - 1,
                args.count
            )
        })?;
    }
    std::thread::sleep(interval);
    say!(Client, "sending \"end\"");
    send(&writer, &end)?;
    // ANCHOR_END: send
    // If ours was the last write end, the server's read now returns 0.
    drop(writer);
    say!(Client, "done: closed my write end");
    Ok(ExitCode::SUCCESS)
}

// ANCHOR: open
/// Opens the FIFO for writing: first without waiting, to show what happens
/// when no server is there, then with a bounded wait.
fn open_for_writing(path: &Path, wait: Duration) -> Result<OwnedFd, FifoError> {
    match open(path, Access::Write, NONBLOCKING) {
        Ok(writer) => {
            say!(
                Kernel,
                "open(O_WRONLY|O_NONBLOCK) succeeded: the FIFO has a reader"
            );
            // Writes must wait when the FIFO is full, not fail with EAGAIN:
            // take O_NONBLOCK off again, and only it (lesson 02's rule:
            // read the flags, change one, write them back).
            let fcntl_error = |errno| FifoError::Call {
                call: "fcntl",
                path: path.to_path_buf(),
                errno,
            };
            let got = fcntl(&writer, FcntlArg::F_GETFL);
            trace!(Client, &got, "fcntl(fd, F_GETFL)");
            let mut flags = OFlag::from_bits_retain(got.map_err(fcntl_error)?);
            flags.remove(OFlag::O_NONBLOCK);
            let cleared = fcntl(&writer, FcntlArg::F_SETFL(flags));
            trace!(Client, &cleared, "fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)");
            cleared.map_err(fcntl_error)?;
            return Ok(writer);
        }
        Err(error) if error.errno() != Some(Errno::ENXIO) => return Err(error),
        Err(_) => {}
    }
    say!(
        Kernel,
        "open(O_WRONLY|O_NONBLOCK) failed with ENXIO: the FIFO has no reader"
    );
    let limit = wait.as_secs_f64();
    say!(
        Client,
        "so a blocking open(O_WRONLY): it waits for a reader, at most {limit} s"
    );
    let started = Instant::now();
    let writer = open_within(path, Access::Write, wait)?;
    let secs = started.elapsed().as_secs_f64();
    say!(
        Kernel,
        "a reader opened the FIFO: open(O_WRONLY) returned after {secs:.1} s"
    );
    Ok(writer)
}
// ANCHOR_END: open

/// Writes one whole frame. Up to PIPE_BUF bytes this is one `write`, which
/// the kernel performs all at once; a larger frame may take several.
fn send(writer: &OwnedFd, frame: &[u8]) -> Result<(), String> {
    let mut rest = frame;
    while !rest.is_empty() {
        let written = write(writer, rest);
        trace!(Client, &written, "write(fd, frame, {})", rest.len());
        match written {
            Ok(n) => rest = &rest[n..],
            Err(Errno::EPIPE) => {
                say!(
                    Kernel,
                    "write() = EPIPE: no process has the FIFO open for reading"
                );
                return Err("write: EPIPE: the server has gone".to_string());
            }
            Err(errno) => {
                return Err(format!("write: {} ({errno:?})", errno.desc()));
            }
        }
    }
    Ok(())
}
