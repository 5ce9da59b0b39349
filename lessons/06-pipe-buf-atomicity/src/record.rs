//! The records the writers send, and the reader that tells whole from torn.
//!
//! A record is printable, so that a torn one can be shown as it arrived:
//!
//! ```text
//! <w03 s000017 n0004096 c1f2e3d4c>ccccccccccccccc...ccc\n
//! ```
//!
//! a 32-byte header (writer 3, its record 17, 4096 bytes long, checksum),
//! then the writer's own letter (`a` for writer 1, `b` for writer 2, ...)
//! up to the last byte, a newline. The checksum covers the header's first
//! 21 bytes and the body, so a record that another writer's bytes cut into
//! cannot pass for whole.

/// The length of a record's header, `<w03 s000017 n0004096 c1f2e3d4c>`.
pub const HEADER_LEN: usize = 32;
/// The header's bytes the checksum covers: all of it up to ` c`.
const CHECKED_HEAD: usize = 21;
/// The smallest record: a header and the newline.
pub const MIN_RECORD: usize = HEADER_LEN + 1;
/// The largest record the lesson allows (the header has room for 7 digits).
pub const MAX_RECORD: usize = 1_000_000;

/// The letter that fills writer `writer`'s records (writers count from 1).
pub fn letter_of(writer: u32) -> u8 {
    b'a' + ((writer - 1) % 26) as u8
}

/// The writer a body letter belongs to, for display (modulo 26 writers).
pub fn writer_of_letter(letter: u8) -> Option<u32> {
    letter.is_ascii_lowercase().then(|| u32::from(letter - b'a') + 1)
}

/// FNV-1a, 32 bits: small, and any changed byte changes it.
fn checksum(parts: &[&[u8]]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for &byte in *part {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash
}

/// Record `seq` of writer `writer`, `size` bytes (MIN_RECORD..=MAX_RECORD).
pub fn encode(writer: u32, seq: u32, size: usize) -> Vec<u8> {
    let head = format!("<w{writer:02} s{seq:06} n{size:07}");
    let mut body = vec![letter_of(writer); size - HEADER_LEN];
    body[size - HEADER_LEN - 1] = b'\n';
    let sum = checksum(&[head.as_bytes(), &body]);
    let mut record = format!("{head} c{sum:08x}>").into_bytes();
    record.extend_from_slice(&body);
    record
}

/// What a header says: whose record, which one, how long, its checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub writer: u32,
    pub seq: u32,
    pub len: usize,
    sum: u32,
}

/// Reads a header at the start of `bytes` (at least HEADER_LEN of them).
pub fn parse_header(bytes: &[u8]) -> Option<Header> {
    let text = std::str::from_utf8(bytes.get(..HEADER_LEN)?).ok()?;
    let field = |at: usize, tag: &str, digits: usize| {
        let start = at + tag.len();
        text.get(at..start)
            .filter(|found| *found == tag)
            .and_then(|_| text.get(start..start + digits))
    };
    let number = |text: &str| text.parse::<u32>().ok();
    let writer = field(0, "<w", 2).and_then(number)?;
    let seq = field(4, " s", 6).and_then(number)?;
    let len = field(12, " n", 7).and_then(number)? as usize;
    let sum =
        field(21, " c", 8).and_then(|hex| u32::from_str_radix(hex, 16).ok())?;
    let whole_form = text.ends_with('>') && writer > 0;
    (whole_form && (MIN_RECORD..=MAX_RECORD).contains(&len)).then_some(Header {
        writer,
        seq,
        len,
        sum,
    })
}

// ANCHOR: is-whole
/// True if `window` (a header's record length of bytes, from the header
/// on) is that record, whole: its checksum holds and it ends in a newline.
pub fn is_whole(header: &Header, window: &[u8]) -> bool {
    window.len() == header.len
        && window.last() == Some(&b'\n')
        && checksum(&[&window[..CHECKED_HEAD], &window[HEADER_LEN..]])
            == header.sum
}
// ANCHOR_END: is-whole

