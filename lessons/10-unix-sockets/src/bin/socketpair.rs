//! Lesson 10 — `socketpair`: the two-way twin of lesson 01's pipe.
//!
//! What it teaches: `socketpair(AF_UNIX, ...)` gives two connected
//! descriptors, and each one both reads and writes, with a buffer per
//! direction: what one end writes, only the other end reads. Act 1 forks
//! and has parent and child write at once, then read: each gets the
//! other's words, never its own, and `shutdown(SHUT_WR)` closes one
//! direction while the other stays open. Act 2 is lesson 05's request and
//! reply on one descriptor per side, with no self-read. Act 3 writes the
//! same three messages under SOCK_STREAM, SOCK_SEQPACKET and SOCK_DGRAM,
//! and reads them back: a stream loses the boundaries, the other two keep
//! them.
//!
//! Usage:
//!   cargo lab run 10 socketpair                   the three acts
//!   cargo lab run 10 socketpair -- --act types    act 3 only
//!   cargo lab run 10 socketpair -- --requests 100 act 2, a hundred times
//!   cargo lab run 10 socketpair -- --trace        each system call
//!
//! What to look for: in act 1 the parent reads end of file while the child
//! is still alive and still reading; in act 3, three writes come back as one
//! read from SOCK_STREAM and as three from the other two.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use labkit::Speaker::{Child, Kernel, Note, Parent};
use labkit::process::{Forked, exit_child, fork};
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, status, trace};
use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, MsgFlags, Shutdown, SockFlag, SockType, recv, shutdown,
    socketpair,
};
use nix::unistd::{Pid, read, write};

/// One socketpair, a fork, and both directions at once; then message
/// boundaries under each socket type.
#[derive(Parser)]
#[command(name = "socketpair", version)]
struct Args {
    /// Which act to run.
    #[arg(long, value_enum, default_value_t = Act::All)]
    act: Act,

    /// How many requests act 2 sends.
    #[arg(
        long,
        default_value_t = 3,
        value_parser = clap::value_parser!(u32).range(0..=10_000),
    )]
    requests: u32,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Act {
    All,
    BothWays,
    RequestReply,
    Types,
}

