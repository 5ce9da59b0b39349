//! Exercise 04 — cut messages out of a FIFO's byte stream.
//!
//! A FIFO carries bytes, not messages: one `read` may return half a message,
//! or three messages and the start of a fourth. Complete [`read_messages`]:
//! read everything from `source` until end of file, and cut it into
//! messages by the agreed framing. Lesson 04 (`cargo lab run 4`) and its
//! chapter in the book show the three framings.
//!
//! Check your work with `cargo lab check 4`; ask for a hint with
//! `cargo lab hint 4`.

use std::io::{self, Read};

/// How messages are marked in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with a newline, b'\n' (not part of the message).
    Line,
    /// Each message is exactly this many bytes; NUL bytes at its end are
    /// padding, not part of the message (the classic `"end\0"` is `end`).
    Fixed(usize),
    /// Each message is preceded by its length: 4 bytes, big-endian.
    LengthPrefixed,
}

/// What came out of the stream.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Every whole message, in order, without its framing.
    pub messages: Vec<Vec<u8>>,
    /// The bytes of a frame begun but not finished at end of file (a writer
    /// that left mid-message); empty if the stream ended cleanly.
    pub partial: Vec<u8>,
}

/// Reads `source` until end of file (`read` returns 0) and returns every
/// message in it, framed as `framing` says, plus what is left of an
/// unfinished frame.
///
/// Rules:
/// - Do not assume one `read` is one message: the test's writer splits its
///   messages across writes, and puts several in one.
/// - Keep reading until end of file: the stream may be larger than a FIFO
///   holds (64 KiB).
/// - A read interrupted by a signal (`ErrorKind::Interrupted`) is tried
///   again; any other error is returned.
pub fn read_messages(
    source: &mut impl Read,
    framing: Framing,
) -> io::Result<Received> {
    // TODO: read into a buffer of your own until read() returns 0, and after
    // each read take every whole frame off the front of that buffer.
    let _ = (source, framing);
    todo!("read_messages")
}
