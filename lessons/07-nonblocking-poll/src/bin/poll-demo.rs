//! Lesson 07 — `poll-demo`: the whole lesson in one run.
//!
//! What it shows, in two parts. Part 1 runs `nonblocking`: the four
//! answers of a read (data, EAGAIN, a wait, 0), the busy loop, the lost
//! message, the open rules (ENXIO) and POLLHUP. Part 2 runs `poll-server`
//! on N FIFOs and starts C shell clients per FIFO, all at once, each a
//! separate process that writes numbered lines with a pause between them,
//! then `end`. The demo then checks the server's lines: every message of
//! every client, on every FIFO, in each client's order.
//!
//! Usage:
//!   cargo lab run 7                         3 FIFOs, 1 client each
//!   cargo lab run 7 -- --fifos 4 --clients 2 --count 8
//!   cargo lab run 7 -- --skip-basics        part 2 only
//!
//! What to look for: in part 2, lines from fifo-1, fifo-2 and fifo-3 mixed
//! in time, one server, no thread per FIFO, and a POLLHUP as each client
//! leaves.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use clap::Parser;
use labkit::Speaker::{Note, Parent};
use labkit::cli::sibling;
use labkit::fifo::PrivateDir;
use labkit::watchdog::wait_for_child;
use labkit::{ColorChoice, say, status};
use lesson07_nonblocking_poll::plural;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// Runs `nonblocking`, then a poll-server with shell clients on N FIFOs.
#[derive(Parser)]
#[command(name = "poll-demo", version)]
struct Args {
    /// How many FIFOs the server polls.
    #[arg(long, default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    fifos: u32,

    /// How many clients write into each FIFO.
    #[arg(long, default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    clients: u32,

    /// How many messages each client sends before `end`.
    #[arg(long, default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    count: u32,

    /// The pause between two messages of a client, in ms.
    #[arg(long, value_name = "MS", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=5000))]
    pause_ms: u32,

