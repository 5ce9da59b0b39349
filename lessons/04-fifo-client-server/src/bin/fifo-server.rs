//! Lesson 04 — `fifo-server`: read messages from a FIFO that any of your
//! processes can write to.
//!
//! What it teaches: `mkfifo` gives a pipe a name, so two processes that share
//! no ancestry can use it. The server's `open(O_RDONLY)` waits until a writer
//! opens the FIFO; then it reads messages, cut out of the byte stream by the
//! agreed framing, until a client says `end`. When every writer has closed
//! the FIFO, `read` returns 0 (end of file); the server then opens the FIFO
//! again for the next client. It makes the FIFO safely (a private directory,
//! mode 0600) and removes it when it ends, on Ctrl-C and on SIGTERM.
//!
//! Usage:
//!   cargo lab run 4 server                     then run the command it prints
//!   cargo lab run 4 server -- --framing fixed  4-byte frames, `end\0`
//!   cargo lab run 4 server -- --framing read   one read() of at most 4
//!                                              bytes is one message: the
//!                                              classic Python `ping` client
//!   cargo lab run 4 server -- --clients 3      stop after 3 clients said `end`
//!   cargo lab run 4 server -- --path ./myfifo  a FIFO where you choose (it
//!                                              must not exist, or be yours)
//!
//! What to look for: the server sits in `open` until the client starts; every
//! `ping` arrives whole; `end` stops it, and the FIFO and its directory are
//! gone afterwards. `echo hi > FIFO` from a shell is a client too.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Kernel, Note, Server};
use labkit::cli::seconds;
use labkit::fifo::{
    Access, Fifo, FifoError, SharingArgs, open, open_within, shared_with,
};
use labkit::watchdog::wait_readable;
use labkit::{say, trace};
use lesson04_fifo_client_server::{
    Decoder, Framing, FramingArgs, NONBLOCKING, shown,
};
use nix::errno::Errno;
use nix::unistd::read;

/// Makes a FIFO and reads framed messages from it until a client says `end`.
#[derive(Parser)]
#[command(name = "fifo-server", version)]
struct Args {
    /// Where to make the FIFO [default: `fifo` in a new private directory].
    /// An existing path is used only if it is a FIFO of yours.
    #[arg(long, value_name = "PATH")]
    path: Option<PathBuf>,

    #[command(flatten)]
    framing: FramingArgs,

    /// How many clients must say `end` before the server stops.
    #[arg(long, default_value_t = 1)]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=1000))]
    clients: u32,

    /// Seconds to wait, in one open or one read, for a client to do something.
    #[arg(long, default_value = "600", value_parser = seconds)]
    wait: f64,

    /// Print only the summary, not a line per message.
    #[arg(long)]
    summary_only: bool,

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
    // ANCHOR: make
    let fifo = match &args.path {
        Some(path) => Fifo::create_at(path)?,
        None => Fifo::create_private("fifo")?,
    };
    if let Some(dir) = fifo.private_dir() {
        let dir = dir.display();
        say!(Server, "made the directory {dir}: mode 0700, only you may enter");
    }
    let path = fifo.path();
    if fifo.made_here() {
        // Asked for 0600; the umask could only have taken bits away.
        let mode =
            std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
        say!(
            Server,
            "made the FIFO {} with mkfifo, mode {mode:04o}",
            path.display()
        );
    } else {
        say!(
            Server,
            "using your FIFO {}, already there: it stays when I end",
            path.display()
        );
        let mode = std::fs::symlink_metadata(path)?.permissions().mode();
        if let Some(who) = shared_with(mode) {
            say!(Note, "--allow-shared: mode {:04o}: {who}", mode & 0o777);
            say!(Note, "anyone of them can inject messages or read them");
        }
    }
    // ANCHOR_END: make
    say!(Server, "from another terminal, run:");
    say!(
        Server,
        "  cargo lab run 4 client -- --path {}{}",
        shell_word(path),
        args.framing.as_flags()
    );
    if args.framing.framing == Framing::Line {
        let fifo = shell_word(path);
        say!(Server, "or, from a shell: echo hi > {fifo}");
        say!(Server, "then, to finish:  echo end > {fifo}");
    }
    if args.framing.framing == Framing::Read {
        let size = args.framing.size;
        say!(
            Note,
            "--framing read: each read() of at most {size} bytes is taken as\n\
             one message. Nothing in the stream says where a message ends:\n\
             this holds only while every write is one message of at most\n\
             {size} bytes, and each is read before the next one comes."
        );
    }

    // The summary is printed however serving ended: what did arrive is
    // worth knowing most when something went wrong.
    let mut tally = Tally::default();
    let served = serve(&args, path, &mut tally);

    say!(Server, "received {} messages in all:", tally.total());
    for (message, count) in &tally.distinct {
        say!(Server, "{count:>6} × {}", preview(message));
    }
    let removed = match (fifo.made_here(), fifo.private_dir()) {
        (true, Some(dir)) => Some(format!(
            "{} and the directory {}",
            path.display(),
            dir.display()
        )),
        (true, None) => Some(path.display().to_string()),
        (false, _) => None,
    };
    // Dropping the Fifo removes the FIFO we made, then its private directory.
    drop(fifo);
    if let Some(removed) = removed {
        say!(Server, "removed {removed}");
    }
    served.map(|()| ExitCode::SUCCESS)
}

