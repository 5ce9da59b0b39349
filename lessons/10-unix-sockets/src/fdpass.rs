//! Passing a descriptor: `sendmsg` with an `SCM_RIGHTS` control message,
//! and `recvmsg` to receive it.
//!
//! The bytes of the message travel as usual; the descriptor rides beside
//! them, in the control ("ancillary") data. The kernel does not send a
//! number: it installs a new descriptor in the receiver's table that
//! refers to the same open file (the same offset, the same flags), and
//! the receiver learns its number from the control message.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use labkit::passed_fd::adopt_received;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg,
};

/// Sends `bytes` on `socket`, and `fd` with them if given, in one
/// `sendmsg`. The sender keeps its own descriptor: passing one is a
/// copy, like `dup`, into another process.
// ANCHOR: send
pub fn send_with_fd(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    fd: Option<BorrowedFd<'_>>,
) -> nix::Result<usize> {
    let iov = [IoSlice::new(bytes)];
    let rights = fd.map(|fd| [fd.as_raw_fd()]);
    let cmsgs: Vec<ControlMessage> =
        rights.iter().map(|fds| ControlMessage::ScmRights(fds)).collect();
    sendmsg::<()>(socket.as_raw_fd(), &iov, &cmsgs, MsgFlags::empty(), None)
}
// ANCHOR_END: send

/// Receives bytes into `buffer`, and any descriptors sent with them.
/// Returns the number of bytes (0: end of file) and the descriptors, as
/// `OwnedFd`s, marked close-on-exec (`MSG_CMSG_CLOEXEC`).
// ANCHOR: receive
pub fn recv_with_fds(
    socket: BorrowedFd<'_>,
    buffer: &mut [u8],
) -> nix::Result<(usize, Vec<OwnedFd>)> {
    let mut iov = [IoSliceMut::new(buffer)];
    // Room for a few descriptors: more than that would be cut off, and
    // recvmsg would say so with MSG_CTRUNC.
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let message = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut fds = Vec::new();
    for cmsg in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(received) = cmsg {
            fds.extend(received.into_iter().map(adopt_received));
        }
    }
    if message.flags.contains(MsgFlags::MSG_CTRUNC) {
        // Whatever was cut off was closed by the kernel: say so.
        return Err(nix::errno::Errno::EMSGSIZE);
    }
    Ok((message.bytes, fds))
}
// ANCHOR_END: receive
