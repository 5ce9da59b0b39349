//! Lesson 10 — `socket-server`: a Unix domain socket server that knows who
//! is calling, and reads from descriptors its clients pass to it.
//!
//! What it teaches: `bind` gives a socket a name (a file of type `s`, made
//! 0600 in a private 0700 directory), `listen` lets the kernel queue
//! connections, and `accept` hands the server one connection per client:
//! a descriptor of its own for each, unlike a FIFO shared by all. For each
//! client the kernel says who connected (`SO_PEERCRED`: pid, uid, gid),
//! which the server checks against what the client says, and against the
//! uids it accepts. A client may pass a descriptor with `SCM_RIGHTS`: the
//! server reads the client's file through it, though it could not open the
//! file's path itself. A stale socket (left by `kill -9`) is recognised and
//! replaced; the socket and its directory go on exit, Ctrl-C and SIGTERM.
//!
//! Usage:
//!   cargo lab run 10 server                     then run the client it prints
//!   cargo lab run 10 server -- --clients 3      serve 3 clients, then stop
//!   cargo lab run 10 server -- --path ./sock    a socket where you choose
//!   cargo lab run 10 server -- --abstract demo  Linux's abstract namespace
//!   cargo lab run 10 server -- --allow-uid 65534  also accept uid 65534
//!
//! What to look for: the pid and uid the kernel reports for each client;
//! the received descriptor's new number and its inode; `ls -l` on the
//! socket (`srw-------`); after `kill -9`, the next start's one line about
//! the stale socket.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::{Kernel, Note, Server};
use labkit::watchdog::wait_readable;
use labkit::{say, trace};
use lesson10_unix_sockets::fdpass::recv_with_fds;
use lesson10_unix_sockets::hello::Hello;
use lesson10_unix_sockets::mode_string;
use lesson10_unix_sockets::place::{
    Listening, Place, SocketDir, bind_abstract, bind_at,
};
use nix::errno::Errno;
use nix::fcntl::{OFlag, open};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::sys::stat::{Mode, fstat};
use nix::unistd::{geteuid, read};

/// Listens on a Unix domain socket and serves clients one after another.
#[derive(Parser)]
#[command(name = "socket-server", version)]
struct Args {
    /// Where to bind [default: `server.sock` in a new private directory].
    /// An existing path is replaced only if it is a stale socket of yours.
    #[arg(long, value_name = "PATH", conflicts_with = "abstract_name")]
    path: Option<PathBuf>,

    /// Bind to NAME in Linux's abstract namespace instead: no file at all.
    #[arg(long = "abstract", value_name = "NAME")]
    abstract_name: Option<String>,

    /// How many clients to serve before stopping.
    #[arg(
        long,
        default_value_t = 1,
        value_parser = clap::value_parser!(u32).range(1..=1000),
    )]
    clients: u32,

    /// A uid allowed to talk to this server (repeat for more)
    /// [default: only your own].
    #[arg(long, value_name = "UID")]
    allow_uid: Vec<u32>,

    /// How many bytes to read through a descriptor a client passes.
    #[arg(
        long,
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..=65536),
    )]
    read_bytes: u32,

    /// How long to wait for a client to connect, or to speak.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 600,
        value_parser = clap::value_parser!(u64).range(1..=86_400),
    )]
    wait: u64,

    #[command(flatten)]
    sharing: labkit::fifo::SharingArgs,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        args.sharing.apply();
        run(&args).map(|()| ExitCode::SUCCESS)
    })
}

fn run(args: &Args) -> Result<()> {
    // ANCHOR: listen
    // Declared before the socket, so dropped after it: the socket file
    // goes first, then its directory.
    let dir;
    let listening = match (&args.path, &args.abstract_name) {
        (Some(path), _) => bind_at(path)?,
        (None, Some(name)) => bind_abstract(name)?,
        (None, None) => {
            dir = SocketDir::new()?;
            say!(Server, "made {} (mode 0700)", dir.path().display());
            bind_at(&dir.path().join("server.sock"))?
        }
    };
    let place = &listening.place;
    let fd = listening.listener.as_raw_fd();
    trace!(Server, &Ok::<_, Errno>(0), "bind({fd}, \"{place}\"), listen({fd})");
    if listening.replaced_stale {
        say!(
            Server,
            "{place}: a stale socket of mine (ECONNREFUSED): replaced it"
        );
    }
    match place {
        Place::Path(path) => say!(
            Server,
            "listening on {place}: `ls -l` shows {}",
            mode_string(path)?
        ),
        Place::Abstract(_) => say!(
            Server,
            "listening on {place}: abstract, no file: anyone may connect"
        ),
    }
    // ANCHOR_END: listen
    say!(Server, "from another terminal:");
    say!(Server, "  cargo lab run 10 client -- {}", client_flags(place));
    let allowed = if args.allow_uid.is_empty() {
        vec![geteuid().as_raw()]
    } else {
        args.allow_uid.clone()
    };
    serve(args, &listening, &allowed)?;
    let clients = match args.clients {
        1 => "1 client".to_string(),
        n => format!("{n} clients"),
    };
    say!(Server, "served {clients}: removing {place}");
    Ok(())
}

