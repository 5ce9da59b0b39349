//! What the reader concludes once every record is in: per writer, how
//! many arrived whole and in order, and then why the run came out as it
//! did (within PIPE_BUF or above it, torn or, by luck, not).

use labkit::Speaker::{Note, Parent};
use labkit::say;

use crate::record::{self, Scanner};
use crate::{Args, torn};

/// Per writer: how many records arrived whole, and whether in order.
/// Returns the number of whole records.
pub fn tally(args: &Args, scanner: &Scanner) -> u64 {
    let mut whole_total = 0;
    let mut out_of_order = Vec::new();
    for id in 1..=args.writers {
        let mine: Vec<_> = scanner
            .found
            .iter()
            .filter(|found| found.header.writer == id)
            .collect();
        let whole = mine.iter().filter(|found| found.whole).count() as u64;
        let in_order =
            mine.windows(2).all(|w| w[0].header.seq < w[1].header.seq);
        if !in_order {
            out_of_order.push(id);
        }
        whole_total += whole;
        let letter = char::from(record::letter_of(id));
        say!(
            Parent,
            "writer {id} ({letter}): {} sent, {whole} whole, {} torn",
            args.records,
            u64::from(args.records) - whole
        );
    }
    if out_of_order.is_empty() {
        say!(
            Parent,
            "every writer's records arrived in the order it wrote them"
        );
    } else {
        say!(Parent, "out of order: the records of writers {out_of_order:?}");
    }
    whole_total
}

/// Why it came out as it did.
pub fn explain(
    atomic: bool,
    whole: u64,
    sent: u64,
    scanner: &Scanner,
    capacity: Option<usize>,
    record_size: usize,
) {
    if let Some((found, window)) = &scanner.first_torn {
        torn::show(found, window);
    }
    match (atomic, whole == sent) {
        (true, true) => say!(
            Note,
            "Each record was one write() of at most PIPE_BUF bytes: the \
             kernel puts\nsuch a write into the pipe all at once, or waits \
             until it has room for\nall of it. No other writer's bytes can \
             land inside it."
        ),
        (false, false) => say!(
            Note,
            "A write() of more than PIPE_BUF bytes goes in as room appears. \
             When the\npipe was full, the writer slept in the middle of its \
             record; the reader\nmade room, and another writer's write() \
             went in first. The kernel kept\nits promise: it never promised \
             more than PIPE_BUF."
        ),
        (false, true) => {
            say!(
                Note,
                "No record was torn, yet nothing promised it: above \
                 PIPE_BUF it is luck,\nor this kernel's way of doing \
                 things, and both can change."
            );
            if let Some(capacity) = capacity.filter(|&c| record_size <= c) {
                say!(
                    Note,
                    "Try a size that is not a multiple of the page (4097), \
                     or a pipe smaller\nthan the record: --pipe-size 4096 \
                     (this one holds {capacity} bytes)."
                );
            }
        }
        (true, false) => say!(
            Note,
            "Torn records at or below PIPE_BUF: the kernel broke its \
             promise, or a\nwriter did not write each record in one write()."
        ),
    }
}
