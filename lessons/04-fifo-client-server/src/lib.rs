//! Lesson 04 — what `fifo-server` and `fifo-client` agree on: framing.
//!
//! A FIFO carries bytes, not messages. Two `write`s of 4 bytes may come out
//! as one `read` of 8, and one `write` may come out in two `read`s. So the
//! two sides agree on how a message is marked in the stream, its framing:
//!
//! - `line`: each message ends with a newline (`echo` and `cat` speak this).
//! - `fixed`: each message is exactly `--size` bytes, padded with NUL bytes
//!   (the classic example's protocol: `ping` and `end\0`, 4 bytes each).
//! - `length`: each message is preceded by its length, 4 bytes big-endian.
//!
//! A frame that is written with one `write` of at most `PIPE_BUF` bytes is
//! never mixed with another writer's bytes: that is what keeps messages
//! whole when several clients share one FIFO.

use std::fmt;

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
}

/// The framing flags, shared by both programs so that they cannot disagree.
#[derive(Clone, Debug, clap::Args)]
pub struct FramingArgs {
    /// How a message is marked in the stream of bytes.
    #[arg(long, value_enum, default_value_t = Framing::Line)]
    pub framing: Framing,

    /// With --framing fixed: the size of every message in bytes.
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
        }
    }
    // ANCHOR_END: encode
}

/// A message that cannot be framed as asked.
#[derive(Debug, PartialEq, Eq)]
pub enum FramingError {
    NewlineInLine,
    TooLong { len: usize, size: usize },
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
            Framing::Line => None,
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
    fn a_newline_cannot_hide_inside_a_line() {
        assert_eq!(
            args(Framing::Line).encode(b"a\nb"),
            Err(FramingError::NewlineInLine)
        );
    }
}
