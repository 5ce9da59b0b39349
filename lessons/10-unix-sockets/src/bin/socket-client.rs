//! Lesson 10 — `socket-client`: connect, say who you are, pass a
//! descriptor.
//!
//! What it teaches: `connect` to a Unix domain socket reaches the server
//! listening there, and fails in two telling ways: ENOENT (no socket at
//! that path) and ECONNREFUSED (a socket, but nobody listens: a server
//! died and left it). The client says its pid, uid and gid, which the
//! server checks against the kernel's `SO_PEERCRED`. With `--send-file`,
//! it opens a file and sends the descriptor itself (`SCM_RIGHTS`); after
//! the server has read through its copy, the client's own offset has moved
//! too: one open file, two descriptors.
//!
//! Usage:
//!   cargo lab run 10 client -- --path SOCKET
//!   cargo lab run 10 client -- --path SOCKET --send-file notes.txt
//!   cargo lab run 10 client -- --path SOCKET --send-file f --unlink
//!   cargo lab run 10 client -- --abstract demo
//!   cargo lab run 10 client -- --path SOCKET --claim-pid 1   lie, and see
//!
//! What to look for: "my offset is now N" after the server read N bytes;
//! with `--unlink`, the server reads a file whose name is already gone.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::Client;
use labkit::{say, trace};
use lesson10_unix_sockets::fdpass::send_with_fd;
use lesson10_unix_sockets::hello::Hello;
use lesson10_unix_sockets::place::{Place, connect_to};
use nix::fcntl::{OFlag, open};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{Whence, getegid, geteuid, getpid, lseek, read};

/// Connects to socket-server, says who it is, and may pass a descriptor.
#[derive(Parser)]
#[command(name = "socket-client", version)]
struct Args {
    /// The server's socket.
    #[arg(
        long,
        value_name = "PATH",
        required_unless_present = "abstract_name",
        conflicts_with = "abstract_name"
    )]
    path: Option<PathBuf>,

    /// The server's name in Linux's abstract namespace.
    #[arg(long = "abstract", value_name = "NAME")]
    abstract_name: Option<String>,

    /// Open FILE and send the descriptor itself to the server.
    #[arg(long, value_name = "FILE")]
    send_file: Option<PathBuf>,

    /// Remove FILE's name once it is open: nobody can open it by path then.
    #[arg(long, requires = "send_file")]
    unlink: bool,

    /// Say this pid instead of our own (the server will notice).
    #[arg(long, value_name = "PID")]
    claim_pid: Option<i32>,

    /// How long to wait for the server's reply.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600),
    )]
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

fn run(args: &Args) -> Result<()> {
    let place = match (&args.path, &args.abstract_name) {
        (Some(path), _) => Place::Path(path.clone()),
        (None, Some(name)) => Place::Abstract(name.clone()),
        (None, None) => return Err("give --path or --abstract".into()),
    };
    // ANCHOR: connect
    let stream = connect_to(&place)?;
    trace!(
        Client,
        &Ok::<_, nix::Error>(0),
        "connect({}, \"{place}\")",
        stream.as_raw_fd()
    );
    say!(Client, "pid {}: connected to {place}", getpid());
    // ANCHOR_END: connect
    let file = match &args.send_file {
        Some(path) => Some(open_to_send(args, path)?),
        None => None,
    };
    // ANCHOR: send
    let hello = Hello {
        pid: args.claim_pid.unwrap_or(getpid().as_raw()),
        uid: geteuid().as_raw(),
        gid: getegid().as_raw(),
        fd: file.as_ref().map(|(fd, ..)| fd.as_raw_fd()),
        dev: file.as_ref().map(|(_, dev, _)| *dev),
        ino: file.as_ref().map(|(_, _, ino)| *ino),
        path: args.send_file.as_ref().map(|p| p.display().to_string()),
    };
    let line = format!("{hello}\n");
    let passed = file.as_ref().map(|(fd, ..)| fd.as_fd());
    let sent = send_with_fd(stream.as_fd(), line.as_bytes(), passed);
    let rights = passed.map_or(String::new(), |fd| {
        format!(", SCM_RIGHTS [{}]", fd.as_raw_fd())
    });
    trace!(Client, &sent, "sendmsg({}, {line:?}{rights})", stream.as_raw_fd());
    sent.map_err(|errno| format!("sendmsg: {errno} ({})", errno.desc()))?;
    say!(
        Client,
        "said pid {}, uid {}, gid {}",
        hello.pid,
        hello.uid,
        hello.gid
    );
    if let Some((fd, ..)) = &file {
        say!(
            Client,
            "and sent fd {} with it (SCM_RIGHTS); I keep mine",
            fd.as_raw_fd()
        );
    }
    // ANCHOR_END: send
    let reply = read_reply(&stream, Duration::from_secs(args.wait))?;
    if let Some(refusal) = reply.strip_prefix("refused: ") {
        return Err(format!("the server refused me: {refusal}").into());
    }
    say!(Client, "the server replied {reply:?}");
    if let (Some(count), Some((fd, ..))) = (reply.strip_prefix("read "), &file)
    {
        shared_offset(fd, count)?;
    }
    Ok(())
}

