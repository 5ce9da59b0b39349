//! The reference `read_messages`, for any stream: however the reads cut
//! it, and with reads interrupted by signals (EINTR) anywhere, it gives
//! the messages of the uncut stream; a stream cut short reports exactly
//! the bytes of the frame it was in.
//!
//! These call `read_messages` in the test process itself, with a reader
//! made of memory: fine for the solution, which cannot hang, and the
//! reason they are not in the exercise's tests, whose every call of the
//! student's code runs in a process of its own with a time limit.

use std::io::{self, Read};

use ex04_fifo_client_server::{Framing, Received, read_messages};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// Modest: the suite runs on two shared cores.
fn config() -> ProptestConfig {
    ProptestConfig::with_cases(128)
}

/// A reader that returns the stream in the given pieces, one per read
/// (a piece larger than the caller's buffer fills it), and fails with
/// `Interrupted` before each piece marked so.
struct Reads {
    pieces: Vec<(Vec<u8>, bool)>,
}

impl Read for Reads {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let Some((piece, interrupt)) = self.pieces.first_mut() else {
            return Ok(0); // end of file
        };
        if std::mem::take(interrupt) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = piece.len().min(buffer.len());
        buffer[..n].copy_from_slice(&piece[..n]);
        piece.drain(..n);
        if piece.is_empty() {
            self.pieces.remove(0);
        }
        Ok(n)
    }
}

/// `stream` cut at the given points, each piece interrupted or not.
fn reads(stream: &[u8], points: &[(Index, bool)]) -> Reads {
    let mut at: Vec<(usize, bool)> = points
        .iter()
        .map(|(point, eintr)| (point.index(stream.len() + 1), *eintr))
        .collect();
    at.extend([(0, false), (stream.len(), false)]);
    at.sort_unstable();
    at.dedup_by_key(|(point, _)| *point);
    let pieces = at
        .windows(2)
        .map(|pair| (stream[pair[0].0..pair[1].0].to_vec(), pair[0].1))
        .collect();
    Reads { pieces }
}

fn framing() -> impl Strategy<Value = Framing> {
    prop_oneof![
        Just(Framing::Line),
        (1usize..=8).prop_map(Framing::Fixed),
        Just(Framing::LengthPrefixed),
    ]
}

/// The frame of one message, as a writer would send it.
fn encode(framing: Framing, message: &[u8]) -> Vec<u8> {
    match framing {
        Framing::Line => [message, b"\n"].concat(),
        Framing::Fixed(size) => {
            let mut frame = message.to_vec();
            frame.resize(size, 0);
            frame
        }
        Framing::LengthPrefixed => {
            let len = u32::try_from(message.len()).unwrap().to_be_bytes();
            [&len[..], message].concat()
        }
    }
}

/// Whether `message` survives `framing` unchanged.
fn fits(framing: Framing, message: &[u8]) -> bool {
    match framing {
        Framing::Line => !message.contains(&b'\n'),
        Framing::Fixed(size) => {
            message.len() <= size && message.last() != Some(&0)
        }
        Framing::LengthPrefixed => true,
    }
}

fn framed_messages() -> impl Strategy<Value = (Framing, Vec<Vec<u8>>)> {
    let byte = prop_oneof![Just(0u8), Just(b'\n'), Just(b'a'), any::<u8>()];
    (framing(), vec(vec(byte, 0..10), 0..12)).prop_map(|(framing, all)| {
        (framing, all.into_iter().filter(|m| fits(framing, m)).collect())
    })
}

fn cuts() -> impl Strategy<Value = Vec<(Index, bool)>> {
    vec((any::<Index>(), prop::bool::weighted(0.2)), 0..16)
}

fn read_all(mut source: Reads, framing: Framing) -> Received {
    read_messages(&mut source, framing).expect("a memory reader never fails")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_stream_cut_anywhere_reads_as_the_uncut_stream(
        framing in framing(),
        stream in vec(prop_oneof![Just(0u8), Just(b'\n'), any::<u8>()], 0..64),
        points in cuts(),
    ) {
        let whole = read_all(reads(&stream, &[]), framing);
        prop_assert_eq!(read_all(reads(&stream, &points), framing), whole);
    }

    #[test]
    fn a_stream_cut_short_reports_exactly_the_partial_frame(
        (framing, messages) in framed_messages(),
        end in any::<Index>(),
        points in cuts(),
    ) {
        let frames: Vec<Vec<u8>> =
            messages.iter().map(|m| encode(framing, m)).collect();
        let stream = frames.concat();
        let end = end.index(stream.len() + 1);
        let (mut whole, mut start) = (0, 0);
        while whole < frames.len() && start + frames[whole].len() <= end {
            start += frames[whole].len();
            whole += 1;
        }
        let got = read_all(reads(&stream[..end], &points), framing);
        prop_assert_eq!(&got.messages[..], &messages[..whole]);
        prop_assert_eq!(&got.partial[..], &stream[start..end]);
    }
}

#[test]
fn a_stream_larger_than_one_buffer_is_read_to_its_end() {
    // One piece of 20 000 bytes: more than any one read takes.
    let stream = b"x\n".repeat(10_000);
    let got = read_all(reads(&stream, &[]), Framing::Line);
    assert_eq!(got.messages.len(), 10_000);
    assert!(got.partial.is_empty());
}
