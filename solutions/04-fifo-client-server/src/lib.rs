//! Exercise 04 — cut messages out of a FIFO's byte stream: the reference
//! solution.

use std::io::{self, Read};

/// How messages are marked in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with a newline, b'\n' (not part of the message).
    Line,
    /// Each message is exactly this many bytes; NUL bytes at its end are
    /// padding, not part of the message.
    Fixed(usize),
    /// Each message is preceded by its length: 4 bytes, big-endian.
    LengthPrefixed,
}

/// What came out of the stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Every whole message, in order, without its framing.
    pub messages: Vec<Vec<u8>>,
    /// The bytes of a frame begun but not finished at end of file.
    pub partial: Vec<u8>,
}

/// Reads `source` until end of file and returns every message in it.
pub fn read_messages(
    source: &mut impl Read,
    framing: Framing,
) -> io::Result<Received> {
    let mut received = Received::default();
    // Added: our own buffer, because a read's boundaries mean nothing.
    let mut pending = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = match source.read(&mut buffer) {
            Ok(0) => break, // end of file: every writer has closed the FIFO
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {
                continue;
            }
            Err(error) => return Err(error),
        };
        pending.extend_from_slice(&buffer[..n]);
        while let Some((message, used)) = first_frame(&pending, framing) {
            received.messages.push(message);
            pending.drain(..used);
        }
    }
    received.partial = pending;
    Ok(received)
}

/// The first whole frame at the start of `bytes`: its message and its size.
fn first_frame(bytes: &[u8], framing: Framing) -> Option<(Vec<u8>, usize)> {
    match framing {
        Framing::Line => {
            let newline = bytes.iter().position(|&byte| byte == b'\n')?;
            Some((bytes[..newline].to_vec(), newline + 1))
        }
        Framing::Fixed(size) => {
            let frame = bytes.get(..size)?;
            let len = frame
                .iter()
                .rposition(|&byte| byte != 0)
                .map_or(0, |last| last + 1);
            Some((frame[..len].to_vec(), size))
        }
        Framing::LengthPrefixed => {
            let header: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
            let len = u32::from_be_bytes(header) as usize;
            Some((bytes.get(4..4 + len)?.to_vec(), 4 + len))
        }
    }
}
