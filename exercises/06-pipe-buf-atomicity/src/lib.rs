//! Exercise 06 — many writers, one pipe.
//!
//! Several processes write records into one pipe, and one process reads
//! them. A `write` of at most PIPE_BUF bytes is atomic: no other writer's
//! bytes land inside it. A larger one is not: the kernel may put another
//! writer's bytes in the middle. So a record larger than PIPE_BUF is sent
//! as *frames*, each at most PIPE_BUF bytes, each one `write`, each with a
//! header that says whose record it belongs to and where, and a checksum.
//!
//! The frame format is given below (`MAGIC`, [`FrameHeader`], [`frame`]).
//! Complete two functions:
//!
//! - [`write_record`]: cut a record into frames of at most `pipe_buf`
//!   bytes, header included, and write each with one `write`.
//! - [`read_records`]: read the byte stream until end of file, find the
//!   frames in it, and put the records back together: each record whole,
//!   or torn (another writer's bytes cut into one of its frames, or a frame
//!   went missing).
//!
//! Lesson 06 (`cargo lab run 6`) shows records torn above PIPE_BUF, and
//! its chapter in the book explains why. Check your work with
//! `cargo lab check 6`; ask for a hint with `cargo lab hint 6`.

use std::io::Read;
use std::os::fd::BorrowedFd;

/// The four bytes that start every frame.
pub const MAGIC: [u8; 4] = *b"PBF1";

/// The length of a frame's header: MAGIC, then writer (u16), seq (u32),
/// index (u16), count (u16), len (u32) and checksum (u32), big-endian.
pub const FRAME_HEADER: usize = 22;

/// A record: writer `writer`'s record number `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub writer: u16,
    pub seq: u32,
    pub body: Vec<u8>,
}

/// What a frame's header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub writer: u16,
    pub seq: u32,
    /// This frame's place in its record: 0, 1, ..., count - 1.
    pub index: u16,
    /// How many frames the record has (at least 1).
    pub count: u16,
    /// How many bytes of the record's body follow the header.
    pub len: u32,
    /// FNV-1a over the header's fields (writer to len) and the body bytes.
    pub checksum: u32,
}

impl FrameHeader {
    /// Reads a header at the start of `bytes`: None if there are fewer
    /// than FRAME_HEADER bytes or they do not start with MAGIC. The
    /// checksum is read, not checked: see [`FrameHeader::holds`].
    pub fn parse(bytes: &[u8]) -> Option<FrameHeader> {
        let header = bytes.get(..FRAME_HEADER)?;
        if header[..4] != MAGIC {
            return None;
        }
        let u16_at =
            |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
        let u32_at = |at: usize| {
            u32::from_be_bytes([
                header[at],
                header[at + 1],
                header[at + 2],
                header[at + 3],
            ])
        };
        Some(FrameHeader {
            writer: u16_at(4),
            seq: u32_at(6),
            index: u16_at(10),
            count: u16_at(12),
            len: u32_at(14),
            checksum: u32_at(18),
        })
    }

    /// True if `payload` is this frame's body, unchanged.
    pub fn holds(&self, payload: &[u8]) -> bool {
        payload.len() == self.len as usize
            && self.index < self.count
            && checksum(&self.fields(), payload) == self.checksum
    }

    fn fields(&self) -> [u8; 14] {
        let mut fields = [0u8; 14];
        fields[..2].copy_from_slice(&self.writer.to_be_bytes());
        fields[2..6].copy_from_slice(&self.seq.to_be_bytes());
        fields[6..8].copy_from_slice(&self.index.to_be_bytes());
        fields[8..10].copy_from_slice(&self.count.to_be_bytes());
        fields[10..].copy_from_slice(&self.len.to_be_bytes());
        fields
    }
}