/// The client's flags that reach this server.
fn client_flags(place: &Place) -> String {
    match place {
        Place::Path(path) => format!("--path {}", shell_word(path)),
        Place::Abstract(name) => format!("--abstract {name}"),
    }
}

/// A path quoted for a shell, if it needs it.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@%".contains(c);
    if text.chars().all(plain) {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

// ANCHOR: accept
/// Accepts clients one after another. Several may connect at once: each
/// `connect` returns as soon as the kernel has queued the connection (the
/// listen backlog), and waits there until its turn comes.
fn serve(args: &Args, listening: &Listening, allowed: &[u32]) -> Result<()> {
    let wait = Duration::from_secs(args.wait);
    for number in 1..=args.clients {
        if !wait_readable(listening.listener.as_fd(), wait)? {
            return Err(format!("no client came for {} s", args.wait).into());
        }
        let (stream, _) = listening
            .listener
            .accept()
            .map_err(|error| format!("accept: {error}"))?;
        let listener_fd = listening.listener.as_raw_fd();
        let accepted = Ok::<_, Errno>(stream.as_raw_fd());
        trace!(
            Server,
            &accepted, "accept4({listener_fd}, NULL, NULL, SOCK_CLOEXEC)"
        );
        say!(
            Server,
            "accepted client {number}: a connection of its own, fd {}",
            stream.as_raw_fd()
        );
        let answer = serve_one(args, &stream, number, allowed)?;
        // One line back; a client that left already cannot read it.
        let _ = (&stream).write_all(format!("{answer}\n").as_bytes());
        // Dropping the stream closes this client's connection only.
    }
    Ok(())
}
// ANCHOR_END: accept

// ANCHOR: peer
/// Serves one client: who it is, what it says, what it passed. Returns
/// the reply line.
fn serve_one(
    args: &Args,
    stream: &UnixStream,
    number: u32,
    allowed: &[u32],
) -> Result<String> {
    // The kernel recorded who called connect(): the client cannot lie here.
    let peer = getsockopt(stream, PeerCredentials);
    trace!(
        Server,
        &peer.map(|_| 0),
        "getsockopt({}, SOL_SOCKET, SO_PEERCRED, ...)",
        stream.as_raw_fd()
    );
    let peer =
        peer.map_err(|errno| format!("getsockopt(SO_PEERCRED): {errno}"))?;
    let (pid, uid, gid) = (peer.pid(), peer.uid(), peer.gid());
    say!(
        Kernel,
        "SO_PEERCRED of client {number}: pid {pid}, uid {uid}, gid {gid}"
    );
    // A client that connects and says nothing must not hold us for ever.
    stream.set_read_timeout(Some(Duration::from_secs(args.wait)))?;
    let (line, fds) = match read_hello(stream)? {
        Heard::Line(line, fds) => (line, fds),
        Heard::Nothing => {
            say!(Server, "client {number} left without a word");
            return Ok("bye".into());
        }
        Heard::Silent => {
            say!(Server, "client {number} said nothing for {} s", args.wait);
            return Ok("refused: nothing said in time".into());
        }
        Heard::TooLong => {
            say!(Server, "client {number} sent 4096 bytes and no newline");
            return Ok("refused: hello line too long".into());
        }
    };
    let hello = match Hello::parse(&line) {
        Ok(hello) => hello,
        Err(error) => {
            say!(Server, "client {number} sent a bad hello: {error}");
            return Ok(format!("refused: bad hello: {error}"));
        }
    };
    if (hello.pid, hello.uid, hello.gid) != (pid, uid, gid) {
        say!(
            Server,
            "client {number} says pid {}, uid {}, gid {}: not what",
            hello.pid,
            hello.uid,
            hello.gid
        );
        say!(Server, "the kernel says: refusing it");
        return Ok("refused: you are not who you say you are".into());
    }
    say!(
        Server,
        "client {number} says pid {pid}, uid {uid}, gid {gid}: so it is"
    );
    if !allowed.contains(&uid) {
        say!(
            Server,
            "uid {uid} is not allowed here (allowed: {allowed:?}): refusing it"
        );
        return Ok(format!("refused: uid {uid} is not allowed"));
    }
    match fds.into_iter().next() {
        Some(fd) => read_passed(args, &hello, fd),
        None => Ok("ok".into()),
    }
}
// ANCHOR_END: peer

/// What a client's first line came to.
enum Heard {
    /// The hello line (without its newline), and the descriptors sent
    /// with it: the kernel delivers them with the bytes they rode on.
    Line(String, Vec<OwnedFd>),
    /// The client closed without sending a line.
    Nothing,
    /// The client sent no line within the read timeout (SO_RCVTIMEO).
    Silent,
    /// More than 4096 bytes and no newline.
    TooLong,
}

/// Reads the client's hello line.
fn read_hello(stream: &UnixStream) -> Result<Heard> {
    let mut line = Vec::new();
    let mut fds = Vec::new();
    let mut buffer = [0u8; 512];
    while !line.contains(&b'\n') {
        let got = recv_with_fds(stream.as_fd(), &mut buffer);
        trace!(
            Server,
            &got.as_ref().map(|(n, _)| *n).map_err(|errno| *errno),
            "recvmsg({}, buf, {}, MSG_CMSG_CLOEXEC)",
            stream.as_raw_fd(),
            buffer.len()
        );
        let (n, mut more) = match got {
            Ok(got) => got,
            Err(Errno::EAGAIN) => return Ok(Heard::Silent),
            Err(errno) => {
                return Err(
                    format!("recvmsg: {} ({errno:?})", errno.desc()).into()
                );
            }
        };
        for fd in &more {
            trace!(Server, &Ok::<_, Errno>(fd.as_raw_fd()), "  SCM_RIGHTS");
        }
        fds.append(&mut more);
        if n == 0 {
            return Ok(Heard::Nothing);
        }
        line.extend_from_slice(&buffer[..n]);
        if line.len() > 4096 {
            return Ok(Heard::TooLong);
        }
    }
    let end = line.iter().position(|&byte| byte == b'\n').unwrap_or(0);
    let text = String::from_utf8_lossy(&line[..end]).into_owned();
    Ok(Heard::Line(text, fds))
}

// ANCHOR: passed
/// Reads through a descriptor the client passed.
fn read_passed(args: &Args, hello: &Hello, fd: OwnedFd) -> Result<String> {
    let theirs = hello.fd.map_or("?".into(), |fd| fd.to_string());
    say!(
        Server,
        "received a descriptor (SCM_RIGHTS): fd {} here, fd {theirs} there",
        fd.as_raw_fd()
    );
    let stat = fstat(&fd);
    trace!(Server, &stat.map(|_| 0), "fstat({}, ...)", fd.as_raw_fd());
    let stat = stat.map_err(|errno| format!("fstat: {errno}"))?;
    let same = (Some(stat.st_dev), Some(stat.st_ino)) == (hello.dev, hello.ino);
    say!(
        Kernel,
        "fstat: inode {}{}",
        stat.st_ino,
        if same {
            ", as the client's: the same open file"
        } else {
            ", not the client's"
        }
    );
    if let Some(path) = &hello.path {
        // Try the path ourselves: the descriptor is not a path, and needs
        // none of the rights a path would.
        match open(
            path.as_str(),
            OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(_) => say!(Server, "open({path:?}) works for me too, here"),
            Err(errno) => {
                say!(
                    Server,
                    "open({path:?}) myself: {errno:?} ({}),",
                    errno.desc()
                );
                say!(Server, "and yet the descriptor reads:");
            }
        }
    }
    let mut buffer = vec![0u8; args.read_bytes as usize];
    let n = read(&fd, &mut buffer);
    trace!(Server, &n, "read({}, buf, {})", fd.as_raw_fd(), buffer.len());
    let n = n.map_err(|errno| format!("read: {errno}"))?;
    say!(
        Server,
        "read {n} bytes through it: {:?}",
        String::from_utf8_lossy(&buffer[..n])
    );
    // Dropping our copy closes our descriptor only: the client's stays open.
    drop(fd);
    say!(Note, "the client's offset moved by {n} too: one open file, two fds");
    Ok(format!("read {n}"))
}
// ANCHOR_END: passed
