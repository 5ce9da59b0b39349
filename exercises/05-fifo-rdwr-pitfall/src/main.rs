//! The test runner for exercise 05: you do not need to edit this file.
//!
//! `cargo lab check 5` runs this program once per scenario, as a process of
//! its own, with a time limit. It makes the two FIFOs in a private
//! directory, starts the reference peer (this same program, as
//! `ex05-fifo-rdwr-pitfall peer REQUESTS REPLIES`), calls your
//! `request_reply`, and prints what came back, one `key: value` line each,
//! for tests/exercise.rs to check.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use ex05_fifo_rdwr_pitfall::request_reply;
use labkit::exercise::open_fds;
use labkit::fifo::{Access, Fifo, PrivateDir, open_within};
use labkit::watchdog::{wait_for_child, wait_readable};
use nix::unistd::{Pid, read, write};

/// How long the peer and the runner wait for any one thing.
const LIMIT: Duration = Duration::from_secs(10);

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [peer, requests, replies] if peer == "peer" => {
            reference_peer(Path::new(requests), Path::new(replies))
        }
        [name] => match scenario(name) {
            Some((count, padding)) => run(count, padding),
            None => Err(format!("unknown scenario {name:?}").into()),
        },
        _ => Err("usage: ex05-fifo-rdwr-pitfall SCENARIO \
                  (one, five, many, long, none)"
            .into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ex05-fifo-rdwr-pitfall: {error}");
            if error.to_string().contains("was still waiting") {
                eprintln!(
                    "(An open that waited for its peer: are the FIFOs opened \
                     in the peer's order, requests first, then replies?)"
                );
            }
            ExitCode::FAILURE
        }
    }
}

/// How many requests, and how many bytes of padding in each.
fn scenario(name: &str) -> Option<(usize, usize)> {
    Some(match name {
        "one" => (1, 0),
        "five" => (5, 0),
        "many" => (500, 0),
        // Replies of 3000 bytes: more than one small read each.
        "long" => (20, 3000),
        "none" => (0, 0),
        _ => return None,
    })
}

fn run(count: usize, padding: usize) -> Result<()> {
    // Declared first, dropped last: the FIFOs go before their directory.
    let dir = PrivateDir::new()?;
    let requests = Fifo::create_at(&dir.path().join("requests"))?;
    let replies = Fifo::create_at(&dir.path().join("replies"))?;
    let mut peer = Command::new(std::env::current_exe()?)
        .arg("peer")
        .args([requests.path(), replies.path()])
        .stdin(Stdio::null())
        // The peer says here how many requests it answered.
        .stdout(Stdio::piped())
        .spawn()?;

    let messages: Vec<String> = (1..=count)
        .map(|number| {
            format!("message {number} of {count} {}", "x".repeat(padding))
        })
        .collect();
    let message_refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    let fds_before = open_fds();
    let answers = request_reply(requests.path(), replies.path(), &message_refs);
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();

    let peer_pid = Pid::from_raw(i32::try_from(peer.id())?);
    let peer_ended = match wait_for_child(peer_pid, LIMIT)? {
        Some(ended) => labkit::status::explain(&ended),
        None => {
            "still running after 10 s: it never read end of file on requests"
                .to_string()
        }
    };
    // The peer has ended, or was left running: read what it said so far
    // without waiting for more.
    let mut said = String::new();
    if let Some(mut out) = peer.stdout.take()
        && peer_ended.starts_with("exited")
    {
        let _ = out.read_to_string(&mut said);
    }
    let peer_saw = said
        .lines()
        .find_map(|line| line.strip_prefix("requests: "))
        .unwrap_or("unknown")
        .to_string();
    let answers = answers
        .map_err(|error| format!("request_reply returned an error: {error}"))?;

    let correct = messages
        .iter()
        .zip(&answers)
        .filter(|(message, answer)| message.to_uppercase() == **answer)
        .count();
    println!("replies: {}", answers.len());
    println!("correct: {correct}");
    if let Some(first) = answers.first() {
        println!("first: {first:?}");
    }
    println!("peer: {peer_ended}");
    println!("peer-saw: {peer_saw}");
    println!("leaked-fds: {}", leaked.join(" "));
    Ok(())
}

/// The peer: answers each request line with the same line in capitals,
/// until end of file on the requests FIFO; then prints how many it
/// answered, so that replies made up without asking are caught.
fn reference_peer(requests: &Path, replies: &Path) -> Result<()> {
    let request_reader = open_within(requests, Access::Read, LIMIT)?;
    let reply_writer = open_within(replies, Access::Write, LIMIT)?;
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut answered = 0;
    loop {
        while let Some(newline) = pending.iter().position(|&byte| byte == b'\n')
        {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            write_all(&reply_writer, &line.to_ascii_uppercase())?;
            answered += 1;
        }
        if !wait_readable(request_reader.as_fd(), LIMIT)? {
            return Err("no request and no end of file for 10 s".into());
        }
        match read(&request_reader, &mut buffer)? {
            0 => {
                println!("requests: {answered}");
                return Ok(());
            }
            n => pending.extend_from_slice(&buffer[..n]),
        }
    }
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        let written = write(fd, bytes)?;
        bytes = &bytes[written..];
    }
    Ok(())
}