fn checksum(fields: &[u8], payload: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for &byte in fields.iter().chain(payload) {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// Frame `index` of `count` of `record`, carrying `payload`: header and
/// payload together, ready for one `write`.
pub fn frame(
    record: &Record,
    index: u16,
    count: u16,
    payload: &[u8],
) -> Vec<u8> {
    let mut header = FrameHeader {
        writer: record.writer,
        seq: record.seq,
        index,
        count,
        len: payload.len() as u32,
        checksum: 0,
    };
    header.checksum = checksum(&header.fields(), payload);
    let mut bytes = Vec::with_capacity(FRAME_HEADER + payload.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&header.fields());
    bytes.extend_from_slice(&header.checksum.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// Writes `record` to `out` (a blocking pipe or FIFO that other writers
/// share) as frames of at most `pipe_buf` bytes each, header included,
/// with one `write` per frame. Returns how many frames it wrote.
///
/// Rules:
/// - A frame is [`FRAME_HEADER`] bytes of header, then up to
///   `pipe_buf - FRAME_HEADER` bytes of the body. Use as few frames as that
///   allows; an empty body is one frame with no payload.
/// - Build each frame with [`frame`]`(record, index, count, payload)`:
///   index 0, 1, ..., count - 1, and count the number of frames.
/// - One `nix::unistd::write` per frame. A write of at most PIPE_BUF bytes
///   to a blocking pipe takes all of it; if it ever takes less, return
///   `Err(Errno::EIO)`: writing the rest in a second write would no longer
///   be atomic. Try again on `EINTR`; return any other error.
/// - `pipe_buf` too small to hold a header and one byte, or a record that
///   would need more than `u16::MAX` frames: `Err(Errno::EINVAL)`.
pub fn write_record(
    out: BorrowedFd<'_>,
    record: &Record,
    pipe_buf: usize,
) -> nix::Result<usize> {
    // TODO: cut record.body into chunks that leave room for the header,
    // and write each chunk as one frame, with one write().
    let _ = (out, record, pipe_buf);
    todo!("write_record: cut the record into frames of at most pipe_buf bytes")
}

/// What `read_records` found in the stream.
#[derive(Debug, Default)]
pub struct Tally {
    /// Every record whose frames all arrived whole and in order, in the
    /// order their last frames arrived.
    pub whole: Vec<Record>,
    /// (writer, seq) of every other record a frame header named: one with
    /// a bad frame, a missing frame, or frames still missing at the end.
    /// Each once, in any order.
    pub torn: Vec<(u16, u32)>,
    /// Bytes that were not part of any good frame.
    pub skipped: usize,
}

/// Reads `input` until end of file, finds the frames in it, and puts the
/// records back together.
///
/// Rules:
/// - Read until `read` returns 0, in pieces of any size: a frame may arrive
///   in several reads, and one read may hold many frames. Try again on
///   `ErrorKind::Interrupted`; return any other error.
/// - A frame starts with [`MAGIC`]. Bytes before a MAGIC are skipped (and
///   counted in `skipped`). [`FrameHeader::parse`] reads the header.
/// - A frame is good when all its `len` bytes of payload are there and
///   [`FrameHeader::holds`] says they are its own. A bad frame (torn:
///   another writer's bytes came inside it; or cut short by the end of
///   the stream) makes the record its header names torn. Skip only its
///   MAGIC and look on: a good frame of another writer may start inside it.
/// - A record is whole when its frames 0, 1, ..., count - 1 all arrive
///   good and in that order. A frame out of order, or a record still
///   missing frames at end of file, makes it torn. A torn record stays
///   torn: its later good frames are skipped. A whole record stays whole:
///   a bad frame that names it afterwards had its header hit, and is not
///   one of its frames.
pub fn read_records(input: &mut impl Read) -> std::io::Result<Tally> {
    // TODO: read into a buffer of your own until read() returns 0; after
    // each read, take every frame you can judge off the front of it.
    let _ = input;
    todo!("read_records: find the frames, check them, reassemble the records")
}
