//! The tests of exercise 06 (the one copy: the reference solution runs this
//! same file). Most run the exercise's own program as a subprocess with a
//! time limit: it starts real writer processes that write into one pipe at
//! once, and reads the pipe with `read_records`. The rest give
//! `read_records` streams made here, on a thread with a time limit, many
//! of them, shuffled by a seeded generator (the same streams every run).

use std::io::Read;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use ex06_pipe_buf_atomicity::{
    FRAME_HEADER, Record, Tally, frame, read_records,
};
use labkit::exercise::{Report, run_scenario};

/// The exercise's runner (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// A scenario that decides by scheduling gets this many runs.
const TRIES: usize = 5;

fn scenario(name: &str) -> Report {
    run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(30),
        "Does read_records stop when read() returns 0 (end of file)? And \
         does every step of its loop move on, even past a bad frame?",
    )
}

/// The runner's checks that hold in every scenario.
#[track_caller]
fn no_false_records(report: &Report) {
    assert_eq!(
        report["bodies"], "ok",
        "a record listed as whole must hold exactly what its writer sent: \
         check every frame with FrameHeader::holds, and join the payloads \
         in index order"
    );
    assert_eq!(
        report.number("listed twice"),
        0,
        "each record is listed once: whole, or torn, never both (a torn \
         record stays torn) {report:?}"
    );
}

#[test]
fn small_records_from_six_writers_all_arrive_whole() {
    let report = scenario("small");
    assert_eq!(
        report.number("whole"),
        180,
        "6 writers × 30 records, each one write() below PIPE_BUF: every \
         record is whole. Keep the bytes of a frame that is not all there \
         yet for the next read {report:?}"
    );
    assert_eq!(report.number("torn"), 0, "{report:?}");
    assert_eq!(report.number("skipped"), 0, "{report:?}");
    assert_eq!(report["in order"], "yes", "{report:?}");
    no_false_records(&report);
}

#[test]
fn an_empty_stream_holds_no_records() {
    let report = scenario("empty");
    assert_eq!(
        (report.number("whole"), report.number("torn")),
        (0, 0),
        "{report:?}"
    );
}

#[test]
fn records_far_above_pipe_buf_written_whole_are_caught_torn() {
    // Eight writers, each record one write() of 100022 bytes: more than
    // the pipe holds, so each writer waits for room mid-record, and another
    // writer's bytes come in first. Nearly always; a run can be lucky (the
    // scheduler may let each writer finish first), so it gets a few runs.
    let mut torn = Vec::new();
    for _ in 0..TRIES {
        let report = scenario("torn");
        no_false_records(&report);
        assert!(
            report.number("whole") + report.number("torn") <= 80,
            "{report:?}"
        );
        let count = report.number("torn");
        if count > 0 {
            return;
        }
        torn.push(count);
    }
    panic!(
        "{TRIES} runs of 8 writers with 100022-byte frames, and read_records \
         never found a torn record ({torn:?}): a frame whose checksum fails \
         (FrameHeader::holds is false) makes its record torn"
    );
}

#[test]
fn framed_records_from_eight_writers_all_arrive_whole() {
    let report = scenario("framed");
    no_false_records(&report);
    assert_eq!(
        report.number("torn"),
        0,
        "write_record's frames were torn: is each frame at most pipe_buf \
         bytes, header included, and written with one write()? {report:?}"
    );
    assert_eq!(
        report.number("whole"),
        80,
        "8 writers × 10 records of 100000 bytes, framed: every record should \
         be put back together {report:?}"
    );
    assert_eq!(
        report["in order"], "yes",
        "each writer's records in the order it wrote them {report:?}"
    );
}

#[test]
fn write_record_keeps_every_frame_within_pipe_buf() {
    let report = scenario("frames");
    let pipe_buf = report.number("pipe-buf");
    assert!(
        report.number("largest frame") <= pipe_buf,
        "a frame of {} bytes is larger than PIPE_BUF ({pipe_buf}): count \
         the {FRAME_HEADER}-byte header in {report:?}",
        report.number("largest frame")
    );
    assert_eq!(
        report["walk"], "ok",
        "the runner read your frames one after the other: build each with \
         frame(record, index, count, payload)"
    );
    assert_eq!(
        report.number("frames"),
        report.number("expected frames"),
        "as few frames as pipe_buf allows, and one for an empty body \
         {report:?}"
    );
}

// The streams below are made here and handed to read_records directly.

/// Runs `read_records` over `stream`, served in pieces of the given sizes,
/// on a thread of its own with a time limit.
fn read_in_pieces(stream: Vec<u8>, pieces: Vec<usize>) -> Tally {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut input = Pieces {
            stream,
            pieces,
            at: 0,
            turn: 0,
        };
        let _ = sender.send(read_records(&mut input));
    });
    match receiver.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(tally)) => tally,
        Ok(Err(error)) => panic!("read_records returned an error: {error}"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "read_records did not return within 10 s: does it stop when \
             read() returns 0, and does each turn of its loop move on?"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("read_records panicked (its message is above)")
        }
    }
}

/// A reader that returns the stream in pieces of chosen sizes, as a pipe
/// does when writers and reader take turns.
struct Pieces {
    stream: Vec<u8>,
    pieces: Vec<usize>,
    at: usize,
    turn: usize,
}

