//! Lesson 04 — `fifo-demo`: the open handshake, then one server and many
//! clients on one FIFO.
//!
//! What it teaches, in two acts. Act 1, on a FIFO of its own: a writer's
//! `open(O_WRONLY|O_NONBLOCK)` fails with ENXIO while nobody reads; a
//! blocking `open(O_RDONLY)` waits until a writer comes, and a writer's
//! arrival wakes it; `open(O_RDONLY|O_NONBLOCK)` returns at once. Act 2:
//! it starts `fifo-server` and N `fifo-client`s as separate programs, all
//! at once, and checks the server's count: every message of every client
//! arrived once and whole, because each is one `write` of at most PIPE_BUF
//! bytes, which the kernel never interleaves with another writer's.
//!
//! Usage:
//!   cargo lab run 4                  3 clients, 20 messages of 100 bytes each
//!   cargo lab run 4 -- --clients 8
//!   cargo lab run 4 -- --clients 8 --message-bytes 100000
//!                                    larger than PIPE_BUF: watch them mix
//!
//! What to look for: in act 1, which opens wait and which fail; in act 2,
//! "received whole" for every client. Above PIPE_BUF, messages may arrive
//! mixed from several writers, and the count shows it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::{Kernel, Note, Parent};
use labkit::fifo::{Access, Fifo, PendingOpen, PrivateDir, open};
use labkit::watchdog::wait_for_child;
use labkit::{say, status};
use lesson04_fifo_client_server::NONBLOCKING;
use nix::errno::Errno;
use nix::unistd::{Pid, read};

/// Shows the FIFO open handshake, then runs a server with N clients.
#[derive(Parser)]
#[command(name = "fifo-demo", version)]
struct Args {
    /// How many clients write into the server's FIFO at once.
    #[arg(long, default_value_t = 3)]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=64))]
    clients: u32,

    /// How many messages each client sends (then `end`).
    #[arg(long, default_value_t = 20)]
    #[arg(value_parser = clap::value_parser!(u32).range(1..=10_000))]
    count: u32,

