//! The test runner for exercise 02: you do not need to edit this file.
//!
//! `cargo lab check 2` runs this program once per scenario, as a process of
//! its own: a probe that forgets O_NONBLOCK blocks forever on the full pipe,
//! and a separate process can be stopped after a time limit where a test
//! thread could not. It calls your code and prints what came back, one
//! `key: value` line each, for tests/exercise.rs to check.

use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use ex02_pipe_capacity::probe_capacity;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::{pipe2, read};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words[..] {
        ["probe"] => probe(OFlag::empty(), None),
        ["probe-nonblocking"] => probe(OFlag::O_NONBLOCK, None),
        // The smallest pipe there is: ask for 1 byte, the kernel gives a page.
        ["probe-small"] => probe(OFlag::empty(), Some(1)),
        ["resize", bytes] => match bytes.parse() {
            Ok(bytes) => resize(bytes),
            Err(_) => Err(format!("not a number of bytes: {bytes:?}")),
        },
        _ => Err(
            "usage: ex02-pipe-capacity probe | probe-nonblocking | probe-small \
             | resize BYTES"
                .to_string(),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ex02-pipe-capacity: {error}");
            ExitCode::from(2)
        }
    }
}

/// Probes a fresh pipe whose write end has `extra_flags`, optionally resized
/// to `size` first, and reports the count, the kernel's figure, the bytes
/// really in the pipe, and the write end's flags before and after.
fn probe(extra_flags: OFlag, size: Option<i32>) -> Result<(), String> {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2: {e}"))?;
    if let Some(size) = size {
        set_kernel_size(&write_end, size)?;
    }
    fcntl(&write_end, FcntlArg::F_SETFL(extra_flags))
        .map_err(|e| format!("F_SETFL: {e}"))?;
    let before = flags(&write_end)?;

    let probed = probe_capacity(write_end.as_fd());

    let after = flags(&write_end)?;
    let kernel = kernel_size(&write_end)?;
    match probed {
        Ok(count) => println!("probed: {count}"),
        Err(errno) => println!("probed: error {errno:?}"),
    }
    println!("f_getpipe_sz: {kernel}");
    println!("in-pipe: {}", bytes_in(&read_end)?);
    println!("flags-before: {:#o}", before.bits());
    println!("flags-after: {:#o}", after.bits());
    Ok(())
}

/// Resizes a fresh pipe with your `resize` and reports what it returned and
/// what the kernel reports afterwards.
#[cfg(target_os = "linux")]
fn resize(bytes: usize) -> Result<(), String> {
    let (_read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe2: {e}"))?;
    match ex02_pipe_capacity::resize(write_end.as_fd(), bytes) {
        Ok(granted) => println!("granted: {granted}"),
        Err(errno) => println!("granted: error {errno:?}"),
    }
    println!("f_getpipe_sz: {}", kernel_size(&write_end)?);
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn resize(_bytes: usize) -> Result<(), String> {
    Err("resizing a pipe (F_SETPIPE_SZ) exists only on Linux".to_string())
}

/// The pipe's size as the kernel reports it: fcntl(F_GETPIPE_SZ).
#[cfg(target_os = "linux")]
fn kernel_size(fd: &OwnedFd) -> Result<i32, String> {
    fcntl(fd, FcntlArg::F_GETPIPE_SZ).map_err(|e| format!("F_GETPIPE_SZ: {e}"))
}

#[cfg(not(target_os = "linux"))]
fn kernel_size(_fd: &OwnedFd) -> Result<i32, String> {
    Err("fcntl(F_GETPIPE_SZ) exists only on Linux".to_string())
}

/// The runner's own resize, so that the probe meets a pipe of another size.
#[cfg(target_os = "linux")]
fn set_kernel_size(fd: &OwnedFd, size: i32) -> Result<i32, String> {
    fcntl(fd, FcntlArg::F_SETPIPE_SZ(size))
        .map_err(|e| format!("F_SETPIPE_SZ: {e}"))
}

#[cfg(not(target_os = "linux"))]
fn set_kernel_size(_fd: &OwnedFd, _size: i32) -> Result<i32, String> {
    Err("fcntl(F_SETPIPE_SZ) exists only on Linux".to_string())
}

fn flags(fd: &OwnedFd) -> Result<OFlag, String> {
    let bits =
        fcntl(fd, FcntlArg::F_GETFL).map_err(|e| format!("F_GETFL: {e}"))?;
    Ok(OFlag::from_bits_retain(bits))
}

/// Empties the pipe and counts what was in it. The write end is still open,
/// so an empty pipe answers EAGAIN on a non-blocking read end, not 0.
fn bytes_in(read_end: &OwnedFd) -> Result<usize, String> {
    fcntl(read_end, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
        .map_err(|e| format!("F_SETFL: {e}"))?;
    let mut buffer = vec![0; 64 * 1024];
    let mut count = 0;
    loop {
        match read(read_end, &mut buffer) {
            Ok(0) | Err(Errno::EAGAIN) => return Ok(count),
            Ok(n) => count += n,
            Err(errno) => return Err(format!("read: {errno}")),
        }
    }
}
