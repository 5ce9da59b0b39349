//! Lesson 05 — `fifo-rdwr`: one FIFO for both directions reads back its own
//! messages; two FIFOs, one per direction, always work.
//!
//! What it teaches. Act 1, the pitfall: this program and its peer
//! (`rdwr-peer`) both open one FIFO with O_RDWR, which never waits on Linux
//! and so looks like the easy way to talk both ways. It writes a request,
//! then reads for the reply, and reads its own request back: a FIFO has one
//! buffer, not one per direction, and hands its bytes to whichever reader
//! asks first. The peer never sees the request. (The peer reads only when
//! told to, so the order is the same on every run; left to chance, it would
//! sometimes work, which is worse.) Act 2, the fix: a requests FIFO and a
//! replies FIFO, each opened for one direction only, in the same order on
//! both sides; every request gets its own reply, with the peer running
//! concurrently.
//!
//! Usage:
//!   cargo lab run 5                  the pitfall, then the fix with 5 requests
//!   cargo lab run 5 -- --requests 200
//!   cargo lab run 5 -- --trace
//!
//! What to look for: in act 1, `read` returns our own "request 1"; in act
//! 2, each reply is the request in capitals.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::process::{Child, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Client, Kernel, Note};
use labkit::fifo::{Access, Fifo, PrivateDir, open, open_within};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use lesson05_fifo_rdwr_pitfall::{Line, Lines, reply_to, send_line};
use nix::unistd::{Pid, read};

/// Shows the O_RDWR self-read on one FIFO, then request/reply on two.
#[derive(Parser)]
#[command(name = "fifo-rdwr", version)]
struct Args {
    /// How many requests to send in act 2.
    #[arg(long, default_value_t = 5)]
    #[arg(value_parser = clap::value_parser!(u32).range(0..=100_000))]
    requests: u32,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// How long any one step may wait for the peer.
const PATIENCE: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    labkit::cli::main(run)
}

