//! Lesson 07 — `poll-server`: one process serves several FIFOs at once,
//! waiting in `poll` instead of in any one `read`.
//!
//! What it teaches. A blocking `read` waits on one descriptor; a server
//! with several FIFOs cannot afford that, since the one it waits on may be
//! the silent one. `poll(2)` waits on all of them at once, with a timeout,
//! and says which are ready: POLLIN (bytes to read) or POLLHUP (the last
//! writer closed). Each FIFO is opened `O_RDONLY|O_NONBLOCK`, so no open
//! waits for a client and no read can block. A FIFO's POLLHUP stays on
//! until a new writer comes, so the server opens that FIFO again and
//! closes the old descriptor; a FIFO whose clients have all said `end` is
//! closed and left out of the next poll. The server stops when every FIFO
//! is done.
//!
//! Usage:
//!   cargo lab run 7 poll-server                  3 FIFOs, one client each
//!   cargo lab run 7 poll-server -- --fifos 2 --clients 2
//!   cargo lab run 7 poll-server -- --timeout-ms 250 --wait 30
//!
//! It prints the commands to run from another terminal (the shell, or
//! lesson 04's fifo-client). What to look for: messages from different
//! FIFOs interleaved as they come, a POLLHUP each time a client leaves,
//! and a timeout line whenever every FIFO is quiet.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use labkit::Speaker::{Kernel, Note, Server};
use labkit::fifo::{Access, Fifo, PrivateDir, open};
use labkit::{say, trace};
use lesson07_nonblocking_poll::{Lines, plural, poll_names};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{geteuid, read};

/// Serves clients on several FIFOs at once, with poll(2).
#[derive(Parser)]
#[command(name = "poll-server", version)]
struct Args {
    /// How many FIFOs to serve.
    #[arg(long, default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=32))]
    fifos: u32,

    /// How many clients of each FIFO must say `end` before it is done.
    #[arg(long, default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    clients: u32,

    /// Where to make the FIFOs (fifo-1, fifo-2, ...): a directory of yours
    /// that nobody else may write to [default: a new private directory].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,

    /// poll()'s timeout: how long one poll waits before saying "quiet".
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u16).range(10..))]
    timeout_ms: u16,

    /// Stop, with an error, when no FIFO has said anything for this long.
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    wait: u64,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        run(&args).map(|()| ExitCode::SUCCESS)
    })
}

/// One FIFO the server serves.
struct Source {
    name: String,
    fifo: Fifo,
    /// None once every client of this FIFO has said `end` and gone.
    reader: Option<OwnedFd>,
    lines: Lines,
    ends: u32,
    messages: usize,
}

fn run(args: &Args) -> Result<()> {
    // Declared before the FIFOs, so dropped after them: FIFOs, then the dir.
    let private;
    let dir = match &args.dir {
        Some(dir) => checked_dir(dir)?,
        None => {
            private = PrivateDir::new()?;
            private.path().to_path_buf()
        }
    };
    // ANCHOR: open
    let mut sources = Vec::new();
    for number in 1..=args.fifos {
        let name = format!("fifo-{number}");
        let fifo = Fifo::create_at(&dir.join(&name))?;
        // O_NONBLOCK: returns at once, client or not; poll() does the waiting.
        let reader = open(fifo.path(), Access::Read, true)?;
        sources.push(Source {
            name,
            fifo,
            reader: Some(reader),
            lines: Lines::default(),
            ends: 0,
            messages: 0,
        });
    }
    // ANCHOR_END: open
    tell_clients(args, &sources);
    serve(args, &mut sources)?;
    let total: usize = sources.iter().map(|source| source.messages).sum();
    for source in &sources {
        let messages = plural(source.messages as u64, "message");
        say!(Server, "{}: {messages}", source.name);
    }
    let fifos = plural(args.fifos, "FIFO");
    let (total, ends) = (plural(total as u64, "message"), {
        plural(args.fifos * args.clients, "end")
    });
    say!(Server, "served {fifos}: {total}, {ends}");
    Ok(())
}

/// A directory given with --dir must be ours and closed to others: anyone
/// who may write in it could put something else at a FIFO's name.
fn checked_dir(dir: &Path) -> Result<PathBuf> {
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|error| format!("--dir {}: {error}", dir.display()))?;
    let open_to_others = meta.permissions().mode() & 0o022 != 0;
    if !meta.is_dir() || meta.uid() != geteuid().as_raw() || open_to_others {
        return Err(format!(
            "refusing --dir {}: it must be a directory of yours that only \
             you may write to (like one made by mktemp -d)",
            dir.display()
        )
        .into());
    }
    Ok(dir.to_path_buf())
}