/// One record found in the stream, whole or torn.
#[derive(Clone, Debug)]
pub struct Found {
    pub header: Header,
    /// Where its header starts in the stream.
    pub offset: u64,
    pub whole: bool,
}

/// Reads the byte stream as it comes, in pieces of any size, and finds the
/// records in it. A record is whole when the `len` bytes from its header on
/// are exactly that record. A torn record's header is followed by other
/// bytes (another writer's); its missing part comes later, and is skipped:
/// scanning goes on after the header to the next `<`.
#[derive(Default)]
pub struct Scanner {
    /// Bytes not yet judged; `buffer[0]` is at stream offset `offset`.
    buffer: Vec<u8>,
    offset: u64,
    /// Every record found so far, in the order their headers arrived.
    pub found: Vec<Found>,
    /// The first torn record's bytes as they arrived (its length's worth).
    pub first_torn: Option<(Found, Vec<u8>)>,
}

impl Scanner {
    /// Takes the next bytes from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        self.scan(false);
    }

    /// End of file: judges what is left (a record cut short is torn).
    pub fn finish(&mut self) {
        self.scan(true);
    }

    fn scan(&mut self, at_end: bool) {
        let mut at = 0;
        while let Some(start) = find_from(&self.buffer, at, b'<') {
            at = start;
            let rest = &self.buffer[at..];
            if rest.len() < HEADER_LEN && !at_end {
                break; // a header may be arriving: wait for more bytes
            }
            let Some(header) = parse_header(rest) else {
                at += 1; // not a header (or one cut into): look further
                continue;
            };
            if rest.len() < header.len && !at_end {
                break; // the record may still be arriving
            }
            let window = &rest[..header.len.min(rest.len())];
            let found = Found {
                header,
                offset: self.offset + at as u64,
                whole: is_whole(&header, window),
            };
            if !found.whole && self.first_torn.is_none() {
                self.first_torn = Some((found.clone(), window.to_vec()));
            }
            // A whole record is skipped at once; after a torn one's header
            // come other writers' bytes, which may hold whole records.
            at += if found.whole { header.len } else { HEADER_LEN };
            self.found.push(found);
        }
        let keep_from = if at_end {
            self.buffer.len()
        } else {
            find_from(&self.buffer, at, b'<').unwrap_or(self.buffer.len())
        };
        self.buffer.drain(..keep_from);
        self.offset += keep_from as u64;
    }
}

fn find_from(bytes: &[u8], from: usize, wanted: u8) -> Option<usize> {
    let tail = bytes.get(from..)?;
    tail.iter().position(|&b| b == wanted).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_whole() {
        let record = encode(3, 17, 100);
        assert_eq!(record.len(), 100);
        assert!(record.starts_with(b"<w03 s000017 n0000100 c"));
        let header = parse_header(&record).unwrap();
        assert_eq!((header.writer, header.seq, header.len), (3, 17, 100));
        assert!(is_whole(&header, &record));
    }

    #[test]
    fn records_in_pieces_are_found_whole() {
        let mut stream = encode(1, 0, 50);
        stream.extend(encode(2, 0, 70));
        let mut scanner = Scanner::default();
        for piece in stream.chunks(7) {
            scanner.push(piece);
        }
        scanner.finish();
        let whole: Vec<_> = scanner.found.iter().map(|f| f.whole).collect();
        assert_eq!(whole, [true, true]);
    }

    #[test]
    fn another_writers_bytes_inside_make_a_record_torn() {
        let first = encode(1, 0, 200);
        let second = encode(2, 0, 100);
        let mut stream = first[..80].to_vec();
        stream.extend(&second);
        stream.extend(&first[80..]);
        let mut scanner = Scanner::default();
        scanner.push(&stream);
        scanner.finish();
        let seen: Vec<_> =
            scanner.found.iter().map(|f| (f.header.writer, f.whole)).collect();
        assert_eq!(seen, [(1, false), (2, true)]);
        assert_eq!(scanner.first_torn.unwrap().1.len(), 200);
    }
}
