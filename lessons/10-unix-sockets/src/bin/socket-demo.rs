//! Lesson 10 — `socket-demo`: the whole lesson in one run.
//!
//! What it shows, in three acts, each by running the lesson's other
//! programs as separate processes. Act 1: `socketpair` talks both ways over
//! one pair of descriptors. Act 2: one `socket-server` and two
//! `socket-client`s at once; the server learns each client's pid and uid
//! from the kernel (SO_PEERCRED), and each client passes it a descriptor
//! of a file whose name it has already removed: the server reads it anyway,
//! and moves the client's own offset. Act 3: a server killed with SIGKILL
//! leaves its socket file behind; a client then meets ECONNREFUSED, and the
//! next server replaces the stale socket with one line of narration; a
//! server ended with SIGTERM removes its socket.
//!
//! Usage:
//!   cargo lab run 10                  the three acts
//!   cargo lab run 10 -- --act stale   act 3 only
//!
//! What to look for: the pids from SO_PEERCRED are the clients' own; the
//! received descriptor has a new number and the client's inode; after the
//! server read 16 bytes, the client's offset is 16.

use std::io::{BufRead, BufReader, IsTerminal};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use labkit::Speaker::{Kernel, Note, Parent};
use labkit::watchdog::{collect, wait_for_child};
use labkit::{say, status};
use lesson10_unix_sockets::mode_string;
use lesson10_unix_sockets::place::SocketDir;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// socketpair, a server with two clients, and a stale socket.
#[derive(Parser)]
#[command(name = "socket-demo", version)]
struct Args {
    /// Which act to run.
    #[arg(long, value_enum, default_value_t = Act::All)]
    act: Act,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Act {
    All,
    Socketpair,
    Clients,
    Stale,
}

/// How long the demo waits for any one of its programs.
const LIMIT: Duration = Duration::from_secs(30);

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| -> Result<ExitCode> {
        args.common.apply();
        let dir = SocketDir::new()?;
        if matches!(args.act, Act::All | Act::Socketpair) {
            act_socketpair(&args)?;
        }
        if matches!(args.act, Act::All | Act::Clients) {
            act_clients(&args, dir.path())?;
        }
        if matches!(args.act, Act::All | Act::Stale) {
            act_stale(&args, dir.path())?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A program built next to this one, with our colour choice.
fn sibling(args: &Args, name: &str) -> Result<Command> {
    let mut command = Command::new(labkit::cli::sibling(name)?);
    // Their stdout is our pipe: pass on whether *we* colour.
    let no_color = std::env::var("NO_COLOR").ok();
    let terminal = std::io::stdout().is_terminal();
    let wanted = args.common.color.wants_color(terminal, no_color.as_deref());
    command.args(["--color", if wanted { "always" } else { "never" }]);
    Ok(command)
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
}

/// Reaps `child` within LIMIT and says how it ended, in words.
fn reap(child: &mut Child, who: &str) -> Result<String> {
    match wait_for_child(pid_of(child), LIMIT)? {
        Some(ended) => Ok(status::explain(&ended)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{who} was still running after {} s", LIMIT.as_secs())
                .into())
        }
    }
}

/// A server whose lines are shown as they come, and watched for.
struct Running {
    child: Child,
    lines: Receiver<String>,
    relay: JoinHandle<()>,
}

/// Starts socket-server on `path` and waits until it listens.
fn start_server(args: &Args, path: &Path, clients: u32) -> Result<Running> {
    let mut child = sibling(args, "socket-server")?
        .arg("--path")
        .arg(path)
        .args(["--clients", &clients.to_string(), "--wait", "30"])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (sender, lines) = mpsc::channel();
    let relay = std::thread::spawn(move || {
        for line in
            BufReader::new(stdout).lines().map_while(std::io::Result::ok)
        {
            println!("{line}");
            let _ = sender.send(line);
        }
    });
    let running = Running { child, lines, relay };
    loop {
        match running.lines.recv_timeout(LIMIT) {
            // Its last line before it waits in accept().
            Ok(line) if line.contains("cargo lab run 10 client") => {
                return Ok(running);
            }
            Ok(_) => continue,
            Err(_) => {
                let mut child = running.child;
                let _ = child.kill();
                let _ = child.wait();
                return Err("socket-server did not start listening".into());
            }
        }
    }
}

/// Act 1: the socketpair program's first act.
fn act_socketpair(args: &Args) -> Result<()> {
    say!(
        Parent,
        "act 1: a socketpair, both directions (socketpair --act both-ways)"
    );
    let mut child =
        sibling(args, "socketpair")?.args(["--act", "both-ways"]).spawn()?;
    let ended = reap(&mut child, "socketpair")?;
    if !ended.contains("code 0") {
        return Err(format!("socketpair {ended}").into());
    }
    Ok(())
}

// ANCHOR: clients
/// Act 2: one server, two clients at once, each passing a descriptor.
fn act_clients(args: &Args, dir: &Path) -> Result<()> {
    say!(Parent, "act 2: one socket-server, two socket-clients at once");
    let path = dir.join("server.sock");
    let mut server = start_server(args, &path, 2)?;
    let ls = Command::new("ls").arg("-l").arg(&path).output();
    if let Ok(ls) = ls {
        say!(
            Parent,
            "ls -l: {}",
            String::from_utf8_lossy(&ls.stdout).trim_end()
        );
    }
    let mut clients = Vec::new();
    for number in 1..=2 {
        let file = dir.join(format!("notes-{number}.txt"));
        let text: String = (1..=3)
            .map(|line| format!("client {number}, line {line}\n"))
            .collect();
        std::fs::write(&file, text)?;
        let mut client = sibling(args, "socket-client")?
            .arg("--path")
            .arg(&path)
            .arg("--send-file")
            .arg(&file)
            .arg("--unlink")
            .stdout(Stdio::piped())
            .spawn()?;
        let output = collect(client.stdout.take());
        clients.push((client, output));
    }
    let mut accounts = Vec::new();
    for (number, (mut client, output)) in (1..).zip(clients) {
        let ended = reap(&mut client, "a client")?;
        // Each client removed its file's name; if one failed first, the
        // file is still there, and ours to remove.
        let _ = std::fs::remove_file(dir.join(format!("notes-{number}.txt")));
        accounts.push((
            number,
            pid_of(&client),
            ended,
            output.join().unwrap_or_default(),
        ));
    }
    let ended = reap(&mut server.child, "the server")?;
    let _ = server.relay.join();
    say!(Parent, "socket-server {ended}");
    for (number, pid, ended, output) in accounts {
        say!(Parent, "client {number} (pid {pid}) {ended}; its own account:");
        print!("{output}");
    }
    Ok(())
}
// ANCHOR_END: clients

// ANCHOR: stale
/// Act 3: kill -9 leaves a stale socket; the next server replaces it.
fn act_stale(args: &Args, dir: &Path) -> Result<()> {
    say!(Parent, "act 3: a server killed with SIGKILL, and the next one");
    let path: PathBuf = dir.join("stale.sock");
    let mut first = start_server(args, &path, 1)?;
    kill(pid_of(&first.child), Signal::SIGKILL)?;
    let ended = reap(&mut first.child, "the first server")?;
    let _ = first.relay.join();
    say!(Parent, "the first server, {ended}:");
    say!(Parent, "had no chance to clean up");
    say!(
        Kernel,
        "and its socket is still there: {} {}",
        mode_string(&path)?,
        path.display()
    );
    let refused = sibling(args, "socket-client")?
        .arg("--path")
        .arg(&path)
        .stdout(Stdio::null())
        .output()?;
    // Its one line of stderr, cut after each colon to fit the column.
    let said = String::from_utf8_lossy(&refused.stderr);
    let mut parts = said.trim_end().split(": ");
    let program = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    say!(Parent, "a client now gets, on one line of stderr:");
    for (index, part) in rest.iter().enumerate() {
        let (lead, colon) = match index {
            0 => (format!("{program}: "), ":"),
            i if i + 1 == rest.len() => (String::new(), ""),
            _ => (String::new(), ":"),
        };
        say!(Parent, "  {lead}{part}{colon}");
    }
    let mut second = start_server(args, &path, 1)?;
    kill(pid_of(&second.child), Signal::SIGTERM)?;
    let ended = second.child.wait()?;
    let _ = second.relay.join();
    let signal = ended.signal().map_or("no signal".into(), |n| n.to_string());
    say!(
        Parent,
        "sent SIGTERM to the second server: killed by signal {signal}"
    );
    if path.exists() {
        return Err(
            format!("{} is still there after SIGTERM", path.display()).into()
        );
    }
    say!(Note, "after SIGTERM the socket is gone: the server removed it first");
    Ok(())
}
// ANCHOR_END: stale
