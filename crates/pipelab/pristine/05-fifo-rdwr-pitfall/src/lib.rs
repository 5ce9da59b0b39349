//! Exercise 05 — request and reply over two FIFOs.
//!
//! One FIFO opened O_RDWR for both directions hands you back your own
//! requests (lesson 05, `cargo lab run 5`). Complete [`request_reply`], the
//! client done right: requests go out on one FIFO, replies come back on the
//! other, and each request gets its own reply.
//!
//! Check your work with `cargo lab check 5`; ask for a hint with
//! `cargo lab hint 5`.

use std::error::Error;
use std::path::Path;

/// Sends each of `messages` to the peer as one line on the `requests` FIFO,
/// reads the peer's reply line from the `replies` FIFO after each, and
/// returns the replies in order, without their newlines.
///
/// The peer (started by the test runner) opens `requests` for reading
/// first, then `replies` for writing, and answers each request line with
/// the same line in capitals. It stops at end of file on `requests`.
///
/// Rules:
/// - Open each FIFO for one direction only, with
///   `labkit::fifo::open_within(path, Access::..., limit)`: it refuses
///   anything that is not your own FIFO, and a blocking open that finds no
///   peer gives up after `limit` instead of waiting for ever.
/// - Open them in the peer's order, or you and the peer will each wait in
///   a first open for the other's second one.
/// - Write each request and its newline in one `write` (the messages are
///   shorter than PIPE_BUF). A reply may come in more than one `read`.
/// - When this function returns, both FIFOs are closed: the peer sees end
///   of file and exits.
pub fn request_reply(
    requests: &Path,
    replies: &Path,
    messages: &[&str],
) -> Result<Vec<String>, Box<dyn Error>> {
    // TODO: open the two FIFOs in the peer's order; then, for each message,
    // send one line and read back one whole line.
    let _ = (requests, replies, messages);
    todo!("request_reply")
}
