//! Two of the chapter's ways to fail, shown with real programs rather than
//! the lesson's own careful one:
//!
//! - a parent that waits for its child before reading deadlocks once the
//!   child writes more than the pipe holds (the quiz's 100 000 bytes): the
//!   writer here is `head -c`, blocked in `write` on a full pipe;
//! - two writes can come out of one read: a pipe keeps bytes, not
//!   messages;
//! - a forked child that leaves with `std::process::exit` runs the C
//!   library's `exit`: Rust's stdout buffer, copied by `fork`, comes out
//!   twice, and the `atexit` handlers run twice; `_exit` does neither. The
//!   forking program is `tests/programs/exit_in_child.rs`, compiled here
//!   (`labkit::compiled`) and run as a process of its own.
#![cfg(target_os = "linux")]

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::readable_within;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{pipe2, read, write};
use wait_timeout::ChildExt;

/// Generous: the machine is shared and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(30);
/// How long the parent waits for the child before it gives up and reads:
/// far longer than `head` needs to write 100 000 bytes into a pipe that
/// has room.
const WAIT_FIRST: Duration = Duration::from_secs(2);

/// Starts `head -c bytes /dev/zero` writing into a fresh pipe, and returns
/// it, the read end and what the pipe holds (F_GETPIPE_SZ). The test keeps
/// no write end: the child's is the only one.
fn writer_of(bytes: usize) -> (Child, OwnedFd, usize) {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    let capacity = fcntl(&read_end, FcntlArg::F_GETPIPE_SZ).expect("size");
    // The Command, and with it our copy of the write end, is dropped at the
    // end of this statement.
    let child = Command::new("head")
        .args(["-c", &bytes.to_string(), "/dev/zero"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .spawn()
        .expect("start head");
    (child, read_end, capacity as usize)
}

/// Reads until end of file, every read bounded; returns the byte count.
fn read_all(read_end: &OwnedFd) -> usize {
    let mut buffer = vec![0; 64 * 1024];
    let mut total = 0;
    loop {
        let ready = readable_within(read_end, LIMIT).expect("poll");
        assert!(ready, "no data and no end of file for {LIMIT:?}");
        match read(read_end, &mut buffer).expect("read") {
            0 => return total,
            got => total += got,
        }
    }
}

#[test]
fn waiting_before_reading_deadlocks_once_the_child_writes_more_than_a_pipe() {
    let (mut child, read_end, capacity) = writer_of(100_000);
    assert!(capacity < 100_000, "the pipe holds {capacity} bytes here");
    // The parent waits first, as the quiz's program does (bounded here).
    let waited = child.wait_timeout(WAIT_FIRST).expect("waitpid");
    assert_eq!(
        waited, None,
        "head wrote 100000 bytes into a {capacity}-byte pipe nobody read"
    );
    let state = labkit::procfs::stat(child.id() as i32).map(|s| s.state);
    assert_eq!(state, Some('S'), "the writer sleeps, blocked in write()");
    // Reading first is the fix: everything arrives, and the child ends.
    assert_eq!(read_all(&read_end), 100_000);
    let ended = child.wait_timeout(LIMIT).expect("waitpid");
    assert!(ended.is_some_and(|status| status.success()), "{ended:?}");

    // Less than the pipe holds: waiting first works, which is why the
    // mistake passes with small messages.
    let (mut child, read_end, capacity) = writer_of(1000);
    assert!(capacity > 1000);
    let ended = child.wait_timeout(LIMIT).expect("waitpid");
    assert!(ended.is_some_and(|s| s.success()), "unread, yet done: {ended:?}");
    assert_eq!(read_all(&read_end), 1000);
}

#[test]
fn two_writes_can_come_out_of_one_read() {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    write(&write_end, b"message 1\n").expect("first write");
    write(&write_end, b"message 2\n").expect("second write");
    let mut buffer = [0; 256];
    let got = read(&read_end, &mut buffer).expect("read");
    assert_eq!(&buffer[..got], b"message 1\nmessage 2\n", "one read, both");
}

/// The forked child's program, compiled once.
fn forking_program() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    labkit::compiled::rust(FORKING_PROGRAM, "exit_in_child", dir)
}

/// The program: `tests/programs/exit_in_child.rs`.
const FORKING_PROGRAM: &str = include_str!("programs/exit_in_child.rs");

#[test]
fn a_child_leaving_by_std_exit_flushes_the_copied_buffer_and_runs_atexit() {
    let program = forking_program();
    let twice = run_clean(Command::new(&program).arg("std"), LIMIT)
        .unwrap_or_else(|error| panic!("the forking program: {error}"));
    assert!(twice.status.success(), "{}", twice.stderr);
    assert_eq!(
        twice.stdout,
        "written before the fork;written before the fork; the parent's end\n",
        "the child flushed its copy of the parent's unwritten bytes"
    );
    assert_eq!(
        twice.stderr, "atexit handler ran\natexit handler ran\n",
        "the parent's atexit handler ran in the child too"
    );

    let once = run_clean(Command::new(&program).arg("_exit"), LIMIT)
        .unwrap_or_else(|error| panic!("the forking program: {error}"));
    assert!(once.status.success(), "{}", once.stderr);
    assert_eq!(once.stdout, "written before the fork; the parent's end\n");
    assert_eq!(once.stderr, "atexit handler ran\n", "in the parent only");
}
