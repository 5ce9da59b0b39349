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
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use labkit::passed_fd::adopt_received;
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, getsockopt, recvmsg,
    sendmsg, sockopt,
};

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
    let iov = [IoSlice::new(message)];
    let fds = [fd.as_raw_fd()];
    let rights = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(socket.as_raw_fd(), &iov, &rights, MsgFlags::empty(), None)?;
    Ok(())
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
    let credentials = getsockopt(&socket, sockopt::PeerCredentials)?;
    let mut buffer = vec![0u8; MAX_MESSAGE];
    let mut iov = [IoSliceMut::new(&mut buffer)];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let bytes = message.bytes;
    let mut received = Vec::new();
    for cmsg in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            received.extend(fds.into_iter().map(adopt_received));
        }
    }
    // The first descriptor is the answer; any others close when dropped.
    let fd = received
        .into_iter()
        .next()
        .ok_or("no descriptor came with the message")?;
    buffer.truncate(bytes);
    Ok(Received {
        fd,
        message: buffer,
        pid: credentials.pid(),
        uid: credentials.uid(),
        gid: credentials.gid(),
    })
}
