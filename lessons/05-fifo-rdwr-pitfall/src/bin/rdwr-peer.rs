//! Lesson 05 — `rdwr-peer`: the other process `fifo-rdwr` talks to.
//!
//! What it teaches: the two sides of the two designs. With `one-fifo`, it
//! opens the single FIFO O_RDWR, as the pitfall does, and reads only when
//! told to (a line `read` on its standard input), so that the order of
//! events is the same on every run. With `two-fifos`, it is a server done
//! right: requests come in on one FIFO, replies go out on the other, until
//! end of file on the requests.
//!
//! Usage (`fifo-rdwr` starts it; by hand, make the FIFOs with mkfifo -m 600):
//!   cargo lab run 5 peer -- one-fifo --path FIFO
//!   cargo lab run 5 peer -- two-fifos --requests REQ --replies REP
//!
//! What to look for: in `one-fifo`, a read finds nothing when the other
//! side has already read its own message back; in `two-fifos`, the opens
//! come in the same order as the client's: requests first, then replies.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use labkit::Speaker::{Kernel, Peer};
use labkit::cli::seconds;
use labkit::fifo::{Access, open, open_within};
use labkit::say;
use lesson05_fifo_rdwr_pitfall::{Line, Lines, reply_to, send_line};

/// The peer of fifo-rdwr: one FIFO opened O_RDWR, or two FIFOs done right.
#[derive(Parser)]
#[command(name = "rdwr-peer", version)]
struct Args {
    #[command(subcommand)]
    design: Design,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Subcommand)]
enum Design {
    /// Open one FIFO O_RDWR; read once for each line `read` on stdin.
    OneFifo {
        #[arg(long, value_name = "PATH")]
        path: PathBuf,

        /// How long one read waits for a message, in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 500)]
        patience_ms: u64,
    },
    /// Answer each request line from REQ with a reply line into REP.
    TwoFifos {
        #[arg(long, value_name = "REQ")]
        requests: PathBuf,

        #[arg(long, value_name = "REP")]
        replies: PathBuf,

        /// Seconds to wait in an open or for a request.
        #[arg(long, default_value = "30", value_parser = seconds)]
        wait: f64,
    },
}

fn main() -> ExitCode {
    labkit::cli::main(run)
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(args: Args) -> Result<ExitCode> {
    args.common.apply();
    match &args.design {
        Design::OneFifo { path, patience_ms } => {
            one_fifo(path, Duration::from_millis(*patience_ms))?;
        }
        Design::TwoFifos { requests, replies, wait } => {
            two_fifos(requests, replies, Duration::from_secs_f64(*wait))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

// ANCHOR: one-fifo
/// The pitfall's other side: one FIFO, opened for reading and writing.
fn one_fifo(path: &Path, patience: Duration) -> Result<()> {
    let both_ways = open(path, Access::ReadWrite, false)?;
    say!(Peer, "opened the FIFO O_RDWR: it returned at once");
    let mut lines = Lines::new(both_ways);
    for command in std::io::stdin().lock().lines() {
        if command? != "read" {
            continue;
        }
        match lines.next_within(patience)? {
            Line::Text(text) => say!(Peer, "read {text:?}"),
            // We hold a write end ourselves: no end of file, ever.
            Line::End | Line::Nothing => say!(
                Peer,
                "read nothing in {:.1} s: no request ever reached me",
                patience.as_secs_f64()
            ),
        }
    }
    Ok(())
}
// ANCHOR_END: one-fifo

// ANCHOR: two-fifos
/// The fix's other side: requests in on one FIFO, replies out on another.
fn two_fifos(requests: &Path, replies: &Path, wait: Duration) -> Result<()> {
    // The same order as the client: requests first. Were the orders
    // opposite, each side would wait in its first open for the other's
    // second one: a deadlock before a single byte is sent.
    let request_reader = open_within(requests, Access::Read, wait)?;
    let reply_writer = open_within(replies, Access::Write, wait)?;
    say!(
        Peer,
        "opened requests to read, then replies to write: the client's order"
    );
    let mut requests_in = Lines::new(request_reader);
    let mut answered = 0;
    loop {
        match requests_in.next_within(wait)? {
            Line::Text(request) => {
                send_line(&reply_writer, &reply_to(&request))?;
                answered += 1;
            }
            Line::End => break,
            Line::Nothing => {
                return Err(
                    format!("no request for {} s", wait.as_secs_f64()).into()
                );
            }
        }
    }
    say!(
        Kernel,
        "end of file on the requests FIFO: the client has closed its write end"
    );
    say!(Peer, "answered {answered} requests, each with its own reply");
    Ok(())
}
// ANCHOR_END: two-fifos
