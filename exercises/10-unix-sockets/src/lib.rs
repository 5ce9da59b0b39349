//! Exercise 10 — pass a descriptor, and learn who passed it.
//!
//! A Unix domain socket carries more than bytes: a process can send one
//! of its open descriptors (`SCM_RIGHTS`), and the receiver gets a new
//! descriptor for the same open file, even one it could never have opened
//! by path. And the kernel knows who is at the other end of a connection
//! (`SO_PEERCRED`). Lesson 10 shows both (`cargo lab run 10`). Complete
//! [`send_fd`], the client's half, and [`receive_fd`], the server's.
//!
//! Check your work with `cargo lab check 10`; ask for a hint with
//! `cargo lab hint 10`.

use std::error::Error;
use std::os::fd::{BorrowedFd, OwnedFd};

// What you will need, in std, nix and lesson 10:
//   std::io::{IoSlice, IoSliceMut}, std::os::fd::{AsRawFd, RawFd},
//   nix::sys::socket::{sendmsg, recvmsg, ControlMessage,
//       ControlMessageOwned, MsgFlags, getsockopt, sockopt},
//   nix::cmsg_space!, labkit::passed_fd::adopt_received.

/// The longest message [`receive_fd`] takes, in bytes.
pub const MAX_MESSAGE: usize = 1024;

/// What [`receive_fd`] returns: the descriptor that came, the bytes it came
/// with, and who sent them, as the kernel says.
#[derive(Debug)]
pub struct Received {
    /// The received descriptor: a new number for the sender's open file.
    pub fd: OwnedFd,
    /// The bytes sent with it.
    pub message: Vec<u8>,
    /// The sender's pid, uid and gid, from `SO_PEERCRED`.
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// Sends `message` on the connected Unix domain socket `socket`, and the
/// descriptor `fd` beside it as an `SCM_RIGHTS` control message, in one
/// `sendmsg`.
///
/// Rules:
/// - `message` is not empty (a descriptor needs at least one byte of data
///   to travel with), and is shorter than [`MAX_MESSAGE`].
/// - The caller keeps `fd`: sending it closes nothing here.
/// - An error of `sendmsg` (the peer gone: EPIPE) is returned, not a panic.
pub fn send_fd(
    socket: BorrowedFd<'_>,
    fd: BorrowedFd<'_>,
    message: &[u8],
) -> nix::Result<()> {
    // TODO: one sendmsg, with the message as its one IoSlice and one
    // ControlMessage::ScmRights holding fd's number.
    let _ = (socket, fd, message);
    todo!("send_fd")
}

/// Receives one message (at most [`MAX_MESSAGE`] bytes) on the connected
/// Unix domain socket `socket`, and the descriptor sent with it; returns
/// both, with the sender's credentials.
///
/// Rules:
/// - The credentials come from the kernel: `getsockopt(socket,
///   sockopt::PeerCredentials)`, never from the message.
/// - The received descriptor is close-on-exec (`MSG_CMSG_CLOEXEC`), and
///   owned: `labkit::passed_fd::adopt_received` turns the
///   number recvmsg gives into an `OwnedFd`. If several came, keep the
///   first and let the others close.
/// - A message that came without a descriptor is an `Err`, not a panic.
pub fn receive_fd(socket: BorrowedFd<'_>) -> Result<Received, Box<dyn Error>> {
    // TODO: ask the kernel who the peer is; recvmsg into a buffer of
    // MAX_MESSAGE bytes with room for control messages; take the
    // descriptor out of ControlMessageOwned::ScmRights.
    let _ = socket;
    todo!("receive_fd")
}