/// How long any one read waits, so that a mistake is a message, not a hang.
const PATIENCE: Duration = Duration::from_secs(10);

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| -> Result<ExitCode> {
        args.common.apply();
        let acts = [
            (Act::BothWays, both_ways as fn(&Args) -> Result<()>),
            (Act::RequestReply, request_reply),
            (Act::Types, types),
        ];
        for (act, run) in acts {
            if args.act == act || args.act == Act::All {
                run(&args)?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A connected pair of Unix domain sockets of type `kind`.
// ANCHOR: socketpair
fn pair(kind: SockType, name: &str) -> Result<(OwnedFd, OwnedFd)> {
    // SOCK_CLOEXEC: a program exec()ed later does not inherit either end.
    let made =
        socketpair(AddressFamily::Unix, kind, None, SockFlag::SOCK_CLOEXEC);
    let (one, other) = made.map_err(|errno| format!("socketpair: {errno}"))?;
    trace!(
        Parent,
        &Ok::<_, Errno>(0),
        "socketpair(AF_UNIX, {name}|SOCK_CLOEXEC, 0, [{}, {}])",
        one.as_raw_fd(),
        other.as_raw_fd()
    );
    Ok((one, other))
}
// ANCHOR_END: socketpair

const PARENT_SAYS: &str = "hello from the parent\n";
const CHILD_SAYS: &str = "hello from the child\n";
const LATER: &str = "are you still there?\n";

// ANCHOR: both-ways
/// Act 1: both write, then both read; then one direction is shut down.
fn both_ways(_args: &Args) -> Result<()> {
    let (parent_end, child_end) = pair(SockType::Stream, "SOCK_STREAM")?;
    say!(
        Parent,
        "act 1: socketpair() gave fds {} and {}: each end reads and writes",
        parent_end.as_raw_fd(),
        child_end.as_raw_fd()
    );
    let child = match fork()? {
        Forked::Child => {
            // The child talks through its own end only.
            drop(parent_end);
            child_both_ways(child_end)
        }
        Forked::Parent { child } => child,
    };
    // The child's end is the child's now: a copy of it here would keep the
    // other direction open, and our reads would never see end of file.
    drop(child_end);
    say!(Parent, "forked child {child}; each of us keeps one end");
    say!(
        Parent,
        "writing {PARENT_SAYS:?} and reading; the child does both too"
    );
    write_all(&parent_end, PARENT_SAYS.as_bytes(), Parent)?;
    let heard = read_to_end(&parent_end)?;
    say!(Parent, "read {heard:?}, then 0: end of file from the child,");
    say!(
        Parent,
        "which is alive and still reading: it only shut down its side"
    );
    say!(Parent, "writing {LATER:?}: my direction is still open");
    write_all(&parent_end, LATER.as_bytes(), Parent)?;
    // Our last word: the child's next read returns 0.
    drop(parent_end);
    reap(child)
}

/// The child of act 1: write, read, shut down its sending side, read more.
fn child_both_ways(end: OwnedFd) -> ! {
    let outcome = (|| -> Result<()> {
        write_all(&end, CHILD_SAYS.as_bytes(), Child)?;
        let mut pending = Vec::new();
        let heard = read_line(&end, &mut pending, Child)?.unwrap_or_default();
        say!(Child, "read {heard:?}: the parent's words, not my own");
        say!(Child, "shutdown(SHUT_WR): I will send no more, and I still read");
        let done = shutdown(end.as_raw_fd(), Shutdown::Write);
        trace!(
            Child,
            &done.map(|()| 0),
            "shutdown({}, SHUT_WR)",
            end.as_raw_fd()
        );
        done?;
        let later = read_line(&end, &mut pending, Child)?.unwrap_or_default();
        say!(
            Child,
            "read {later:?} after my shutdown: the way back stayed open"
        );
        Ok(())
    })();
    if let Err(error) = outcome {
        say!(Child, "{error}; exiting with code 1");
        exit_child(1);
    }
    // _exit, not return: returning would run the parent's code here.
    exit_child(0)
}
// ANCHOR_END: both-ways

// ANCHOR: request-reply
/// Act 2: lesson 05's request and reply, on one descriptor per side.
fn request_reply(args: &Args) -> Result<()> {
    let (parent_end, child_end) = pair(SockType::Stream, "SOCK_STREAM")?;
    say!(Parent, "act 2: request and reply, one socket descriptor per side");
    let child = match fork()? {
        Forked::Child => {
            drop(parent_end); // the child answers through its own end only
            child_answers(child_end)
        }
        Forked::Parent { child } => child,
    };
    drop(child_end); // the child's now: see act 1
    let mut pending = Vec::new();
    for number in 1..=args.requests {
        let request = format!("request {number} of {}", args.requests);
        write_all(&parent_end, format!("{request}\n").as_bytes(), Parent)?;
        let reply = read_line(&parent_end, &mut pending, Parent)?
            .ok_or("the child closed its end before replying")?;
        say!(Parent, "sent {request:?}, got back {reply:?}");
    }
    say!(Parent, "never my own request: the socket has a buffer per direction");
    // End of file for the child: it stops answering and exits.
    drop(parent_end);
    reap(child)
}

/// The child of act 2: answers each line in capitals until end of file.
fn child_answers(end: OwnedFd) -> ! {
    let mut pending = Vec::new();
    let mut answered = 0;
    loop {
        match read_line(&end, &mut pending, Child) {
            Ok(Some(request)) => {
                let reply = format!("{}\n", request.to_uppercase());
                if let Err(error) = write_all(&end, reply.as_bytes(), Child) {
                    say!(Child, "{error}; exiting with code 1");
                    exit_child(1);
                }
                answered += 1;
            }
            Ok(None) => break,
            Err(error) => {
                say!(Child, "{error}; exiting with code 1");
                exit_child(1);
            }
        }
    }
    say!(Child, "read end of file after answering {answered} requests");
    exit_child(0)
}
// ANCHOR_END: request-reply

// ANCHOR: types
/// Act 3: the same writes, read back under each socket type.
fn types(_args: &Args) -> Result<()> {
    say!(
        Parent,
        "act 3: write \"one\", \"two\", \"three\" (three writes), then read"
    );
    let kinds = [
        (SockType::Stream, "SOCK_STREAM"),
        (SockType::SeqPacket, "SOCK_SEQPACKET"),
        (SockType::Datagram, "SOCK_DGRAM"),
    ];
    for (kind, name) in kinds {
        let (writer, reader) = pair(kind, name)?;
        for message in ["one", "two", "three"] {
            write_all(&writer, message.as_bytes(), Parent)?;
        }
        let reads = drain(&reader, 64)?;
        say!(
            Kernel,
            "{name:<14} {}: {}",
            reads_in_words(&reads),
            reads.join(" ")
        );
    }
    say!(Note, "a stream is bytes, as a pipe is: the boundaries are gone");
    say!(Note, "(lesson 04 had to frame its messages). SEQPACKET and DGRAM");
    say!(Note, "keep each write() as one message, returned by one read().");

    say!(Parent, "now write \"hello\" once and read it with a 2-byte buffer");
    for (kind, name) in kinds {
        let (writer, reader) = pair(kind, name)?;
        write_all(&writer, b"hello", Parent)?;
        let reads = drain(&reader, 2)?;
        say!(
            Kernel,
            "{name:<14} {}: {}",
            reads_in_words(&reads),
            reads.join(" ")
        );
    }
    say!(Note, "a message longer than the buffer: a stream keeps the rest for");
    say!(Note, "the next read; SEQPACKET and DGRAM discard it (MSG_TRUNC).");
    Ok(())
}

/// "1 read", "3 reads".
fn reads_in_words(reads: &[String]) -> String {
    match reads.len() {
        1 => "1 read".to_string(),
        n => format!("{n} reads"),
    }
}

/// Reads whatever is queued, `size` bytes at most per read, without
/// waiting (MSG_DONTWAIT): each read shown as its bytes, quoted.
fn drain(reader: &OwnedFd, size: usize) -> Result<Vec<String>> {
    let mut buffer = vec![0u8; size];
    let mut reads = Vec::new();
    loop {
        let got = recv(reader.as_raw_fd(), &mut buffer, MsgFlags::MSG_DONTWAIT);
        trace!(
            Parent,
            &got,
            "recv({}, buf, {size}, MSG_DONTWAIT)",
            reader.as_raw_fd()
        );
        match got {
            Ok(0) => break,
            Ok(n) => reads
                .push(format!("{:?}", String::from_utf8_lossy(&buffer[..n]))),
            // Nothing more queued: everything written has been read.
            Err(Errno::EAGAIN) => break,
            Err(errno) => return Err(format!("recv: {errno}").into()),
        }
    }
    Ok(reads)
}
// ANCHOR_END: types

/// Writes all of `bytes`, one write() at a time as the kernel takes them.
fn write_all(
    fd: &OwnedFd,
    mut bytes: &[u8],
    who: labkit::Speaker,
) -> Result<()> {
    while !bytes.is_empty() {
        let written = write(fd, bytes);
        trace!(
            who,
            &written,
            "write({}, {:?}, {})",
            fd.as_raw_fd(),
            String::from_utf8_lossy(bytes),
            bytes.len()
        );
        bytes = &bytes[written.map_err(|errno| format!("write: {errno}"))?..];
    }
    Ok(())
}

/// Reads one line (without its newline), keeping what follows it in
/// `pending`. None at end of file. Bounded: a silent peer is an error.
fn read_line(
    fd: &OwnedFd,
    pending: &mut Vec<u8>,
    who: labkit::Speaker,
) -> Result<Option<String>> {
    loop {
        if let Some(at) = pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=at).collect();
            let text = String::from_utf8_lossy(&line[..at]).into_owned();
            return Ok(Some(text));
        }
        match read_some(fd, who)? {
            None => return Ok(None),
            Some(bytes) => pending.extend_from_slice(&bytes),
        }
    }
}

/// Everything until end of file, as text.
fn read_to_end(fd: &OwnedFd) -> Result<String> {
    let mut all = Vec::new();
    while let Some(bytes) = read_some(fd, Parent)? {
        all.extend_from_slice(&bytes);
    }
    Ok(String::from_utf8_lossy(&all).into_owned())
}

/// One read, within PATIENCE: Some(bytes), or None at end of file.
fn read_some(fd: &OwnedFd, who: labkit::Speaker) -> Result<Option<Vec<u8>>> {
    if !wait_readable(fd.as_fd(), PATIENCE)? {
        return Err(format!(
            "no data and no end of file on fd {} for {} s",
            fd.as_raw_fd(),
            PATIENCE.as_secs()
        )
        .into());
    }
    let mut buffer = [0u8; 4096];
    let got = read(fd, &mut buffer);
    trace!(who, &got, "read({}, buf, {})", fd.as_raw_fd(), buffer.len());
    match got.map_err(|errno| format!("read: {errno}"))? {
        0 => Ok(None),
        n => Ok(Some(buffer[..n].to_vec())),
    }
}

/// Reaps the child and says how it ended.
fn reap(child: Pid) -> Result<()> {
    match wait_for_child(child, PATIENCE)? {
        Some(ended) => {
            say!(Parent, "reaped child {child}: {}", status::explain(&ended));
            Ok(())
        }
        None => Err(format!("child {child} still running after 10 s").into()),
    }
}