    /// The size of each message in bytes (a newline follows it).
    #[arg(long, default_value_t = 100)]
    #[arg(value_parser = clap::value_parser!(u32).range(12..=1_000_000))]
    message_bytes: u32,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

fn main() -> ExitCode {
    labkit::cli::main(run)
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(args: Args) -> Result<ExitCode> {
    args.common.apply();
    open_handshake()?;
    let all_whole = many_clients(&args)?;
    Ok(if all_whole { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

// ANCHOR: handshake
/// Act 1: who waits in open(), and who does not.
fn open_handshake() -> Result<()> {
    let fifo = Fifo::create_private("handshake")?;
    let path = fifo.path();
    let shown = path.display();
    say!(Parent, "act 1: the open handshake, on my own FIFO {shown}");

    match open(path, Access::Write, NONBLOCKING) {
        Err(error) if error.errno() == Some(Errno::ENXIO) => {}
        other => return Err(format!("expected ENXIO, got {other:?}").into()),
    }
    say!(Kernel, "open(O_WRONLY|O_NONBLOCK) = ENXIO: the FIFO has no reader");

    say!(Parent, "open(O_RDONLY), blocking, on a helper thread...");
    let pending = PendingOpen::start(path, Access::Read);
    if pending.wait(Duration::from_millis(300)).is_some() {
        return Err("open(O_RDONLY) returned with no writer".into());
    }
    say!(
        Kernel,
        "after 0.3 s, open(O_RDONLY) is still waiting: no writer has come"
    );

    let writer = open(path, Access::Write, NONBLOCKING)?;
    say!(
        Kernel,
        "open(O_WRONLY|O_NONBLOCK) now succeeds: a reader is waiting in open()"
    );
    let reader = pending
        .wait(Duration::from_secs(10))
        .ok_or("open(O_RDONLY) did not return when a writer came")??;
    say!(
        Kernel,
        "and the writer's arrival woke the waiting open(O_RDONLY): it returned"
    );
    drop((reader, writer)); // both ends closed: the FIFO is idle again

    let reader = open(path, Access::Read, NONBLOCKING)?;
    say!(
        Kernel,
        "open(O_RDONLY|O_NONBLOCK) returns at once, with no writer at all"
    );
    let mut buffer = [0u8; 16];
    let got = read(&reader, &mut buffer)?;
    say!(
        Kernel,
        "read() = {got}: with no writer, an empty FIFO reads as end of file"
    );
    // The end of act 1: dropping `fifo` removes it and its directory.
    drop(reader);
    Ok(())
}
// ANCHOR_END: handshake

/// The message client `number` sends: its name, then its digit repeated.
fn message_of(number: u32, bytes: u32) -> String {
    let mut message = format!("client {number} ");
    let digit = char::from_digit(number % 10, 10).unwrap_or('x');
    while message.len() < bytes as usize {
        message.push(digit);
    }
    message
}

// ANCHOR: many-clients
/// Act 2: one fifo-server, N fifo-clients, all separate programs.
fn many_clients(args: &Args) -> Result<bool> {
    let dir = PrivateDir::new()?;
    let path = dir.path().join("fifo");
    say!(
        Parent,
        "act 2: one server, {} clients, {} messages of {} bytes each",
        args.clients,
        args.count,
        args.message_bytes
    );
    let (mut server, server_lines) = start_server(&path, args.clients)?;
    let (pid, shown) = (server.id(), path.display());
    say!(Parent, "started fifo-server (pid {pid}): it made {shown}");
    say!(Parent, "and now waits in open() for a writer");

    let mut clients = Vec::new();
    for number in 1..=args.clients {
        let client = Command::new(sibling("fifo-client")?)
            .arg("--path")
            .arg(&path)
            .args([
                "--count",
                &args.count.to_string(),
                "--quiet",
                "--color",
                "never",
            ])
            .args(["--message", &message_of(number, args.message_bytes)])
            .stdout(Stdio::null())
            .spawn()?;
        clients.push(client);
    }
    say!(
        Parent,
        "started {} clients at once; each sends its own message",
        args.clients
    );

    let mut all_fine = true;
    for (number, client) in (1..).zip(&clients) {
        let ended = reap(client, "a client")?;
        if !ended.contains("exited with code 0") {
            say!(Parent, "client {number} {ended}");
            all_fine = false;
        }
    }
    say!(Parent, "every client has ended");
    let ended = reap(&server, "the server")?;
    say!(Parent, "fifo-server {ended}");
    let _ = server.wait(); // already reaped above: this only updates `server`

    let summary = received_counts(&server_lines);
    Ok(check_counts(args, &summary) && all_fine && ended.contains("code 0"))
}
// ANCHOR_END: many-clients

/// A program built next to this one.
fn sibling(name: &str) -> Result<std::path::PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(name))
}

/// Starts fifo-server on `path`, and waits until it has made the FIFO.
fn start_server(
    path: &Path,
    clients: u32,
) -> Result<(Child, Receiver<String>)> {
    let mut server = Command::new(sibling("fifo-server")?)
        .arg("--path")
        .arg(path)
        .args(["--clients", &clients.to_string(), "--summary-only"])
        // Frames above PIPE_BUF can garble the clients' `end`s: then the
        // server stops when no client has come for 5 s, and still reports.
        .args(["--wait", "5", "--color", "never"])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = server.stdout.take().ok_or("no stdout")?;
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in
            BufReader::new(stdout).lines().map_while(std::io::Result::ok)
        {
            let _ = sender.send(line);
        }
    });
    loop {
        match lines.recv_timeout(Duration::from_secs(10)) {
            Ok(line) if line.contains("open(O_RDONLY)") => {
                return Ok((server, lines));
            }
            Ok(_) => continue,
            Err(_) => {
                // SIGTERM, not SIGKILL: the server removes its FIFO as it goes.
                let _ = nix::sys::signal::kill(
                    Pid::from_raw(i32::try_from(server.id())?),
                    nix::sys::signal::Signal::SIGTERM,
                );
                let _ = server.wait();
                return Err("fifo-server did not start within 10 s".into());
            }
        }
    }
}

/// Reaps a child within 60 s and says how it ended.
fn reap(child: &Child, who: &str) -> Result<String> {
    let pid = Pid::from_raw(i32::try_from(child.id())?);
    match wait_for_child(pid, Duration::from_secs(60))? {
        Some(ended) => Ok(status::explain(&ended)),
        None => {
            Err(format!("{who} (pid {pid}) was still running after 60 s")
                .into())
        }
    }
}

/// The server's summary: (count, message preview, length in bytes) per
/// distinct message, from lines like `    20 × "client 1 111…" (100 bytes)`.
fn received_counts(lines: &Receiver<String>) -> Vec<(usize, String, usize)> {
    let mut summary = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        let text =
            line.split_once(" | ").map_or(line.as_str(), |(_, text)| text);
        let Some((count, rest)) = text.trim().split_once(" × ") else {
            continue;
        };
        let Some((preview, len)) = rest.rsplit_once(" (") else {
            continue;
        };
        let len = len.trim_end_matches(" bytes)");
        if let (Ok(count), Ok(len)) = (count.parse(), len.parse()) {
            summary.push((count, preview.trim_matches('"').to_string(), len));
        }
    }
    summary
}

/// Says, for each client, how many of its messages arrived whole.
fn check_counts(args: &Args, summary: &[(usize, String, usize)]) -> bool {
    let sent = args.count as usize;
    let whole_size = args.message_bytes as usize;
    let mut all_whole = true;
    for number in 1..=args.clients {
        let name = format!("client {number} ");
        let whole: usize = summary
            .iter()
            .filter(|(_, preview, len)| {
                preview.starts_with(&name) && *len == whole_size
            })
            .map(|(count, ..)| count)
            .sum();
        say!(Parent, "client {number}: {sent} sent, {whole} received whole");
        all_whole &= whole == sent;
    }
    let ends: usize = summary
        .iter()
        .filter(|(_, preview, _)| preview == "end")
        .map(|(count, ..)| count)
        .sum();
    let distinct = summary.len();
    let expected = args.clients as usize + 1;
    if distinct != expected {
        say!(
            Parent,
            "{distinct} distinct messages arrived where {expected} were sent:\n\
             some were mixed from several writers"
        );
        all_whole = false;
    }
    let frame = whole_size + 1;
    if frame > libc::PIPE_BUF {
        say!(
            Note,
            "frames of {} bytes are larger than PIPE_BUF ({}): the kernel\n\
             may split such a write and mix it with other writers' bytes",
            frame,
            libc::PIPE_BUF
        );
    } else if all_whole && ends == args.clients as usize {
        say!(
            Note,
            "nothing lost, nothing interleaved: each message was one write()\n\
             of {} bytes, at most PIPE_BUF ({}), and such a write is never\n\
             mixed with another writer's bytes",
            frame,
            libc::PIPE_BUF
        );
    }
    all_whole
}
