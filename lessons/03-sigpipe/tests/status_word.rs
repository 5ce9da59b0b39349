//! The wait status word's layout on Linux, read undecoded from children
//! that python3 makes end one way or another (`os._exit(code)`, a signal
//! sent to itself): the exit code sits in bits 8 to 15, so it is 0 to 255
//! and `_exit(257)` is seen as 1; a signal is in the low 7 bits, and bit 7
//! says it dumped core, which is why a SIGSEGV with a core dump, masked
//! with 0xff instead of 0x7f, reads as 139.
#![cfg(target_os = "linux")]

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

/// The system's Python, not a per-user shim that nobody cannot reach.
const PYTHON: &str = "/usr/bin/python3";
/// Generous: a core dump of python3 is megabytes on a shared machine.
const LIMIT: Duration = Duration::from_secs(30);

/// The status word `waitpid` stored for python3 running `script` (in
/// isolated mode: no fault handler from the environment), with `dir` as its
/// working directory, where a core file would go.
fn raw_status_of(script: &str, dir: &std::path::Path) -> i32 {
    let mut child = Command::new(PYTHON)
        .args(["-I", "-c", script])
        .current_dir(dir)
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("{PYTHON}: {error}"));
    match child.wait_timeout(LIMIT).expect("waitpid") {
        // into_raw: the word as the kernel filled it in, before decoding.
        Some(status) => status.into_raw(),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("python3 -c {script:?} still running after {LIMIT:?}")
        }
    }
}

fn exiting_with(code: i32, dir: &std::path::Path) -> i32 {
    raw_status_of(&format!("import os; os._exit({code})"), dir)
}

#[test]
fn an_exit_code_sits_in_bits_8_to_15_of_the_status_word() {
    let dir = tempfile::tempdir().expect("a directory");
    for code in [0, 1, 3, 42, 255] {
        let status = exiting_with(code, dir.path());
        assert_eq!(status, code << 8, "_exit({code}) gave {status:#06x}");
        assert_eq!((status >> 8) & 0xff, code, "WEXITSTATUS");
        assert_eq!(status & 0x7f, 0, "no signal: WIFEXITED");
    }
}

#[test]
fn an_exit_code_is_0_to_255_so_257_is_seen_as_1() {
    let dir = tempfile::tempdir().expect("a directory");
    // The kernel keeps the low 8 bits of what _exit was given.
    assert_eq!(exiting_with(256, dir.path()), 0, "256 is seen as 0");
    assert_eq!(exiting_with(257, dir.path()), 1 << 8, "257 is seen as 1");
}

#[test]
fn a_sigsegv_with_a_core_dump_is_0x8b_and_masked_with_0xff_reads_139() {
    let dir = tempfile::tempdir().expect("a directory");
    // The core-size limit raised as far as this user may, then SIGSEGV,
    // whose default action is to dump core and terminate.
    let script = "import os, resource, signal\n\
                  hard = resource.getrlimit(resource.RLIMIT_CORE)[1]\n\
                  resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))\n\
                  os.kill(os.getpid(), signal.SIGSEGV)";
    let status = raw_status_of(script, dir.path());
    assert_eq!(status & 0x7f, 11, "SIGSEGV in the low 7 bits: {status:#x}");
    assert_eq!(status >> 8, 0, "a killed process has no exit code byte");
    if status & 0x80 == 0 {
        let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern");
        eprintln!(
            "skipped: no core dump here (core_pattern {pattern:?}, or a \
             core-size limit of 0), so no bit 7 to mask wrongly"
        );
        return;
    }
    assert_eq!(status, 0x8b, "signal 11 and the core-dump bit");
    assert_eq!(status & 0xff, 139, "masked with 0xff: 'signal 139'");
}
