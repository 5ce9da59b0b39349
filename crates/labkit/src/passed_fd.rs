//! A descriptor received from another process (`SCM_RIGHTS`), made owned.
//!
//! `recvmsg` with an `SCM_RIGHTS` control message installs new descriptors
//! in this process, and nix hands their numbers over as plain `RawFd`s.
//! Neither nix 0.31 nor std has a safe way to take ownership of such a
//! number, so this is the one `unsafe` step of lesson 10, kept here with
//! the course's other wrappers.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

/// Takes ownership of a descriptor that `recvmsg` has just installed in
/// this process, from an `SCM_RIGHTS` control message.
///
/// Call it only with a number `recvmsg` returned in
/// `ControlMessageOwned::ScmRights`, once per number: the kernel made that
/// descriptor for us and nothing else owns it, and the `OwnedFd` closes it
/// when dropped.
pub fn adopt_received(raw: RawFd) -> OwnedFd {
    // SAFETY: `raw` was just installed in our descriptor table by recvmsg
    // (SCM_RIGHTS), is open, and has no other owner in this process; the
    // OwnedFd made here is its only owner and closes it exactly once.
    #[allow(unsafe_code)]
    unsafe {
        OwnedFd::from_raw_fd(raw)
    }
}
