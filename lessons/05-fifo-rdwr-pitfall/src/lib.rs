//! Lesson 05 — what `fifo-rdwr` and `rdwr-peer` share: the protocol (one
//! line per request, one line per reply) and a line reader whose every wait
//! has a limit.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use labkit::watchdog::wait_readable;
use nix::unistd::{read, write};

pub mod bare;

/// The reply to a request: the same line in capitals, so that every reply
/// names the request it answers.
pub fn reply_to(request: &str) -> String {
    request.to_uppercase()
}

/// Reads newline-ended lines from a FIFO, never waiting longer than asked.
pub struct Lines {
    fd: OwnedFd,
    pending: Vec<u8>,
}

/// What one bounded wait for a line brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A whole line, without its newline.
    Text(String),
    /// End of file: every writer has closed the FIFO.
    End,
    /// Nothing came within the limit.
    Nothing,
}

impl Lines {
    pub fn new(fd: OwnedFd) -> Lines {
        Lines { fd, pending: Vec::new() }
    }

    /// The next line, end of file, or nothing within `limit`.
    pub fn next_within(&mut self, limit: Duration) -> nix::Result<Line> {
        let mut buffer = [0u8; 4096];
        loop {
            if let Some(newline) =
                self.pending.iter().position(|&byte| byte == b'\n')
            {
                let line: Vec<u8> = self.pending.drain(..=newline).collect();
                let text =
                    String::from_utf8_lossy(&line[..newline]).into_owned();
                return Ok(Line::Text(text));
            }
            if !wait_readable(self.fd.as_fd(), limit)? {
                return Ok(Line::Nothing);
            }
            match read(&self.fd, &mut buffer)? {
                0 => return Ok(Line::End),
                n => self.pending.extend_from_slice(&buffer[..n]),
            }
        }
    }
}

/// Writes `text` and a newline with one `write`: at most PIPE_BUF bytes are
/// written all at once, never mixed with another writer's.
pub fn send_line(fd: &OwnedFd, text: &str) -> nix::Result<()> {
    let line = format!("{text}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        let written = write(fd, rest)?;
        rest = &rest[written..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_whole_and_end_of_file_is_seen() {
        let (reader, writer) = nix::unistd::pipe().unwrap();
        send_line(&writer, "one").unwrap();
        nix::unistd::write(&writer, b"tw").unwrap();
        let mut lines = Lines::new(reader);
        let limit = Duration::from_millis(50);
        assert_eq!(lines.next_within(limit), Ok(Line::Text("one".into())));
        assert_eq!(lines.next_within(limit), Ok(Line::Nothing));
        nix::unistd::write(&writer, b"o\n").unwrap();
        assert_eq!(lines.next_within(limit), Ok(Line::Text("two".into())));
        drop(writer); // the only writer: the next read is end of file
        assert_eq!(lines.next_within(limit), Ok(Line::End));
    }

    #[test]
    fn a_reply_names_its_request() {
        assert_eq!(reply_to("request 3 of 5"), "REQUEST 3 OF 5");
    }
}
