//! `--show write-sizes`: the same pipe takes a different number of bytes
//! depending on how many each `write` carries.
//!
//! The buffer is a ring of pages. A write that leaves part of a page over
//! appends that part to the last page only if it fits there whole; otherwise
//! it starts a new page. So 1-byte and 4096-byte writes fill every byte, and
//! a large write that no longer fits is cut short to what does fit. But
//! 1000-byte writes leave 96 bytes of each page empty, and 4097-byte writes
//! leave whole pages nearly empty.

use std::os::fd::AsFd;

use labkit::Speaker::{Kernel, Note, Parent};
use labkit::say;

use crate::pipe::{Outcome, capacity, fill, new_pipe, set_nonblocking};

/// The sizes compared: 1, a page and the default capacity fill every byte;
/// 1000 and 4097 do not divide a page.
const WRITE_SIZES: [usize; 5] = [1, 1000, 4096, 4097, 65536];

// ANCHOR: write-sizes
pub fn show(page: usize) -> Outcome<()> {
    say!(Parent, "for each write size: a fresh pipe, made non-blocking,");
    say!(Parent, "filled until EAGAIN");
    for chunk in WRITE_SIZES {
        let (read_end, write_end) = new_pipe()?;
        let size = capacity(write_end.as_fd())?;
        set_nonblocking(write_end.as_fd())?;
        let filled = fill(write_end.as_fd(), chunk, |_| {})?;
        let short = match filled.short_writes {
            0 => String::new(),
            n => format!(" ({n} of them short)"),
        };
        let (bytes, writes) = (filled.bytes, filled.writes);
        let plural = if writes == 1 { "" } else { "s" };
        say!(
            Kernel,
            "{chunk:>5}-byte writes: {bytes:>5} of {size} in {writes:>5} \
             write{plural}{short}"
        );
        // Nobody will read these bytes: closing both ends discards them.
        drop((read_end, write_end));
    }
    say!(
        Note,
        "The buffer is a ring of pages ({page} bytes each). The part of a\n\
         write that does not make whole pages is appended to the last page\n\
         only if it fits there; otherwise it takes a page of its own. Four\n\
         1000-byte writes fill 4000 bytes of a page, the fifth starts the\n\
         next one. A 4097-byte write takes a page and 1 byte of the next. A\n\
         write larger than the room left is cut short (a partial write). So\n\
         a probe must write 1 byte at a time, or a size that divides the\n\
         page."
    );
    Ok(())
}
// ANCHOR_END: write-sizes
