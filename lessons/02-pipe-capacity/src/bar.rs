//! The probe's progress bar: one `#` for each page of the pipe's buffer that
//! has filled up, 16 pages to a row (a default Linux pipe is one row).
//!
//! On a terminal the current row is redrawn in place as pages fill; in a
//! file or a pipe each row is printed once, when it is complete.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use labkit::Speaker::Kernel;
use labkit::narrate::format_line;
use labkit::say;

const PAGES_PER_ROW: usize = 16;

pub struct PageBar {
    page: usize,
    step_delay: Duration,
    live: bool,
    full_pages: usize,
}

impl PageBar {
    /// A bar for a buffer of `page`-byte pages that pauses `step_delay`
    /// after each page, so a person can watch it fill.
    pub fn new(page: usize, step_delay: Duration) -> Self {
        PageBar {
            page,
            step_delay,
            live: std::io::stdout().is_terminal(),
            full_pages: 0,
        }
    }

    /// Hears the running total after every write; draws when a page is full.
    pub fn update(&mut self, bytes: usize) {
        let full_pages = bytes / self.page;
        if full_pages == self.full_pages {
            return;
        }
        self.full_pages = full_pages;
        let row_is_complete = full_pages.is_multiple_of(PAGES_PER_ROW);
        if self.live {
            let mut out = std::io::stdout().lock();
            // Best-effort drawing: the probe's result does not depend on it.
            let _ = write!(out, "\r{}", format_line(Kernel, &self.row(bytes)));
            let _ = if row_is_complete { writeln!(out) } else { out.flush() };
        } else if row_is_complete {
            say(Kernel, self.row(bytes));
        }
        std::thread::sleep(self.step_delay);
    }

    /// Ends the last row, if the buffer stopped filling in the middle of one.
    pub fn finish(&mut self, bytes: usize) {
        if self.full_pages.is_multiple_of(PAGES_PER_ROW) {
            return;
        }
        if self.live {
            println!();
        } else {
            say(Kernel, self.row(bytes));
        }
    }

    /// "################  65536 bytes": the pages of the current row.
    fn row(&self, bytes: usize) -> String {
        let in_row = (self.full_pages - 1) % PAGES_PER_ROW + 1;
        format!(
            "{:<width$} {bytes:>8} bytes",
            "#".repeat(in_row),
            width = PAGES_PER_ROW
        )
    }
}
