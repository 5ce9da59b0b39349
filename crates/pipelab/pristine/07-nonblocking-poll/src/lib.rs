//! Exercise 07: an event loop over several FIFOs, with poll(2).
//!
//! A server with several FIFOs cannot wait in the `read` of any one of
//! them: the one it waits on may be the silent one, while another fills
//! up. Complete the two functions below; every place to work is marked
//! `// TODO`. `cargo lab check 7` runs the tests, `cargo lab hint 7` gives
//! a hint.

use std::os::fd::OwnedFd;

use nix::errno::Errno;

/// Appends `bytes` (what one `read` returned) to `pending`, then takes
/// every complete line off the front of `pending` and returns them, in
/// order, without their `'\n'`. What is left in `pending` is the start of
/// a line whose end has not come yet: the next read may bring it.
///
/// A read hands over bytes, not messages: one read may hold half a line,
/// or many lines, or the end of one and the start of the next.
pub fn take_lines(pending: &mut Vec<u8>, bytes: &[u8]) -> Vec<String> {
    // TODO: extend `pending`, then cut it at each b'\n'
    // (String::from_utf8_lossy turns the bytes of a line into text).
    let _ = (pending, bytes);
    todo!("take_lines")
}

/// Reads every source until all of them have closed, and returns, for
/// each source (in the order given), the lines it sent, in order.
///
/// Each source is the read end of a FIFO, opened `O_RDONLY|O_NONBLOCK`,
/// whose writer has already opened it: a `read` never blocks, it returns
/// bytes, 0 (end of file: that source's writer has closed, it is
/// finished) or EAGAIN (empty, writer still open: nothing *yet*).
///
/// Wait with `poll`, never by trying again in a loop: the tests measure
/// the CPU time your loop uses while the writers are silent, and a busy
/// loop fails. Keep going until every source has reached end of file,
/// not only the first.
pub fn collect_messages(
    sources: Vec<OwnedFd>,
) -> Result<Vec<Vec<String>>, Errno> {
    // TODO: poll the sources still open for POLLIN; read those that are
    // ready; pass what you read to take_lines; at 0, that source is done.
    let _ = sources;
    todo!("collect_messages")
}
