//! Lesson 04 — what `fifo-server` and `fifo-client` agree on: framing.
//!
//! A FIFO carries bytes, not messages. Two `write`s of 4 bytes may come out
//! as one `read` of 8, and one `write` may come out in two `read`s. So the
//! two sides agree on how a message is marked in the stream, its framing:
//!
//! - `line`: each message ends with a newline (`echo` and `cat` speak this).
//! - `fixed`: each message is exactly `--size` bytes, padded with NUL bytes
//!   (a C program that writes 4-byte buffers: `ping` and `end\0`).
//! - `length`: each message is preceded by its length, 4 bytes big-endian.
//! - `read`: no marks at all: each `read()` of at most `--size` bytes is
//!   taken as one message. That is what the classic Python example relies
//!   on (`ping` 100 times, then the 3 bytes `end`): it works only while
//!   every write is one message of at most `--size` bytes and the reader
//!   takes each before the next comes in whole.
//!
//! A frame that is written with one `write` of at most `PIPE_BUF` bytes is
//! never mixed with another writer's bytes: that is what keeps messages
//! whole when several clients share one FIFO.

use std::fmt;

pub mod bare;

/// The last argument of `labkit::fifo::open`, named: add `O_NONBLOCK`, so
/// that the open itself never waits for the other side of the FIFO.
pub const NONBLOCKING: bool = true;

/// How messages are marked in the byte stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Framing {
    /// A newline ends each message.
    #[default]
    Line,
    /// Every message is exactly --size bytes, padded with NUL bytes.
    Fixed,
    /// A 4-byte big-endian length comes before each message.
    Length,
    /// No framing: each read() of at most --size bytes is one message.
    Read,
}

/// The framing flags, shared by both programs so that they cannot disagree.
#[derive(Clone, Debug, clap::Args)]
pub struct FramingArgs {
    /// How a message is marked in the stream of bytes.
    #[arg(long, value_enum, default_value_t = Framing::Line)]
    pub framing: Framing,

    /// With --framing fixed: the size of every message in bytes; with
    /// --framing read: the most one read() may take.
    #[arg(long, default_value_t = 4)]
    #[arg(value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub size: u16,
}

impl FramingArgs {
    /// The flags that select this framing, as they must be typed on a command
    /// line (empty for the default).
    pub fn as_flags(&self) -> String {
        match self.framing {
            Framing::Line => String::new(),
            Framing::Fixed => format!(" --framing fixed --size {}", self.size),
            Framing::Length => " --framing length".to_string(),
            Framing::Read => format!(" --framing read --size {}", self.size),
        }
    }

    /// How many bytes one `read` may take: a whole buffer, except with
    /// `read` framing, where the size of the read is the framing.
    pub fn read_size(&self, buffer: usize) -> usize {
        match self.framing {
            Framing::Read => usize::from(self.size).min(buffer),
            _ => buffer,
        }
    }

    /// A decoder for a stream framed this way.
    pub fn decoder(&self) -> Decoder {
        Decoder { args: self.clone(), pending: Vec::new() }
    }

    // ANCHOR: encode
    /// The bytes to write for one message: the whole frame, so that the
    /// client can send it with a single `write`.
    pub fn encode(&self, message: &[u8]) -> Result<Vec<u8>, FramingError> {
        match self.framing {
            Framing::Line if message.contains(&b'\n') => {
                Err(FramingError::NewlineInLine)
            }
            Framing::Line => Ok([message, b"\n"].concat()),
            Framing::Fixed => {
                let size = usize::from(self.size);
                if message.len() > size {
                    return Err(FramingError::TooLong {
                        len: message.len(),
                        size,
                    });
                }
                let mut frame = message.to_vec();
                frame.resize(size, 0);
                Ok(frame)
            }
            Framing::Length => {
                let len = u32::try_from(message.len()).map_err(|_| {
                    FramingError::TooLong {
                        len: message.len(),
                        size: u32::MAX as usize,
                    }
                })?;
                Ok([&len.to_be_bytes()[..], message].concat())
            }
            // The message as it is, and nothing else: the reader's read()
            // must cut the stream where our write did.
            Framing::Read if message.is_empty() => Err(FramingError::Empty),
            Framing::Read => Ok(message.to_vec()),
        }
    }
    // ANCHOR_END: encode
}

/// A message that cannot be framed as asked.
#[derive(Debug, PartialEq, Eq)]
pub enum FramingError {
    NewlineInLine,
    TooLong { len: usize, size: usize },
    Empty,
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::NewlineInLine => write!(
                f,
                "with --framing line, a newline ends a message: yours holds one"
            ),
            FramingError::TooLong { len, size } => {
                write!(
                    f,
                    "a message of {len} bytes does not fit a frame of {size}"
                )
            }
            FramingError::Empty => write!(
                f,
                "with --framing read, an empty message is no write at all"
            ),
        }
    }
}

impl std::error::Error for FramingError {}

