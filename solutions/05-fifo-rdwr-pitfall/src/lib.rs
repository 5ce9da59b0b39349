//! Exercise 05 — request and reply over two FIFOs: the reference solution.

use std::error::Error;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use labkit::fifo::{Access, open_within};
use labkit::watchdog::wait_readable;
use nix::unistd::{read, write};

/// How long an open, or the wait for one reply, may take.
const LIMIT: Duration = Duration::from_secs(10);

/// Sends each message as a line on `requests`, reads one reply line from
/// `replies` after each, and returns the replies in order.
pub fn request_reply(
    requests: &Path,
    replies: &Path,
    messages: &[&str],
) -> Result<Vec<String>, Box<dyn Error>> {
    // Added: one FIFO per direction, opened in the peer's order.
    let request_writer = open_within(requests, Access::Write, LIMIT)?;
    let reply_reader = open_within(replies, Access::Read, LIMIT)?;
    let mut pending = Vec::new();
    let mut answers = Vec::new();
    for message in messages {
        write_all(&request_writer, format!("{message}\n").as_bytes())?;
        answers.push(read_line(&reply_reader, &mut pending)?);
    }
    // Both descriptors close here: the peer reads end of file on requests.
    Ok(answers)
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        let written = write(fd, bytes)?;
        bytes = &bytes[written..];
    }
    Ok(())
}

/// The next line from `fd`; bytes after it stay in `pending` for next time.
fn read_line(
    fd: &OwnedFd,
    pending: &mut Vec<u8>,
) -> Result<String, Box<dyn Error>> {
    let mut buffer = [0u8; 512];
    loop {
        if let Some(newline) = pending.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = pending.drain(..=newline).collect();
            return Ok(String::from_utf8_lossy(&line[..newline]).into_owned());
        }
        if !wait_readable(fd.as_fd(), LIMIT)? {
            return Err("no reply within 10 s".into());
        }
        match read(fd, &mut buffer)? {
            0 => {
                return Err(
                    "the peer closed the replies FIFO before replying".into()
                );
            }
            n => pending.extend_from_slice(&buffer[..n]),
        }
    }
}
