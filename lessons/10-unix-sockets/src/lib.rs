//! Lesson 10's shared pieces: what `socket-server`, `socket-client` and
//! `socket-demo` must agree on, and what would distract from their story.
//!
//! - [`place`]: a socket bound safely, as lesson 04's FIFOs are made: in a
//!   private 0700 directory, mode 0600, an existing path refused unless it
//!   is a stale socket of ours (then removed and bound again), removed on
//!   exit, on Ctrl-C and on SIGTERM; and a client's `connect` with one
//!   clear line for each way it can fail.
//! - [`fdpass`]: sending a descriptor with `SCM_RIGHTS`, and receiving it.
//! - [`hello`]: the one line a client sends first: who it says it is.
//! - [`bare`]: the lesson's system calls in one function, bare.

pub mod bare;
pub mod fdpass;
pub mod hello;
pub mod place;

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The file's type and permissions as `ls -l` prints them: `srw-------`.
pub fn mode_string(path: &Path) -> std::io::Result<String> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::symlink_metadata(path)?;
    let kind = metadata.file_type();
    let letter = if kind.is_socket() {
        's'
    } else if kind.is_fifo() {
        'p'
    } else if kind.is_dir() {
        'd'
    } else if kind.is_symlink() {
        'l'
    } else {
        '-'
    };
    let mode = metadata.permissions().mode();
    let mut text = String::from(letter);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 4 != 0 { 'r' } else { '-' });
        text.push(if bits & 2 != 0 { 'w' } else { '-' });
        text.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    Ok(text)
}