// ANCHOR: decoder
/// Cuts a byte stream into messages, however the reads split it: bytes that
/// do not yet make a whole frame wait in `pending` for the next read.
pub struct Decoder {
    args: FramingArgs,
    pending: Vec<u8>,
}

impl Decoder {
    /// Adds the bytes of one `read` and returns every message they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.pending.extend_from_slice(bytes);
        let mut messages = Vec::new();
        while let Some((message, used)) = self.next_frame() {
            messages.push(message);
            self.pending.drain(..used);
        }
        messages
    }

    /// The first whole frame in `pending`: its message, and how many bytes
    /// the frame took.
    fn next_frame(&self) -> Option<(Vec<u8>, usize)> {
        let bytes = &self.pending;
        match self.args.framing {
            Framing::Line => {
                let end = bytes.iter().position(|&byte| byte == b'\n')?;
                Some((bytes[..end].to_vec(), end + 1))
            }
            Framing::Fixed => {
                let size = usize::from(self.args.size);
                let frame = bytes.get(..size)?;
                // The padding is not part of the message: "end\0" is "end".
                let len = frame
                    .iter()
                    .rposition(|&byte| byte != 0)
                    .map_or(0, |i| i + 1);
                Some((frame[..len].to_vec(), size))
            }
            Framing::Length => {
                let header: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
                let len = u32::from_be_bytes(header) as usize;
                let message = bytes.get(4..4 + len)?;
                Some((message.to_vec(), 4 + len))
            }
            // Whatever one read brought is a message: the bytes are never
            // kept for the next read, so nothing is ever partial. (Given
            // more than --size bytes, as from a larger read, they are what
            // reads of --size would have brought, one after the other.)
            Framing::Read => {
                let size = usize::from(self.args.size).min(bytes.len());
                (size > 0).then(|| (bytes[..size].to_vec(), size))
            }
        }
    }

    /// The bytes of a frame begun and not finished: what is left when the
    /// writer went away mid-message.
    pub fn partial(&self) -> &[u8] {
        &self.pending
    }

    /// How many bytes the unfinished frame should have had, when known.
    pub fn expected(&self) -> Option<usize> {
        match self.args.framing {
            Framing::Line | Framing::Read => None,
            Framing::Fixed => Some(usize::from(self.args.size)),
            Framing::Length => {
                let header: [u8; 4] = self.pending.get(..4)?.try_into().ok()?;
                Some(4 + u32::from_be_bytes(header) as usize)
            }
        }
    }
}
// ANCHOR_END: decoder

/// A message as narration shows it: text in quotes, escapes for the rest.
pub fn shown(message: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(framing: Framing) -> FramingArgs {
        FramingArgs { framing, size: 4 }
    }

    #[test]
    fn every_framing_round_trips_whatever_the_reads() {
        for framing in [Framing::Line, Framing::Fixed, Framing::Length] {
            let args = args(framing);
            let stream: Vec<u8> = [&b"ping"[..], b"end", b""]
                .iter()
                .flat_map(|message| args.encode(message).unwrap())
                .collect();
            // One byte per read: the worst split a reader can see.
            let mut decoder = args.decoder();
            let got: Vec<Vec<u8>> =
                stream.chunks(1).flat_map(|b| decoder.push(b)).collect();
            assert_eq!(got, [&b"ping"[..], b"end", b""], "{framing:?}");
            assert!(decoder.partial().is_empty());
        }
    }

    #[test]
    fn fixed_frames_are_padded_like_the_classic_end() {
        assert_eq!(args(Framing::Fixed).encode(b"end").unwrap(), b"end\0");
        assert_eq!(
            args(Framing::Fixed).encode(b"pings"),
            Err(FramingError::TooLong { len: 5, size: 4 })
        );
    }

    #[test]
    fn an_unfinished_frame_stays_partial() {
        let mut decoder = args(Framing::Length).decoder();
        assert!(decoder.push(b"\0\0\0\x05hel").is_empty());
        assert_eq!(decoder.partial(), b"\0\0\0\x05hel");
        assert_eq!(decoder.expected(), Some(9));
    }

    #[test]
    fn with_read_framing_each_read_is_a_message_however_it_was_written() {
        let args = args(Framing::Read);
        assert_eq!(args.encode(b"end").unwrap(), b"end", "no NUL, no newline");
        assert_eq!(args.encode(b""), Err(FramingError::Empty));
        assert_eq!(args.read_size(4096), 4);
        let mut decoder = args.decoder();
        // One write of "pingping" read 4 bytes at a time: two messages.
        assert_eq!(decoder.push(b"ping"), [b"ping"]);
        assert_eq!(decoder.push(b"ping"), [b"ping"]);
        // A short read is a short message, never kept for the next one.
        assert_eq!(decoder.push(b"pi"), [b"pi"]);
        assert!(decoder.partial().is_empty());
    }

    #[test]
    fn a_newline_cannot_hide_inside_a_line() {
        assert_eq!(
            args(Framing::Line).encode(b"a\nb"),
            Err(FramingError::NewlineInLine)
        );
    }
}
