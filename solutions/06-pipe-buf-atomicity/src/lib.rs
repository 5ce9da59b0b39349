//! Exercise 06 — many writers, one pipe: the reference solution.
//!
//! `write_record` cuts a record into frames of at most PIPE_BUF bytes, each
//! one `write`, so no other writer's bytes can land inside a frame;
//! `read_records` finds the frames in the byte stream, checks each, and
//! puts every record back together.

use std::collections::{HashMap, HashSet};
use std::io::{ErrorKind, Read};
use std::os::fd::BorrowedFd;

use nix::errno::Errno;

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

/// Writes `record` to `out` (a blocking pipe or FIFO shared with other
/// writers) as frames of at most `pipe_buf` bytes each, header included,
/// one `write` per frame. Returns how many frames it wrote.
pub fn write_record(
    out: BorrowedFd<'_>,
    record: &Record,
    pipe_buf: usize,
) -> nix::Result<usize> {
    // The room a frame leaves for the body, once its header is counted.
    let room = pipe_buf.checked_sub(FRAME_HEADER).filter(|&room| room > 0);
    let room = room.ok_or(Errno::EINVAL)?;
    let chunks: Vec<&[u8]> = if record.body.is_empty() {
        vec![&[]]
    } else {
        record.body.chunks(room).collect()
    };
    let count = u16::try_from(chunks.len()).map_err(|_| Errno::EINVAL)?;
    for (index, chunk) in (0..count).zip(&chunks) {
        let bytes = frame(record, index, count, chunk);
        // At most PIPE_BUF bytes: the kernel writes all of them at once,
        // with no other writer's bytes inside, or (full pipe) waits.
        let written = loop {
            match nix::unistd::write(out, &bytes) {
                Err(Errno::EINTR) => continue,
                other => break other?,
            }
        };
        if written != bytes.len() {
            // Cannot happen on a blocking pipe at or below PIPE_BUF; writing
            // the rest now would no longer be atomic.
            return Err(Errno::EIO);
        }
    }
    Ok(chunks.len())
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

/// A record being put back together.
struct Pending {
    next_index: u16,
    count: u16,
    body: Vec<u8>,
}

/// Reads `input` until end of file, finds the frames in it, and puts the
/// records back together.
pub fn read_records(input: &mut impl Read) -> std::io::Result<Tally> {
    let mut tally = Tally::default();
    let mut pending: HashMap<(u16, u32), Pending> = HashMap::new();
    let mut torn: Vec<(u16, u32)> = Vec::new();
    let mut whole: HashSet<(u16, u32)> = HashSet::new();
    let mut buffer: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 65536];
    let mut at_end = false;
    while !at_end {
        match input.read(&mut chunk) {
            Ok(0) => at_end = true,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(error) if error.kind() == ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        let mut at = 0;
        loop {
            let Some(start) = find_magic(&buffer, at) else {
                // Keep the last 3 bytes: they may be the start of a MAGIC.
                let keep = if at_end { 0 } else { 3 };
                let cut = buffer.len().saturating_sub(keep).max(at);
                tally.skipped += cut - at;
                at = cut;
                break;
            };
            tally.skipped += start - at;
            at = start;
            let Some(header) = FrameHeader::parse(&buffer[at..]) else {
                if at_end {
                    at += 1; // a header cut short by the end: not a frame
                    tally.skipped += 1;
                    continue;
                }
                break; // wait for the rest of the header
            };
            let end = at + FRAME_HEADER + header.len as usize;
            if end > buffer.len() && !at_end {
                break; // wait for the rest of the frame
            }
            let id = (header.writer, header.seq);
            let payload = &buffer[at + FRAME_HEADER..end.min(buffer.len())];
            if !header.holds(payload) {
                // Torn, or cut short: skip its MAGIC only, since another
                // writer's frame may start inside it.
                // A record already whole stays whole: this header was hit.
                if !whole.contains(&id) {
                    mark_torn(&mut torn, &mut pending, id);
                }
                at += MAGIC.len();
                tally.skipped += MAGIC.len();
                continue;
            }
            at = end;
            if torn.contains(&id) || whole.contains(&id) {
                continue; // the rest of a record already judged
            }
            let record = pending.entry(id).or_insert_with(|| Pending {
                next_index: 0,
                count: header.count,
                body: Vec::new(),
            });
            if header.index != record.next_index || header.count != record.count
            {
                mark_torn(&mut torn, &mut pending, id);
                continue;
            }
            record.body.extend_from_slice(payload);
            record.next_index += 1;
            if record.next_index == record.count {
                let done =
                    pending.remove(&id).map(|p| p.body).unwrap_or_default();
                whole.insert(id);
                tally.whole.push(Record {
                    writer: id.0,
                    seq: id.1,
                    body: done,
                });
            }
        }
        buffer.drain(..at);
    }
    // Records still missing frames at end of file are torn too.
    let unfinished: Vec<_> = pending.keys().copied().collect();
    for id in unfinished {
        mark_torn(&mut torn, &mut pending, id);
    }
    tally.torn = torn;
    Ok(tally)
}

fn mark_torn(
    torn: &mut Vec<(u16, u32)>,
    pending: &mut HashMap<(u16, u32), Pending>,
    id: (u16, u32),
) {
    pending.remove(&id);
    if !torn.contains(&id) {
        torn.push(id);
    }
}

fn find_magic(bytes: &[u8], from: usize) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(MAGIC.len())
        .position(|window| window == MAGIC)
        .map(|found| from + found)
}
