//! The report pipe: each writer's standard error, shared by all of them.
//! A writer says `ready K PID` once it has the FIFO open, then
//! `done K writes=W partial=P eagain=E [first=TOOK/OF]`, or `error K: ...`;
//! the reader waits for every writer's word, each wait bounded, and with
//! `--nonblocking` adds up the partial writes the writers counted.

use std::os::fd::{AsFd, OwnedFd};

use labkit::Speaker::{Child as Writer, Kernel, Note};
use labkit::cli::failed;
use labkit::say;
use labkit::watchdog::wait_readable;
use nix::unistd::read;

use crate::{PATIENCE, Result};

/// The report pipe, read line by line: `ready K PID`, then
/// `done K writes=W partial=P eagain=E [first=TOOK/OF]`, or `error K: ...`.
pub struct Reports {
    fd: OwnedFd,
    pending: Vec<u8>,
    done: Vec<String>,
}

impl Reports {
    pub fn new(fd: OwnedFd) -> Reports {
        Reports { fd, pending: Vec::new(), done: Vec::new() }
    }

    /// Reads lines until `count` of them start with `word`. A writer's
    /// error is passed on; end of file first means a writer died.
    pub fn until_all(&mut self, count: u32, word: &str) -> Result<u32> {
        let mut seen = 0;
        while seen < count {
            let Some(line) = self.next_line()? else {
                return Err(format!(
                    "the report pipe closed after {seen} of {count} \
                     writers said {word:?}"
                )
                .into());
            };
            if line.starts_with(word) {
                seen += 1;
                if word == "done" {
                    self.done.push(line);
                }
            } else {
                say!(Writer, "{line}");
            }
        }
        Ok(seen)
    }

    fn next_line(&mut self) -> Result<Option<String>> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                let text = String::from_utf8_lossy(&line[..end]);
                return Ok(Some(text.into_owned()));
            }
            if !wait_readable(self.fd.as_fd(), PATIENCE)
                .map_err(failed("poll"))?
            {
                return Err("no word from the writers for 20 s".into());
            }
            let mut buffer = [0u8; 4096];
            match read(&self.fd, &mut buffer).map_err(failed("read"))? {
                0 => return Ok(None),
                n => self.pending.extend_from_slice(&buffer[..n]),
            }
        }
    }

    // ANCHOR: partial-writes
    /// With --nonblocking: how many writes went in partly.
    pub fn show_partial_writes(&self, pipe_buf: usize, record_size: usize) {
        let (mut writes, mut partial, mut eagain) = (0u64, 0u64, 0u64);
        let mut example = None;
        for line in &self.done {
            writes += field(line, "writes=");
            partial += field(line, "partial=");
            eagain += field(line, "eagain=");
            if example.is_none() {
                example = line.split_once("first=").map(|(_, f)| f.to_string());
            }
        }
        say!(
            Kernel,
            "O_NONBLOCK: {writes} write() calls, {partial} partial writes, \
             {eagain} EAGAIN"
        );
        if let Some(example) = example {
            let (took, of) = example.split_once('/').unwrap_or(("?", "?"));
            say!(
                Kernel,
                "e.g. a write() of {of} bytes took {took} and returned: \
                 the rest went in later"
            );
        }
        if record_size <= pipe_buf {
            say!(
                Note,
                "at most PIPE_BUF: each write went in whole, or failed with \
                 EAGAIN and\nwrote nothing; never a part"
            );
        } else if partial == 0 {
            say!(
                Note,
                "above PIPE_BUF, yet no partial write this time: nothing \
                 promised that"
            );
        } else {
            say!(
                Note,
                "above PIPE_BUF, a non-blocking write takes what fits and \
                 returns the count:\na partial write, and the rest of the \
                 record waits for the next write()"
            );
        }
    }
    // ANCHOR_END: partial-writes
}

/// The number after `name` in a `done` line, 0 if absent.
fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}
