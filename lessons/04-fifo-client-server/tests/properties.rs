//! The decoder's promise, for any stream: however the reads cut it, the
//! messages are those of the uncut stream; a stream cut short reports
//! exactly the bytes of the frame it was in. And `--framing read`, which
//! keeps no promise of the kind, at least loses and adds nothing.

use lesson04_fifo_client_server::{Framing, FramingArgs};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

/// Modest: the suite runs on two shared cores.
fn config() -> ProptestConfig {
    ProptestConfig::with_cases(128)
}

/// The framings that mark messages in the stream, with a size of 1 to 8.
fn framing() -> impl Strategy<Value = FramingArgs> {
    let framing = prop_oneof![
        Just(Framing::Line),
        Just(Framing::Fixed),
        Just(Framing::Length)
    ];
    (framing, 1u16..=8)
        .prop_map(|(framing, size)| FramingArgs { framing, size })
}

/// A message that `args` can carry and give back as it was: no newline
/// in a line, at most --size bytes and no trailing NUL (that is padding)
/// in a fixed frame.
fn fits(args: &FramingArgs, message: &[u8]) -> bool {
    match args.framing {
        Framing::Line => !message.contains(&b'\n'),
        Framing::Fixed => {
            message.len() <= usize::from(args.size)
                && message.last() != Some(&0)
        }
        Framing::Length => true,
        Framing::Read => !message.is_empty(),
    }
}

/// A framing and messages it can carry, made of few distinct bytes so
/// that newlines, NULs and lengths turn up often.
fn framed_messages() -> impl Strategy<Value = (FramingArgs, Vec<Vec<u8>>)> {
    let byte = prop_oneof![Just(0u8), Just(b'\n'), Just(b'a'), any::<u8>()];
    (framing(), vec(vec(byte, 0..10), 0..12)).prop_map(|(args, messages)| {
        let kept = messages.into_iter().filter(|m| fits(&args, m)).collect();
        (args, kept)
    })
}

/// `stream` cut at the given points: the reads a reader could see.
fn cut<'a>(stream: &'a [u8], points: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> =
        points.iter().map(|point| point.index(stream.len() + 1)).collect();
    at.extend([0, stream.len()]);
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|pair| &stream[pair[0]..pair[1]]).collect()
}

/// What a decoder makes of these reads: the messages, and the partial
/// frame left at the end.
fn decode(args: &FramingArgs, reads: &[&[u8]]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let mut decoder = args.decoder();
    let messages = reads.iter().flat_map(|bytes| decoder.push(bytes)).collect();
    (messages, decoder.partial().to_vec())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_stream_cut_anywhere_decodes_as_the_uncut_stream(
        args in framing(),
        stream in vec(prop_oneof![Just(0u8), Just(b'\n'), any::<u8>()], 0..64),
        points in vec(any::<Index>(), 0..16),
    ) {
        let whole = decode(&args, &[&stream]);
        prop_assert_eq!(decode(&args, &cut(&stream, &points)), whole);
    }

    #[test]
    fn encoded_messages_come_back_whatever_the_reads(
        (args, messages) in framed_messages(),
        points in vec(any::<Index>(), 0..16),
    ) {
        let stream: Vec<u8> =
            messages.iter().flat_map(|m| args.encode(m).unwrap()).collect();
        let (got, partial) = decode(&args, &cut(&stream, &points));
        prop_assert_eq!(got, messages);
        prop_assert!(partial.is_empty());
    }

    #[test]
    fn a_stream_cut_short_reports_exactly_the_partial_frame(
        (args, messages) in framed_messages(),
        end in any::<Index>(),
        points in vec(any::<Index>(), 0..16),
    ) {
        let frames: Vec<Vec<u8>> =
            messages.iter().map(|m| args.encode(m).unwrap()).collect();
        let stream = frames.concat();
        let end = end.index(stream.len() + 1);
        // The frames wholly before `end` come out; the rest is partial.
        let (mut whole, mut start) = (0, 0);
        while whole < frames.len() && start + frames[whole].len() <= end {
            start += frames[whole].len();
            whole += 1;
        }
        let (got, partial) = decode(&args, &cut(&stream[..end], &points));
        prop_assert_eq!(&got[..], &messages[..whole]);
        prop_assert_eq!(&partial[..], &stream[start..end]);
    }

    #[test]
    fn with_framing_read_the_messages_are_the_reads(
        size in 1u16..=8,
        stream in vec(any::<u8>(), 0..64),
        points in vec(any::<Index>(), 0..16),
    ) {
        // Each read of at most --size bytes is one message, as the server
        // reads: the cuts make the messages, nothing is lost or added.
        let args = FramingArgs { framing: Framing::Read, size };
        let reads: Vec<&[u8]> = cut(&stream, &points)
            .into_iter()
            .flat_map(|read| read.chunks(usize::from(size)))
            .collect();
        let (got, partial) = decode(&args, &reads);
        prop_assert_eq!(&got, &reads);
        prop_assert_eq!(got.concat(), stream);
        prop_assert!(partial.is_empty());
    }
}

#[test]
fn with_framing_read_other_cuts_make_other_messages() {
    // What no framing cannot promise: the same bytes, read differently.
    let args = FramingArgs { framing: Framing::Read, size: 4 };
    let written = decode(&args, &[b"hello", b"end"]).0;
    let piled_up = decode(&args, &[b"helloend"]).0;
    assert_eq!(written, [&b"hell"[..], b"o", b"end"]);
    assert_eq!(piled_up, [&b"hell"[..], b"oend"]);
}
