//! The lesson's system calls with nothing around them: no narration, no
//! checks beyond `?`. The book shows this listing first; the programs make
//! the same calls, each with its reason and its narration.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use crate::fdpass::{recv_with_fds, send_with_fd};

/// Listens at `path`, connects to itself, passes `file`'s descriptor
/// across, and reads through the one received. Returns the pid the kernel
/// reports for the client end, and the file's text.
// ANCHOR: bare
pub fn one_round_trip(path: &Path, file: &Path) -> io::Result<(i32, String)> {
    let listener = UnixListener::bind(path)?; // socket(), bind(), listen()
    let client = UnixStream::connect(path)?; // socket(), connect()
    let (server, _) = listener.accept()?; // accept(): one connection
    let peer = getsockopt(&server, PeerCredentials)?; // SO_PEERCRED
    let opened = File::open(file)?;
    send_with_fd(client.as_fd(), b"x", Some(opened.as_fd()))?; // sendmsg()
    let mut byte = [0u8; 1];
    let (_, fds) = recv_with_fds(server.as_fd(), &mut byte)?; // recvmsg()
    let received = fds.into_iter().next().ok_or(io::ErrorKind::NotFound)?;
    let mut text = String::new();
    File::from(received).read_to_string(&mut text)?;
    std::fs::remove_file(path)?; // unlink(): close() leaves the socket file
    Ok((peer.pid(), text))
}
// ANCHOR_END: bare

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_round_trip_passes_a_file_and_names_its_own_pid() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "passed\n").unwrap();
        let (pid, text) = one_round_trip(&dir.path().join("s"), &file).unwrap();
        assert_eq!(pid, std::process::id() as i32);
        assert_eq!(text, "passed\n");
        assert!(!dir.path().join("s").exists());
    }
}
