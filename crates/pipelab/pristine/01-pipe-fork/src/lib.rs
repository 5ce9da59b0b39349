//! Exercise 01 — a pipe between parent and child.
//!
//! Complete [`send_through_pipe`]: make a pipe, fork, let the child write the
//! messages, and let the parent read everything until end of file, then reap
//! the child. Lesson 01 (`cargo lab run 1`) shows every step; its chapter in
//! the book explains them.
//!
//! Check your work with `cargo lab check 1`; ask for a hint with
//! `cargo lab hint 1`.

use nix::sys::wait::WaitStatus;

/// What the parent got: every byte the child wrote, and how the child ended.
#[derive(Debug)]
pub struct Delivery {
    /// The bytes the parent read from the pipe, in order.
    pub received: Vec<u8>,
    /// The child's status as `waitpid` reported it.
    pub child: WaitStatus,
}

/// Forks a child that writes each of `messages` into a pipe, one `write` per
/// message, and then exits with `child_exit_code`. The parent reads until end
/// of file, reaps the child, and returns what it read and how the child
/// ended.
///
/// Rules:
/// - Create the pipe with `nix::unistd::pipe2(OFlag::O_CLOEXEC)`.
/// - Fork with `labkit::process::fork()`; in the child, finish with
///   `labkit::process::exit_child(child_exit_code)`: never return from this
///   function in the child.
/// - The parent must read while the child writes: the messages may be larger
///   than the pipe holds.
/// - Close every end a process does not use. When this function returns, the
///   parent holds no descriptor of the pipe.
pub fn send_through_pipe(
    messages: &[&[u8]],
    child_exit_code: i32,
) -> nix::Result<Delivery> {
    // TODO: make the pipe, fork, write in the child, read and reap in the
    // parent.
    let _ = (messages, child_exit_code);
    todo!("send_through_pipe")
}