fn run(args: Args) -> Result<ExitCode> {
    args.common.apply();
    let self_read = one_fifo_both_ways()?;
    let all_replied = two_fifos(args.requests)?;
    let all_well = self_read && all_replied;
    Ok(if all_well { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// A program built next to this one.
fn sibling(name: &str) -> Result<std::path::PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(name))
}

/// Relays the peer's next line of narration, waiting for it at most PATIENCE.
fn relay_peer(peer_out: &mut BufReader<ChildStdout>) -> Result<()> {
    if peer_out.buffer().is_empty()
        && !wait_readable(peer_out.get_ref().as_fd(), PATIENCE)?
    {
        return Err("the peer said nothing for 10 s".into());
    }
    let mut line = String::new();
    peer_out.read_line(&mut line)?;
    // Already tagged by the peer ("server | ..."): print it as it is.
    print!("{line}");
    Ok(())
}

/// Reaps the peer within PATIENCE and says how it ended.
fn reap(peer: &Child) -> Result<String> {
    let pid = Pid::from_raw(i32::try_from(peer.id())?);
    match wait_for_child(pid, PATIENCE)? {
        Some(ended) => Ok(status::explain(&ended)),
        None => {
            Err(format!("the peer (pid {pid}) was still running after 10 s")
                .into())
        }
    }
}

// ANCHOR: pitfall
/// Act 1. Returns true if we read our own request back, as the lesson says.
fn one_fifo_both_ways() -> Result<bool> {
    let fifo = Fifo::create_private("both-ways")?;
    say!(Client, "act 1: one FIFO for both directions, opened O_RDWR");
    let started = Instant::now();
    let both_ways = open(fifo.path(), Access::ReadWrite, false)?;
    let ms = started.elapsed().as_millis();
    say!(
        Kernel,
        "open(O_RDWR) returned after {ms} ms, with no other process on the FIFO"
    );
    say!(
        Kernel,
        "we are our own reader and writer, so it has nothing to wait for"
    );

    let mut peer = Command::new(sibling("rdwr-peer")?)
        .args(["--color", "never", "one-fifo", "--path"])
        .arg(fifo.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut peer_in = peer.stdin.take().ok_or("no stdin for the peer")?;
    let mut peer_out =
        BufReader::new(peer.stdout.take().ok_or("no stdout from the peer")?);
    relay_peer(&mut peer_out)?; // the peer has opened the FIFO O_RDWR too

    say!(Client, "I write my request, then read for the peer's reply");
    send_line(&both_ways, "request 1")?;
    let mut buffer = [0u8; 64];
    if !wait_readable(both_ways.as_fd(), PATIENCE)? {
        return Err("nothing to read after 10 s".into());
    }
    let got = read(&both_ways, &mut buffer);
    trace!(Client, &got, "read(fd, buf, 64)");
    let got = &buffer[..got?];
    let self_read = got == b"request 1\n";
    let whose = if self_read {
        "my own request came back to me"
    } else {
        "not what I wrote"
    };
    say!(Kernel, "read() = {:?}: {whose}", String::from_utf8_lossy(got));

    say!(Client, "now the peer reads");
    writeln!(peer_in, "read")?;
    relay_peer(&mut peer_out)?;
    drop(peer_in); // end of the peer's stdin: it exits
    let ended = reap(&peer)?;
    say!(Client, "the peer {ended}");
    say!(
        Note,
        "A FIFO is one buffer, not one per direction: whoever reads first\n\
         takes the bytes, the writer included. fifo(7): POSIX leaves O_RDWR\n\
         on a FIFO undefined; Linux allows it, and it never blocks. Nor does\n\
         either side ever see end of file: each holds a write end itself."
    );
    Ok(self_read)
}
// ANCHOR_END: pitfall

// ANCHOR: fix
/// Act 2. Returns true if every request got its own reply.
fn two_fifos(count: u32) -> Result<bool> {
    // Declared first, dropped last: the FIFOs go before their directory.
    let dir = PrivateDir::new()?;
    let requests = Fifo::create_at(&dir.path().join("requests"))?;
    let replies = Fifo::create_at(&dir.path().join("replies"))?;
    say!(Client, "act 2: two FIFOs, requests one way, replies the other,");
    say!(Client, "each opened for one direction");
    let mut peer = Command::new(sibling("rdwr-peer")?)
        .args(["--color", "never", "two-fifos", "--requests"])
        .arg(requests.path())
        .arg("--replies")
        .arg(replies.path())
        .stdout(Stdio::piped())
        .spawn()?;

    // Requests first, then replies: the order the peer uses.
    let request_writer = open_within(requests.path(), Access::Write, PATIENCE)?;
    let mut replies_in =
        Lines::new(open_within(replies.path(), Access::Read, PATIENCE)?);
    say!(
        Client,
        "opened requests to write, then replies to read: the peer's order"
    );

    let mut correct = 0;
    for number in 1..=count {
        let request = format!("request {number} of {count}");
        send_line(&request_writer, &request)?;
        let reply = match replies_in.next_within(PATIENCE)? {
            Line::Text(reply) => reply,
            Line::End => {
                return Err("the peer closed the replies FIFO early".into());
            }
            Line::Nothing => {
                return Err(format!("no reply to {request:?} in 10 s").into());
            }
        };
        if reply == reply_to(&request) {
            correct += 1;
        }
        if number <= 3 || number == count {
            say!(Client, "sent {request:?}, got back {reply:?}");
        } else if number == 4 {
            let more = count - 4;
            let (exchanges, these) = if more == 1 {
                ("exchange", "this")
            } else {
                ("exchanges", "these")
            };
            say!(Client, "({more} more {exchanges} like {these})");
        }
    }
    drop(request_writer); // the peer reads end of file and finishes
    let ended = reap(&peer)?;
    let mut peer_said = String::new();
    if let Some(mut out) = peer.stdout.take() {
        // The peer has ended: this read cannot wait.
        out.read_to_string(&mut peer_said)?;
    }
    say!(Client, "the peer's own account:");
    print!("{peer_said}");
    say!(Client, "the peer {ended}");
    say!(Client, "{count} requests, {correct} correct replies");
    say!(
        Note,
        "Two-way talk is what sockets are for: socketpair() or a Unix domain\n\
         socket gives each side one descriptor, with a buffer per direction."
    );
    Ok(correct == count && ended.contains("code 0"))
}
// ANCHOR_END: fix
