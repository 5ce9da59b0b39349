//! Exercise 03 — a pipe nobody reads: the reference solution.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::unistd::write;

/// Describes a raw wait status word: "exited with code N" or
/// "killed by signal N (NAME)".
pub fn describe(raw_status: i32) -> String {
    // Added: the low 7 bits name the killing signal; 0x80 (core dumped) is
    // left out by the mask.
    let signal = raw_status & 0x7f;
    if signal == 0 {
        // Added: no signal, so bits 8-15 hold the exit code.
        return format!("exited with code {}", (raw_status >> 8) & 0xff);
    }
    let name = Signal::try_from(signal).map_or("unknown", Signal::as_str);
    format!("killed by signal {signal} ({name})")
}

/// What [`write_until_reader_leaves`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// How many bytes `write` accepted, in total, before writing stopped.
    pub bytes_written: usize,
    /// Why writing stopped early: `Some(Errno::EPIPE)` when the reader left
    /// (or any other error `write` returned); `None` when every byte of
    /// `data` was written.
    pub error: Option<Errno>,
}

/// Writes all of `data` to `fd`, however many `write` calls it takes, and
/// stops when the reader goes away.
pub fn write_until_reader_leaves(fd: BorrowedFd<'_>, data: &[u8]) -> Report {
    let mut bytes_written = 0;
    // Added: a write may take only part of the data; go on with the rest.
    while bytes_written < data.len() {
        match write(fd, &data[bytes_written..]) {
            Ok(count) => bytes_written += count,
            // Added: EPIPE (or any error) ends the conversation: report it,
            // never retry it.
            Err(errno) => {
                return Report { bytes_written, error: Some(errno) };
            }
        }
    }
    Report { bytes_written, error: None }
}
