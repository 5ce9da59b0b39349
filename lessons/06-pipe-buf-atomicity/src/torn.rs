//! A torn record shown as it arrived: whose bytes came where, side by side.

use labkit::Speaker::Kernel;
use labkit::say;

use crate::record::{Found, HEADER_LEN, parse_header, writer_of_letter};

/// A run of bytes in the window that came from one writer.
struct Run {
    writer: Option<u32>,
    start: usize,
    end: usize,
    /// How many record headers the run holds (a header starts a record).
    headers: usize,
}

/// Cuts `window` into runs of bytes by the writer they came from: a
/// header names its writer, a body letter is its writer's, and a newline
/// belongs to the letters before it.
fn runs(window: &[u8]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut at = 0;
    while at < window.len() {
        let (writer, len, header) = match parse_header(&window[at..]) {
            Some(header) => (Some(header.writer), HEADER_LEN, 1),
            None => {
                let byte = window[at];
                let writer = match (byte, runs.last()) {
                    (b'\n', Some(last)) => last.writer,
                    _ => writer_of_letter(byte),
                };
                (writer, 1, 0)
            }
        };
        match runs.last_mut() {
            Some(last) if last.writer == writer && header == 0 => {
                last.end = at + len;
            }
            Some(last) if last.writer == writer => {
                last.end = at + len;
                last.headers += 1;
            }
            _ => runs.push(Run {
                writer,
                start: at,
                end: at + len,
                headers: header,
            }),
        }
        at += len;
    }
    runs
}

// ANCHOR: side-by-side
/// Prints the first torn record's window: one row per run of bytes, in
/// the torn record's writer's column or in the other writers' column.
pub fn show(found: &Found, window: &[u8]) {
    let owner = found.header.writer;
    say!(
        Kernel,
        "the first torn record: writer {owner}'s record {}, {} bytes, \
         at byte {} of the stream",
        found.header.seq,
        found.header.len,
        found.offset
    );
    say!(Kernel, "the {} bytes from its header on:", window.len());
    say!(Kernel, "{:>9}  {:<26}{}", "offset", "its writer", "other writers");
    let all = runs(window);
    let shown = 12;
    for run in all.iter().take(shown) {
        let who = match (run.writer, window[run.start]) {
            (Some(writer), _) => format!("writer {writer}"),
            // A header cut short: its writer cannot be told yet.
            (None, b'<') => "a header's start".to_string(),
            (None, _) => "unknown".to_string(),
        };
        let what = match run.headers {
            0 if run.end - run.start == 1 => "1 byte".to_string(),
            0 => format!("{} bytes", run.end - run.start),
            1 => format!("header + {} bytes", run.end - run.start - HEADER_LEN),
            n => format!("{n} records, {} bytes", run.end - run.start),
        };
        if run.writer == Some(owner) {
            say!(Kernel, "{:>9}  {what}", run.start);
        } else {
            say!(Kernel, "{:>9}  {:<26}{who}: {what}", run.start, "");
        }
    }
    if all.len() > shown {
        say!(Kernel, "{:>9}  ... {} more runs", "", all.len() - shown);
    }
    let own: usize = all
        .iter()
        .filter(|run| run.writer == Some(owner))
        .map(|run| run.end - run.start)
        .sum();
    say!(
        Kernel,
        "{own} of those {} bytes are writer {owner}'s: the rest of its \
         record comes later",
        window.len()
    );
}
// ANCHOR_END: side-by-side
