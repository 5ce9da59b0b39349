//! The lesson's system calls with nothing around them: no narration, no
//! time limits, no checks of who owns the FIFOs. The book shows this
//! listing first; `fifo-rdwr` and `rdwr-peer` make the same calls through
//! `labkit::fifo`, each with its reason and its narration.

use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, read, unlink, write};

// ANCHOR: bare
/// Makes a FIFO that only its owner may use: `mkfifo(path, 0600)`.
pub fn make_fifo(path: &Path) -> nix::Result<()> {
    mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR)
}

/// The pitfall: one FIFO opened O_RDWR, written, then read, by one process.
/// Returns what the read gave: the request itself.
pub fn one_fifo_both_ways(path: &Path, request: &[u8]) -> nix::Result<Vec<u8>> {
    make_fifo(path)?;
    let flags = OFlag::O_RDWR | OFlag::O_CLOEXEC;
    let both_ways = open(path, flags, Mode::empty())?; // Linux: never waits
    write(&both_ways, request)?;
    let mut buffer = [0u8; 512];
    let n = read(&both_ways, &mut buffer)?; // the first reader to ask: us
    drop(both_ways); // close(): the last descriptor, the buffer is freed
    unlink(path)?;
    Ok(buffer[..n].to_vec())
}

/// The fix, the client's side: one FIFO per direction, each opened for one
/// direction, in the peer's order (requests, then replies).
pub fn request_reply(
    requests: &Path,
    replies: &Path,
    request: &[u8],
) -> nix::Result<Vec<u8>> {
    let (write_only, read_only) = (OFlag::O_WRONLY, OFlag::O_RDONLY);
    let cloexec = OFlag::O_CLOEXEC;
    let to_peer = open(requests, write_only | cloexec, Mode::empty())?;
    let from_peer = open(replies, read_only | cloexec, Mode::empty())?;
    write(&to_peer, request)?;
    drop(to_peer); // close(): the peer reads end of file after our request
    let mut reply = Vec::new();
    let mut buffer = [0u8; 512];
    loop {
        match read(&from_peer, &mut buffer)? {
            0 => break, // the peer, the only writer of replies, has closed
            n => reply.extend_from_slice(&buffer[..n]),
        }
    }
    Ok(reply)
}
// ANCHOR_END: bare

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::sync::mpsc;
    use std::time::Duration;

    use nix::sys::stat::{SFlag, lstat, umask};

    use super::*;

    #[test]
    fn the_fifos_are_made_0600_even_under_umask_0() {
        // Under umask 0 nothing is taken away: the mode seen is the mode
        // asked for. The umask belongs to the whole test process; while it
        // is 0 the other tests here can only make 0600 FIFOs and 0700
        // directories, modes it does not change.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let old = umask(Mode::empty());
        let made = make_fifo(&path);
        umask(old);
        made.unwrap();
        let stat = lstat(&path).unwrap();
        let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        assert_eq!(kind, SFlag::S_IFIFO);
        assert_eq!(stat.st_mode & 0o7777, 0o600);
    }

    #[test]
    fn one_fifo_opened_o_rdwr_hands_the_writer_its_own_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("both-ways");
        let got = one_fifo_both_ways(&path, b"request 1\n").unwrap();
        assert_eq!(got, b"request 1\n");
        assert!(!path.exists());
    }

    #[test]
    fn two_fifos_carry_the_request_to_a_shell_peer_and_its_reply_back() {
        let dir = tempfile::tempdir().unwrap();
        let (requests, replies) =
            (dir.path().join("requests"), dir.path().join("replies"));
        for fifo in [&requests, &replies] {
            make_fifo(fifo).unwrap();
        }
        // The peer: the shell opens requests to read, then replies to
        // write (the same order), and answers in capitals until EOF.
        let mut peer = Command::new("sh")
            .args(["-c", r#"tr a-z A-Z < "$1" > "$2""#, "sh"])
            .args([&requests, &replies])
            .spawn()
            .unwrap();
        let (done, result) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(request_reply(&requests, &replies, b"hello\n"));
        });
        let reply = result.recv_timeout(Duration::from_secs(20));
        let ended = peer.try_wait().ok().flatten();
        if ended.is_none() {
            let _ = peer.kill(); // a failed test leaves nothing running
        }
        let _ = peer.wait();
        let reply = reply.expect("request_reply still waits after 20 s");
        assert_eq!(reply.unwrap(), b"HELLO\n");
    }
}