/// Opens the file to pass, and learns its device and inode.
fn open_to_send(args: &Args, path: &PathBuf) -> Result<(OwnedFd, u64, u64)> {
    let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
        .map_err(|errno| {
            format!("open {}: {}", path.display(), errno.desc())
        })?;
    let stat = fstat(&fd).map_err(|errno| format!("fstat: {errno}"))?;
    say!(
        Client,
        "opened {} as fd {} (inode {})",
        path.display(),
        fd.as_raw_fd(),
        stat.st_ino
    );
    if args.unlink {
        std::fs::remove_file(path)
            .map_err(|error| format!("unlink {}: {error}", path.display()))?;
        say!(Client, "removed its name: no process can open it by path now");
    }
    Ok((fd, stat.st_dev, stat.st_ino))
}

// ANCHOR: offset
/// After the server read `count` bytes through its copy: where is ours?
fn shared_offset(fd: &OwnedFd, count: &str) -> Result<()> {
    let offset = lseek(fd, 0, Whence::SeekCur);
    trace!(Client, &offset, "lseek({}, 0, SEEK_CUR)", fd.as_raw_fd());
    let offset = offset.map_err(|errno| format!("lseek: {errno}"))?;
    say!(Client, "the server read {count} bytes; my offset is now {offset}:");
    say!(Client, "one open file, one offset, two descriptors");
    let mut rest = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match read(fd, &mut buffer).map_err(|errno| format!("read: {errno}"))? {
            0 => break,
            n => rest.extend_from_slice(&buffer[..n]),
        }
    }
    say!(
        Client,
        "I read the rest myself: {:?}",
        String::from_utf8_lossy(&rest)
    );
    Ok(())
}
// ANCHOR_END: offset

/// The server's one-line reply, within `wait`.
fn read_reply(mut stream: &UnixStream, wait: Duration) -> Result<String> {
    stream.set_read_timeout(Some(wait))?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 256];
    while !reply.contains(&b'\n') {
        let n =
            stream.read(&mut buffer).map_err(|error| match error.kind() {
                std::io::ErrorKind::WouldBlock
                | std::io::ErrorKind::TimedOut => {
                    format!(
                        "no reply from the server within {} s",
                        wait.as_secs()
                    )
                }
                _ => format!("reading the reply: {error}"),
            })?;
        if n == 0 {
            return Err(
                "the server closed the connection without a reply".into()
            );
        }
        reply.extend_from_slice(&buffer[..n]);
    }
    let _ = stream.flush();
    let end = reply.iter().position(|&byte| byte == b'\n').unwrap_or(0);
    Ok(String::from_utf8_lossy(&reply[..end]).into_owned())
}
