//! The lesson's system calls with nothing around them: no narration, no
//! checks of who owns the FIFO, no time limits. The book shows this listing
//! first; `fifo-server` and `fifo-client` make the same calls through
//! `labkit::fifo`, which adds the checks (O_NOFOLLOW, fstat, a private
//! directory) and a limit on every open.

use std::path::Path;

use nix::fcntl::{OFlag, open};
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, read, unlink, write};

// ANCHOR: bare
/// The server: makes the FIFO, waits for a writer, reads until every
/// writer has closed it, then removes it. Returns the bytes it read.
pub fn serve(path: &Path) -> nix::Result<Vec<u8>> {
    mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR)?; // mkfifo(path, 0600)
    let flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    let reader = open(path, flags, Mode::empty())?; // waits for a writer
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match read(&reader, &mut buffer)? {
            0 => break, // end of file: every writer has closed the FIFO
            n => received.extend_from_slice(&buffer[..n]),
        }
    }
    drop(reader); // close(): the last descriptor, the buffer is freed
    unlink(path)?; // the name stays until someone removes it
    Ok(received)
}

/// A client: opens the FIFO for writing, writes one message, closes it.
pub fn send(path: &Path, message: &[u8]) -> nix::Result<usize> {
    let flags = OFlag::O_WRONLY | OFlag::O_CLOEXEC;
    let writer = open(path, flags, Mode::empty())?; // waits for a reader
    let written = write(&writer, message)?; // blocking: waits for room
    drop(writer); // close(): the last writer, so the reader's read gives 0
    Ok(written)
}
// ANCHOR_END: bare

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    /// A generous bound: the machine may be busy with other tests.
    const LIMIT: Duration = Duration::from_secs(20);

    #[test]
    fn a_message_goes_from_the_client_to_the_server_and_the_fifo_goes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let (done, result) = mpsc::channel();
        let server_path = path.clone();
        std::thread::spawn(move || {
            let _ = done.send(serve(&server_path));
        });
        // The client may come before mkfifo: wait for the name to exist.
        let mut waited = Duration::ZERO;
        while !path.exists() {
            assert!(waited < LIMIT, "the server never made {path:?}");
            std::thread::sleep(Duration::from_millis(10));
            waited += Duration::from_millis(10);
        }
        assert_eq!(send(&path, b"ping\n").unwrap(), 5);
        let received = result
            .recv_timeout(LIMIT)
            .expect("the server still waits after the client closed")
            .unwrap();
        assert_eq!(received, b"ping\n");
        assert!(!path.exists(), "the server removes its FIFO");
    }
}