impl Read for Pieces {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let want = self.pieces[self.turn % self.pieces.len()].max(1);
        self.turn += 1;
        let n = want.min(buffer.len()).min(self.stream.len() - self.at);
        buffer[..n].copy_from_slice(&self.stream[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A small seeded generator (xorshift): the same streams on every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Writers' records cut into frames of at most `room` body bytes, the
/// frames of all writers shuffled together but each writer's kept in its
/// order: what a pipe delivers when every frame is one atomic write.
fn interleaved(
    dice: &mut Dice,
    writers: u16,
    room: usize,
) -> (Vec<u8>, Vec<Record>) {
    let mut queues: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut records = Vec::new();
    for writer in 1..=writers {
        let mut frames = Vec::new();
        for seq in 0..1 + dice.below(4) as u32 {
            let len = dice.below(3 * room);
            let body: Vec<u8> =
                (0..len).map(|_| dice.below(256) as u8).collect();
            let record = Record { writer, seq, body };
            let chunks: Vec<&[u8]> = if record.body.is_empty() {
                vec![&[]]
            } else {
                record.body.chunks(room).collect()
            };
            let count = chunks.len() as u16;
            for (index, chunk) in (0..count).zip(&chunks) {
                frames.push(frame(&record, index, count, chunk));
            }
            records.push(record);
        }
        frames.reverse(); // popped from the back: first frame first
        queues.push(frames);
    }
    let mut stream = Vec::new();
    while queues.iter().any(|queue| !queue.is_empty()) {
        let writer = dice.below(queues.len());
        if let Some(frame) = queues[writer].pop() {
            stream.extend(frame);
        }
    }
    (stream, records)
}

fn pieces(dice: &mut Dice) -> Vec<usize> {
    (0..5).map(|_| 1 + dice.below(300)).collect()
}

fn sorted(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by_key(|record| (record.writer, record.seq));
    records
}

#[test]
fn frames_shuffled_between_writers_still_make_whole_records() {
    let mut dice = Dice(0x5eed_0006);
    for case in 0..200 {
        let writers = 1 + dice.below(5) as u16;
        let (stream, records) = interleaved(&mut dice, writers, 40);
        let tally = read_in_pieces(stream, pieces(&mut dice));
        assert!(
            tally.torn.is_empty(),
            "case {case}: frames of several writers, shuffled but never cut: \
             no record is torn, yet read_records said {:?}",
            tally.torn
        );
        assert_eq!(
            sorted(tally.whole),
            sorted(records),
            "case {case}: every record whole, its payloads joined in index \
             order (frames of other writers come in between)"
        );
        assert_eq!(tally.skipped, 0, "case {case}: no byte to skip");
    }
}

#[test]
fn bytes_between_frames_are_skipped_and_counted() {
    let mut dice = Dice(0x5eed_0106);
    for case in 0..100 {
        let (stream, records) = interleaved(&mut dice, 2, 30);
        let junk: Vec<u8> = (0..1 + dice.below(50)).map(|_| b'P').collect();
        let mut with_junk = junk.clone();
        with_junk.extend(stream);
        with_junk.extend(b"PB");
        let tally = read_in_pieces(with_junk, pieces(&mut dice));
        assert_eq!(sorted(tally.whole), sorted(records), "case {case}");
        assert_eq!(
            tally.skipped,
            junk.len() + 2,
            "case {case}: {} bytes before the first MAGIC and 2 after the \
             last frame are not part of any frame",
            junk.len()
        );
    }
}

#[test]
fn a_damaged_or_missing_frame_tears_its_record_only() {
    let mut dice = Dice(0x5eed_0206);
    for case in 0..100 {
        let first = Record {
            writer: 1,
            seq: 0,
            body: (0..90).map(|i| i as u8).collect(),
        };
        let second = Record {
            writer: 2,
            seq: 0,
            body: vec![7; 25],
        };
        let frames: Vec<Vec<u8>> = first
            .body
            .chunks(30)
            .zip(0..)
            .map(|(chunk, index)| frame(&first, index, 3, chunk))
            .collect();
        let mut stream = Vec::new();
        let damage = dice.below(3);
        match dice.below(3) {
            // Another writer's whole frame lands inside frame `damage`.
            0 => {
                for (index, bytes) in frames.iter().enumerate() {
                    if index == damage {
                        let cut = FRAME_HEADER + 1 + dice.below(28);
                        stream.extend(&bytes[..cut]);
                        stream.extend(frame(&second, 0, 1, &second.body));
                        stream.extend(&bytes[cut..]);
                    } else {
                        stream.extend(bytes);
                    }
                }
            }
            // Frame `damage` never arrives.
            1 => {
                for (index, bytes) in frames.iter().enumerate() {
                    if index != damage {
                        stream.extend(bytes);
                    }
                }
                stream.extend(frame(&second, 0, 1, &second.body));
            }
            // The stream ends in the middle of the last frame.
            _ => {
                stream.extend(frame(&second, 0, 1, &second.body));
                for bytes in &frames {
                    stream.extend(bytes);
                }
                stream.truncate(stream.len() - 1 - dice.below(20));
            }
        }
        let tally = read_in_pieces(stream, pieces(&mut dice));
        assert_eq!(
            tally.torn,
            [(1, 0)],
            "case {case}: writer 1's record lost a frame or had one cut \
             into: it is torn, and listed once"
        );
        assert_eq!(
            tally.whole,
            std::slice::from_ref(&second),
            "case {case}: writer 2's frame arrived whole, even where it sat \
             inside writer 1's: after a bad frame, skip only its MAGIC"
        );
    }
}