    /// Skip part 1 (the `nonblocking` program).
    #[arg(long)]
    skip_basics: bool,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    labkit::cli::main(|args: Args| {
        args.common.apply();
        // Whether every client's messages all came, in order.
        let all_came = run(&args)?;
        Ok::<_, Box<dyn std::error::Error>>(if all_came {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

/// The --color to hand to the programs started here, whose output is a
/// pipe (the server) or inherited: the same choice as ours.
fn color_flag(args: &Args) -> &'static str {
    let no_color = std::env::var("NO_COLOR").ok();
    let terminal = std::io::stdout().is_terminal();
    let wants = args.common.color.wants_color(terminal, no_color.as_deref());
    match (args.common.color, wants) {
        (ColorChoice::Auto, _) if !terminal => "never",
        (_, true) => "always",
        (_, false) => "never",
    }
}

fn run(args: &Args) -> Result<bool> {
    let color = color_flag(args);
    if !args.skip_basics {
        say!(Parent, "part 1: the nonblocking program");
        let mut basics = Command::new(sibling("nonblocking")?);
        basics.args(["--color", color]);
        if args.common.trace {
            basics.arg("--trace");
        }
        let ended = status::explain_exit_status(basics.status()?);
        if !ended.contains("code 0") {
            say!(Parent, "nonblocking {ended}");
            return Ok(false);
        }
    }
    serve_clients(args, color)
}

// ANCHOR: clients
/// The shell script of one client: numbered lines, then `end`. The
/// redirection opens the FIFO once, so the client is one writer throughout.
const CLIENT: &str = r#"exec > "$1"
i=1
while [ "$i" -le "$3" ]; do
  echo "$2 message $i"
  i=$((i + 1))
  sleep "$4"
done
echo end"#;

/// Part 2: one poll-server, and clients on every FIFO at once.
fn serve_clients(args: &Args, color: &str) -> Result<bool> {
    let dir = PrivateDir::new()?;
    let (fifos, clients) =
        (plural(args.fifos, "FIFO"), { plural(args.clients, "client") });
    say!(Parent, "part 2: one poll-server, {fifos}, {clients} on each");
    let (server, lines) = start_server(args, dir.path(), color)?;
    let pause = format!("{}.{:03}", args.pause_ms / 1000, args.pause_ms % 1000);
    // Said before the first client starts: once one has, the server's
    // lines (passed on by another thread) may come at any moment.
    let count = u64::from(args.fifos) * u64::from(args.clients);
    say!(Parent, "starting {} at once", plural(count, "shell client"));
    let mut clients = Vec::new();
    for fifo in 1..=args.fifos {
        for client in 1..=args.clients {
            let name = format!("fifo-{fifo} client {client}");
            let child = Command::new("sh")
                .args(["-c", CLIENT, "client"])
                .arg(dir.path().join(format!("fifo-{fifo}")))
                .args([&name, &args.count.to_string(), &pause])
                .stdin(Stdio::null())
                .spawn()?;
            clients.push(child);
        }
    }
    let mut fine = true;
    for client in &clients {
        let ended = reap(client, "a client")?;
        fine &= ended.contains("code 0");
    }
    let ended = reap(&server, "poll-server")?;
    let seen: Vec<String> = lines.iter().collect(); // until its stdout closes
    say!(Parent, "every client has ended; poll-server {ended}");
    Ok(check(args, &seen) && fine && ended.contains("code 0"))
}
// ANCHOR_END: clients

/// Starts poll-server in `dir`, passes its lines on to our stdout as they
/// come, and returns once it polls.
fn start_server(
    args: &Args,
    dir: &Path,
    color: &str,
) -> Result<(Child, Receiver<String>)> {
    let mut command = Command::new(sibling("poll-server")?);
    command
        .arg("--dir")
        .arg(dir)
        .args(["--fifos", &args.fifos.to_string()])
        .args(["--clients", &args.clients.to_string()])
        .args(["--wait", "30", "--color", color])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if args.common.trace {
        command.arg("--trace");
    }
    let mut server = command.spawn()?;
    let stdout = server.stdout.take().ok_or("poll-server has no stdout")?;
    let (ready_sender, ready) = mpsc::channel();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in
            BufReader::new(stdout).lines().map_while(std::io::Result::ok)
        {
            // Passed on as it came; if our stdout has gone (`| head`),
            // the demo goes on and still reports through its exit status.
            let _ = writeln!(std::io::stdout().lock(), "{line}");
            if line.contains("polling") {
                let _ = ready_sender.send(());
            }
            let _ = sender.send(line);
        }
    });
    if ready.recv_timeout(Duration::from_secs(10)).is_err() {
        // SIGTERM, not SIGKILL: the server removes its FIFOs as it goes.
        let _ = kill(Pid::from_raw(i32::try_from(server.id())?), {
            Signal::SIGTERM
        });
        let _ = server.wait();
        return Err("poll-server did not start polling within 10 s".into());
    }
    Ok((server, lines))
}

/// Reaps a child within 60 s and says how it ended.
fn reap(child: &Child, who: &str) -> Result<String> {
    let pid = Pid::from_raw(i32::try_from(child.id())?);
    match wait_for_child(pid, Duration::from_secs(60))? {
        Some(ended) => Ok(status::explain(&ended)),
        None => Err(format!("{who} (pid {pid}) still ran after 60 s").into()),
    }
}

/// Says, for each client, whether all its messages came, in order.
fn check(args: &Args, seen: &[String]) -> bool {
    let mut all = true;
    for fifo in 1..=args.fifos {
        for client in 1..=args.clients {
            let name = format!("fifo-{fifo} client {client}");
            let got: Vec<u32> = seen
                .iter()
                .filter_map(|line| line.split_once(&format!("\"{name} ")))
                .filter_map(|(_, rest)| rest.strip_prefix("message "))
                .filter_map(|rest| rest.trim_end_matches('"').parse().ok())
                .collect();
            let sent: Vec<u32> = (1..=args.count).collect();
            let verdict = if got == sent { "all, in order" } else { "WRONG" };
            say!(
                Parent,
                "{name}: sent {}, received {}: {verdict}",
                { sent.len() },
                got.len()
            );
            all &= got == sent;
        }
    }
    if all && args.fifos > 1 {
        say!(Note, "one process, one poll(), {} FIFOs: no read ever", {
            args.fifos
        });
        say!(Note, "  waited on a quiet FIFO while another had bytes");
    }
    all
}