/// A path as it must be typed in a shell: quoted if it holds anything
/// but letters, digits and `/._-+,:@%`.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Each distinct message and how often it came, in the order first seen.
#[derive(Default)]
struct Tally {
    distinct: Vec<(Vec<u8>, usize)>,
}

impl Tally {
    fn add(&mut self, message: &[u8]) {
        match self.distinct.iter_mut().find(|(seen, _)| seen == message) {
            Some((_, count)) => *count += 1,
            None => self.distinct.push((message.to_vec(), 1)),
        }
    }

    fn total(&self) -> usize {
        self.distinct.iter().map(|(_, count)| count).sum()
    }
}

/// A message shortened for a summary line, with its length.
fn preview(message: &[u8]) -> String {
    let text = String::from_utf8_lossy(message);
    let short: String = text.chars().take(24).collect();
    let more = if short.len() < text.len() { "…" } else { "" };
    format!("{:?} ({} bytes)", format!("{short}{more}"), message.len())
}

// ANCHOR: serve
/// Serves clients until `--clients` of them have said `end`.
fn serve(
    args: &Args,
    path: &Path,
    tally: &mut Tally,
) -> Result<(), Box<dyn std::error::Error>> {
    let wait = Duration::from_secs_f64(args.wait);
    let mut ends = 0;
    say!(Server, "open(O_RDONLY): this waits until a writer opens the FIFO");
    let mut reader = open_for_reading(path, wait)?;
    loop {
        let mut decoder = args.framing.decoder();
        let mut buffer = [0u8; 4096];
        loop {
            // A read waits while the FIFO is empty and a writer is open:
            // bound that wait, as every wait in this course is bounded.
            if !wait_readable(reader.as_fd(), wait)? {
                return Err(format!(
                    "nothing for {} s (no client, or a silent one): stopping",
                    args.wait
                )
                .into());
            }
            let size = args.framing.read_size(buffer.len());
            let got = read(&reader, &mut buffer[..size]);
            trace!(Server, &got, "read(fd, buf, {size})");
            let n = match got {
                Ok(0) => break,
                Ok(n) => n,
                // Only a reopened (O_NONBLOCK) descriptor says this: poll
                // saw bytes, but another reader of the FIFO took them first.
                Err(Errno::EAGAIN) => continue,
                Err(errno) => return Err(errno.into()),
            };
            for message in decoder.push(&buffer[..n]) {
                tally.add(&message);
                if message == b"end" {
                    ends += 1;
                    say!(
                        Server,
                        "received \"end\": client {ends} of {} is done",
                        args.clients
                    );
                    if ends == args.clients {
                        return Ok(());
                    }
                } else if !args.summary_only {
                    say!(
                        Server,
                        "received {} (message {})",
                        shown(&message),
                        tally.total()
                    );
                }
            }
        }
        // End of file: the client (or every client) has gone.
        reader = reopen_after_end_of_file(path, reader, &decoder)?;
    }
}
// ANCHOR_END: serve

// ANCHOR: eof
/// After end of file: says what a client left unfinished, then opens the
/// FIFO again for the next client, and only then closes the old descriptor.
fn reopen_after_end_of_file(
    path: &Path,
    old: OwnedFd,
    decoder: &Decoder,
) -> Result<OwnedFd, FifoError> {
    if !decoder.partial().is_empty() {
        let expected = decoder
            .expected()
            .map_or(String::new(), |len| format!(" of {len}"));
        let partial = decoder.partial();
        let (got, partial) = (partial.len(), shown(partial));
        say!(
            Kernel,
            "end of file mid-message: got {got}{expected} bytes, {partial}"
        );
        say!(
            Server,
            "a client left mid-message: dropping those bytes, going on"
        );
    }
    say!(
        Kernel,
        "read() returned 0: end of file, every writer has closed the FIFO"
    );
    // Open again, and only then close the old descriptor: a reader
    // exists at every moment, so no client's open or write is refused.
    // O_NONBLOCK, because a blocking open would wait for a *new* writer,
    // while a client that came, wrote and left in between has left its
    // bytes in the FIFO, kept by our old descriptor until the new one
    // holds it. (Linux only: poll() on this descriptor then waits for
    // data or a writer's coming and going; lesson 07.)
    say!(
        Server,
        "waiting for the next client: open(O_RDONLY|O_NONBLOCK) again,\n\
         then close the old descriptor"
    );
    let next = open(path, Access::Read, NONBLOCKING)?;
    drop(old); // the new descriptor reads the same FIFO: the old one can go
    Ok(next)
}
// ANCHOR_END: eof

/// The blocking `open(O_RDONLY)`, bounded by `wait`, with how long it took.
fn open_for_reading(path: &Path, wait: Duration) -> Result<OwnedFd, FifoError> {
    let started = Instant::now();
    let reader = open_within(path, Access::Read, wait)?;
    let secs = started.elapsed().as_secs_f64();
    say!(
        Kernel,
        "a writer opened the FIFO: open(O_RDONLY) returned after {secs:.1} s"
    );
    Ok(reader)
}