/// What to type in another terminal to be a client.
fn tell_clients(args: &Args, sources: &[Source]) {
    let first = sources[0].fifo.path().display();
    let fifos = plural(sources.len() as u64, "FIFO");
    say!(Server, "made {fifos}, each opened O_RDONLY|O_NONBLOCK:");
    for source in sources {
        say!(Server, "  {}", source.fifo.path().display());
    }
    let clients = plural(args.clients, "client");
    say!(Server, "each is done when {clients} said `end`; try, from");
    say!(Server, "another terminal (cargo lab run 4 fifo-client works too):");
    say!(Server, "  (echo hello; echo world; echo end) > {first}");
    say!(Server, "  cargo lab run 4 fifo-client -- --path {first} --count 3");
}

// ANCHOR: serve
/// Polls every FIFO not yet done, until all are done.
fn serve(args: &Args, sources: &mut [Source]) -> Result<()> {
    // Polls in a row that timed out: each one is timeout_ms of silence.
    let mut quiet_polls: u64 = 0;
    let timeout = PollTimeout::from(args.timeout_ms);
    let fifos = plural(sources.len() as u64, "FIFO");
    say!(Server, "polling {fifos}, timeout {} ms", args.timeout_ms);
    loop {
        let active: Vec<usize> = (0..sources.len())
            .filter(|&index| sources[index].reader.is_some())
            .collect();
        if active.is_empty() {
            say!(Server, "every FIFO is done: stopping");
            return Ok(());
        }
        let mut fds: Vec<PollFd> = active
            .iter()
            .filter_map(|&index| sources[index].reader.as_ref())
            .map(|reader| PollFd::new(reader.as_fd(), PollFlags::POLLIN))
            .collect();
        let ready = poll(&mut fds, timeout); // sleeps until one is ready
        let count = fds.len();
        trace!(Server, &ready, "poll([{count} fds], {count}, {timeout:?})");
        let ready = match ready {
            Ok(ready) => ready,
            Err(Errno::EINTR) => continue, // a signal came: poll again
            Err(errno) => return Err(format!("poll: {errno}").into()),
        };
        if ready == 0 {
            quiet_polls += 1;
            say!(Kernel, "poll() = 0: timed out, every FIFO is quiet");
            if quiet_polls * u64::from(args.timeout_ms) >= args.wait * 1000 {
                let wait = args.wait;
                return Err(
                    format!("no client said anything for {wait} s").into()
                );
            }
            continue;
        }
        let events: Vec<PollFlags> = fds
            .iter()
            .map(|fd| fd.revents().unwrap_or(PollFlags::POLLERR))
            .collect();
        drop(fds); // the borrows of the readers end here
        for (&index, events) in active.iter().zip(events) {
            if !events.is_empty() {
                quiet_polls = 0;
                serve_one(args, &mut sources[index], events)?;
            }
        }
    }
}
// ANCHOR_END: serve

// ANCHOR: serve-one
/// One ready FIFO: read what is there, or handle its hang-up.
fn serve_one(
    args: &Args,
    source: &mut Source,
    events: PollFlags,
) -> Result<()> {
    let Some(reader) = &source.reader else {
        return Ok(());
    };
    let mut buffer = [0u8; 4096];
    let got = read(reader, &mut buffer);
    trace!(Server, &got, "read({}, buf, {})", source.name, buffer.len());
    let n = match got {
        Ok(n) => n,
        // poll said ready, but the bytes are gone (another reader took
        // them): nothing to do until the next poll.
        Err(Errno::EAGAIN) => return Ok(()),
        Err(errno) => {
            return Err(format!("read {}: {errno}", source.name).into());
        }
    };
    if n > 0 {
        for message in source.lines.push(&buffer[..n]) {
            if message == "end" {
                source.ends += 1;
                let (ends, all) = (source.ends, args.clients);
                say!(
                    Server,
                    "{}: \"end\" (client {ends} of {all})",
                    &source.name
                );
            } else {
                source.messages += 1;
                say!(Server, "{}: {message:?}", source.name);
            }
        }
        return Ok(());
    }
    // read() = 0: the FIFO is empty and its last writer has closed.
    say!(
        Kernel,
        "{}: poll() said {}, read() = 0:",
        source.name,
        poll_names(events)
    );
    say!(Kernel, "  the FIFO is empty and its last writer has closed");
    if !source.lines.partial().is_empty() {
        let left = String::from_utf8_lossy(source.lines.partial()).into_owned();
        say!(Server, "{}: a client left mid-message: {left:?}", source.name);
        source.lines = Lines::default(); // drop the partial message
    }
    if source.ends >= args.clients {
        source.reader = None; // every client said `end`: close, poll no more
        say!(Server, "{}: done, closed and left out of the poll", source.name);
    } else {
        // The hang-up stays on this descriptor until a new writer comes: a
        // fresh one waits. Open it first, then close the old one, so that a
        // reader exists at every moment and no client's open is refused.
        let fresh = open(source.fifo.path(), Access::Read, true)?;
        source.reader = Some(fresh); // drops the old, hung-up descriptor
        say!(
            Note,
            "{}: opened again: the old descriptor would report",
            &source.name
        );
        say!(Note, "  POLLHUP at once, on every poll, until a writer came");
    }
    Ok(())
}
// ANCHOR_END: serve-one
