//! Exercise 07, solved: an event loop over several FIFOs, with poll(2).
//!
//! What was added to the exercise: `take_lines` cuts the stream at each
//! newline; `collect_messages` polls the sources still open, reads the
//! ready ones, and drops a source at end of file. It never retries a read
//! on its own: all its waiting is done asleep in `poll`.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::read;

/// Appends `bytes` (what one `read` returned) to `pending`, then takes
/// every complete line off the front of `pending` and returns them, in
/// order, without their `'\n'`. What is left in `pending` is the start of
/// a line whose end has not come yet: the next read may bring it.
///
/// A read hands over bytes, not messages: one read may hold half a line,
/// or many lines, or the end of one and the start of the next.
pub fn take_lines(pending: &mut Vec<u8>, bytes: &[u8]) -> Vec<String> {
    pending.extend_from_slice(bytes);
    let mut lines = Vec::new();
    while let Some(at) = pending.iter().position(|&byte| byte == b'\n') {
        let line: Vec<u8> = pending.drain(..=at).collect();
        lines.push(String::from_utf8_lossy(&line[..at]).into_owned());
    }
    lines
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
    let mut messages = vec![Vec::new(); sources.len()];
    let mut pending = vec![Vec::new(); sources.len()];
    // None once a source has reached end of file: closed, polled no more.
    let mut open: Vec<Option<OwnedFd>> =
        sources.into_iter().map(Some).collect();
    let mut buffer = [0u8; 4096];
    while open.iter().any(Option::is_some) {
        let active: Vec<(usize, &OwnedFd)> = open
            .iter()
            .enumerate()
            .filter_map(|(index, fd)| Some((index, fd.as_ref()?)))
            .collect();
        let mut fds: Vec<PollFd> = active
            .iter()
            .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        // Asleep until a source has bytes or hangs up (POLLHUP).
        match poll(&mut fds, PollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            other => other?,
        };
        // POLLIN, POLLHUP or POLLERR: each means a read will not wait.
        let ready: Vec<usize> = active
            .iter()
            .zip(&fds)
            .filter(|(_, fd)| fd.any().unwrap_or(true))
            .map(|((index, _), _)| *index)
            .collect();
        drop(fds); // the borrows of `open` end here
        for index in ready {
            let Some(fd) = &open[index] else { continue };
            match read(fd, &mut buffer) {
                Ok(0) => open[index] = None, // end of file: this one is done
                Ok(n) => messages[index]
                    .extend(take_lines(&mut pending[index], &buffer[..n])),
                Err(Errno::EAGAIN | Errno::EINTR) => {} // nothing yet after all
                Err(errno) => return Err(errno),
            }
        }
    }
    Ok(messages)
}
