//! Every claim of lesson 06, checked by running `pipe-buf` as a subprocess
//! with a time limit: its writers are real processes, writing at once into
//! a real FIFO (or pipe). PIPE_BUF and the pipe's capacity are asked here,
//! of a pipe the test makes itself (fpathconf, F_GETPIPE_SZ): never a
//! literal 4096 or 65536 alone. What the C headers and Rust's standard
//! library promise is asked of small programs compiled here by `cc` and
//! the course's `rustc`.
#![cfg(target_os = "linux")]

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::nobody::{NOBODY, NobodyCopy, also_as_nobody};
use labkit::watchdog::Finished;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
use nix::unistd::{PathconfVar, fpathconf, pipe2, read};
use wait_timeout::ChildExt;

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipe-buf");

/// Generous: the tests run in parallel on two cores. A run takes well
/// under a second.
const LIMIT: Duration = Duration::from_secs(60);

/// How many runs a claim that depends on the scheduler gets (see
/// `above_pipe_buf_records_are_torn`).
const TRIES: usize = 5;

/// A fresh pipe of the test's own.
fn fresh_pipe() -> (OwnedFd, OwnedFd) {
    pipe2(OFlag::O_CLOEXEC).expect("pipe2")
}

/// PIPE_BUF on this machine, asked as the lesson asks it.
fn pipe_buf() -> usize {
    let value = fpathconf(&fresh_pipe().0, PathconfVar::PIPE_BUF)
        .expect("fpathconf(_PC_PIPE_BUF)")
        .expect("a PIPE_BUF for pipes");
    usize::try_from(value).expect("a positive PIPE_BUF")
}

/// What a fresh pipe holds on this machine.
fn pipe_capacity() -> usize {
    let size = fcntl(&fresh_pipe().1, FcntlArg::F_GETPIPE_SZ);
    usize::try_from(size.expect("F_GETPIPE_SZ")).expect("a capacity")
}

/// What one run printed, with its closing line read.
struct Outcome {
    stdout: String,
    records: u64,
    whole: u64,
    torn: u64,
}

/// Runs `pipe-buf` with `args` and its own temporary directory, which must
/// be empty again afterwards (the FIFO and its directory removed).
fn lesson(args: &[&str]) -> Outcome {
    lesson_as(args, false)
}

fn lesson_as(args: &[&str], as_nobody: bool) -> Outcome {
    let done = run_raw(args, as_nobody, |done, _| done);
    assert!(
        done.status.success(),
        "pipe-buf {args:?} {}\n--- stdout:\n{}--- stderr:\n{}",
        labkit::status::explain_exit_status(done.status),
        done.stdout,
        done.stderr
    );
    let last = done.stdout.lines().last().unwrap_or_default().to_string();
    let (records, whole, torn) = closing_line(&last).unwrap_or_else(|| {
        panic!(
            "pipe-buf {args:?}: the last line should be exactly \
             `records: TOTAL, whole: W, torn: T`, it is {last:?}"
        )
    });
    Outcome { stdout: done.stdout, records, whole, torn }
}

/// Runs the program, bounded, and hands its outcome to `check` while its
/// temporary directory still exists.
fn run_raw<T>(
    args: &[&str],
    as_nobody: bool,
    check: impl FnOnce(Finished, &Path) -> T,
) -> T {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let copy =
        as_nobody.then(|| NobodyCopy::new(PROGRAM).expect("a copy for nobody"));
    let mut command = match &copy {
        Some(copy) => {
            std::os::unix::fs::chown(tmp.path(), Some(NOBODY), Some(NOBODY))
                .expect("chown the temporary directory to nobody");
            copy.command()
        }
        None => Command::new(PROGRAM),
    };
    command
        .args(args)
        .args(["--color", "never"])
        .env("TMPDIR", tmp.path())
        .env("RUST_BACKTRACE", "0");
    let done = match run_clean(&mut command, LIMIT) {
        Ok(done) => done,
        Err(error) => panic!(
            "pipe-buf {args:?} did not finish: {error}\n(the reader waits \
             for the writers' bytes, the writers for the start pipe or for \
             room in the pipe)"
        ),
    };
    assert!(
        !done.left_running,
        "pipe-buf {args:?} left a process running: a writer never reaped"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .expect("read the temporary directory")
        .map(|entry| entry.map(|e| e.file_name()))
        .collect();
    assert!(
        left.is_empty(),
        "pipe-buf {args:?} left {left:?} in its temporary directory"
    );
    check(done, tmp.path())
}

/// `records: 160, whole: 160, torn: 0` as three numbers.
fn closing_line(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.strip_prefix("records: ")?;
    let (records, rest) = rest.split_once(", whole: ")?;
    let (whole, torn) = rest.split_once(", torn: ")?;
    Some((records.parse().ok()?, whole.parse().ok()?, torn.parse().ok()?))
}

/// The number after `label` in the narration, e.g. `partial writes` in
/// "... 385 write() calls, 225 partial writes, 346 EAGAIN".
fn number_before(stdout: &str, label: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|line| line.contains(label))
        .unwrap_or_else(|| panic!("no {label:?} in:\n{stdout}"));
    let before = &line[..line.find(label).unwrap()];
    let digits = before.trim_end().rsplit(' ').next().unwrap_or_default();
    digits.parse().unwrap_or_else(|_| panic!("no count in {line:?}"))
}

#[test]
fn at_pipe_buf_no_record_is_torn_run_after_run() {
    let size = pipe_buf().to_string();
    for via in ["fifo", "pipe"] {
        for _ in 0..3 {
            let outcome = lesson(&["--via", via, "--record-size", &size]);
            assert_eq!(
                (outcome.records, outcome.whole, outcome.torn),
                (160, 160, 0),
                "8 writers × 20 records of PIPE_BUF bytes via {via}: every \
                 write of at most PIPE_BUF is atomic\n{}",
                outcome.stdout
            );
        }
    }
}

#[test]
fn the_default_run_is_eight_writers_of_pipe_buf_records_and_none_torn() {
    let outcome = lesson(&[]);
    assert_eq!((outcome.records, outcome.torn), (160, 0), "{}", outcome.stdout);
    let bytes = 160 * 4096;
    assert!(
        outcome
            .stdout
            .contains(&format!("read {bytes} bytes, then 0: every writer")),
        "{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains(
            "every writer's records arrived in the order it wrote them"
        ),
        "{}",
        outcome.stdout
    );
}

#[test]
fn below_pipe_buf_many_small_records_stay_whole() {
    let outcome = lesson(&[
        "--writers",
        "16",
        "--records",
        "200",
        "--record-size",
        "100",
    ]);
    assert_eq!((outcome.whole, outcome.torn), (3200, 0), "{}", outcome.stdout);
}

#[test]
fn pipe_buf_comes_from_fpathconf_and_decides_the_verdict() {
    let pipe_buf = pipe_buf();
    let at = lesson(&[
        "--writers",
        "2",
        "--records",
        "2",
        "--record-size",
        &pipe_buf.to_string(),
    ]);
    assert!(
        at.stdout.contains(&format!(
            "PIPE_BUF is {pipe_buf} bytes: fpathconf(fd, _PC_PIPE_BUF) = \
             {pipe_buf}"
        )),
        "the program should report fpathconf's PIPE_BUF ({pipe_buf}):\n{}",
        at.stdout
    );
    assert!(
        at.stdout.contains(&format!(
            "a record is {pipe_buf} bytes: at most PIPE_BUF"
        )),
        "{}",
        at.stdout
    );
    let above = (pipe_buf + 1).to_string();
    let above =
        lesson(&["--writers", "2", "--records", "2", "--record-size", &above]);
    assert!(
        above.stdout.contains(&format!(
            "a record is {} bytes: more than PIPE_BUF",
            pipe_buf + 1
        )),
        "{}",
        above.stdout
    );
}

#[test]
fn pipe_buf_agrees_with_python() {
    // A second opinion from another language's runtime, on its own pipe.
    let script = "import os; r, w = os.pipe(); \
                  print(os.fpathconf(r, 'PC_PIPE_BUF'))";
    let done = run_clean(
        Command::new("python3").args(["-c", script]),
        Duration::from_secs(20),
    )
    .expect("python3 runs");
    assert!(done.status.success(), "python3: {}", done.stderr);
    let outcome = lesson(&["--writers", "1", "--records", "1"]);
    let python = done.stdout.trim();
    assert!(
        outcome.stdout.contains(&format!("PIPE_BUF is {python} bytes")),
        "python3 says PIPE_BUF is {python}:\n{}",
        outcome.stdout
    );
}

/// Prints `_POSIX_PIPE_BUF PIPE_BUF` as `<limits.h>` defines them.
const LIMITS_PROGRAM: &str = r#"
#include <limits.h>
#include <stdio.h>
int main(void) {
    printf("%d %d\n", _POSIX_PIPE_BUF, PIPE_BUF);
    return 0;
}
"#;

#[test]
fn posix_asks_for_a_pipe_buf_of_at_least_512() {
    // _POSIX_PIPE_BUF is the standard's minimum, the same 512 on every
    // POSIX system; PIPE_BUF is this system's own figure, and must meet it.
    let program = labkit::compiled::c(
        LIMITS_PROGRAM,
        "pipe_buf_limits",
        Path::new(env!("CARGO_TARGET_TMPDIR")),
    );
    let done = run_clean(&mut Command::new(&program), LIMIT)
        .unwrap_or_else(|error| panic!("the <limits.h> program: {error}"));
    assert!(done.status.success(), "{}", done.stderr);
    let figures: Vec<usize> = done
        .stdout
        .split_whitespace()
        .map(|figure| figure.parse().expect("a number"))
        .collect();
    let [posix_minimum, header_pipe_buf] = figures[..] else {
        panic!("expected two numbers, got {:?}", done.stdout);
    };
    assert_eq!(posix_minimum, 512, "POSIX's _POSIX_PIPE_BUF is 512");
    assert!(
        header_pipe_buf >= posix_minimum,
        "PIPE_BUF ({header_pipe_buf}) must be at least POSIX's minimum"
    );
    assert_eq!(
        header_pipe_buf,
        pipe_buf(),
        "<limits.h> and fpathconf agree on this system's PIPE_BUF"
    );
}

/// `eprintln!` with the chapter's line, the writer and record numbers
/// taken from the command line so that nothing is known at compile time.
const EPRINTLN_PROGRAM: &str = r#"
fn main() {
    let mut args = std::env::args().skip(1);
    let id: u32 = args.next().unwrap().parse().unwrap();
    let n: u32 = args.next().unwrap().parse().unwrap();
    eprintln!("writer {id} record {n} done");
}
"#;

#[test]
fn eprintln_is_five_write_calls_one_of_them_17() {
    // A SOCK_SEQPACKET socket keeps the bounds of every write: each
    // write() the program makes on its stderr arrives as one record, and
    // each read() here returns exactly one. So the records are the calls.
    let program = labkit::compiled::rust(
        EPRINTLN_PROGRAM,
        "eprintln_writes",
        Path::new(env!("CARGO_TARGET_TMPDIR")),
    );
    let (ours, its_stderr) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .expect("socketpair(AF_UNIX, SOCK_SEQPACKET)");
    let mut child = Command::new(&program)
        .args(["3", "17"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(its_stderr))
        .spawn()
        .expect("start the eprintln! program");
    // The Command is gone: the child holds the only other end, and its
    // exit is our end of file.
    let status = child.wait_timeout(LIMIT).expect("wait for the program");
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the eprintln! program still runs after {LIMIT:?}");
    };
    assert!(status.success(), "the eprintln! program: {status}");
    let mut calls = Vec::new();
    let mut buffer = [0u8; 256];
    loop {
        let ready = labkit::watchdog::wait_readable(ours.as_fd(), LIMIT)
            .expect("poll the socket");
        assert!(ready, "no record, and no end of file, from the program");
        let n = read(&ours, &mut buffer).expect("read one record");
        if n == 0 {
            break;
        }
        calls.push(String::from_utf8_lossy(&buffer[..n]).into_owned());
    }
    assert_eq!(
        calls,
        ["writer ", "3", " record ", "17", " done\n"],
        "eprintln! writes each piece of its line with a write() of its own"
    );
}

/// Above PIPE_BUF, tearing needs two writers to meet at a full pipe: one
/// writer asleep in the middle of its record, another whose write() goes in
/// before it wakes. The scheduler decides that, so a run can be lucky (on
/// two busy cores, each writer may find the reader has just emptied the
/// pipe, or be the only one running when room appears). With 8 writers and
/// records larger than the pipe itself, every record's write() must stop
/// at least once, and a run with no torn record is rare: but not
/// impossible, so the claim gets a few runs before it fails.
#[test]
fn above_pipe_buf_records_are_torn() {
    let args = ["--writers", "8", "--records", "10", "--record-size", "100000"];
    let mut seen = Vec::new();
    for _ in 0..TRIES {
        let outcome = lesson(&args);
        assert_eq!(outcome.records, 80);
        assert_eq!(
            outcome.whole + outcome.torn,
            80,
            "whole and torn add up to what was sent: a pipe loses nothing"
        );
        assert!(
            outcome.stdout.contains("read 8000000 bytes, then 0"),
            "every byte arrives, torn or not:\n{}",
            outcome.stdout
        );
        if outcome.torn > 0 {
            shows_two_writers_side_by_side(&outcome.stdout);
            return;
        }
        seen.push(outcome.torn);
    }
    panic!(
        "{TRIES} runs of 8 writers with 100000-byte records, and no record \
         torn ({seen:?}): each write() larger than the pipe must wait for \
         room, and another writer's bytes should have come in between"
    );
}

/// The first torn record is shown with its own writer's bytes in one
/// column and another writer's, with a header, in the other.
fn shows_two_writers_side_by_side(stdout: &str) {
    let first = stdout
        .lines()
        .find(|line| line.contains("the first torn record: writer "))
        .unwrap_or_else(|| panic!("no torn record shown:\n{stdout}"));
    let owner: u32 = first
        .split("writer ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .and_then(|n| n.parse().ok())
        .expect("the torn record's writer");
    let others: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(": header + "))
        .filter(|line| !line.contains(&format!("writer {owner}:")))
        .collect();
    assert!(
        !others.is_empty(),
        "another writer's header should sit inside writer {owner}'s torn \
         record:\n{stdout}"
    );
    assert!(stdout.contains("the rest of its record comes later"), "{stdout}");
}

/// The smallest pipe the kernel grants for a request of PIPE_BUF bytes
/// (one page), asked of a pipe of the test's own.
fn smallest_pipe() -> usize {
    let (_read_end, write_end) = fresh_pipe();
    let asked = i32::try_from(pipe_buf()).expect("PIPE_BUF fits an int");
    let granted = fcntl(&write_end, FcntlArg::F_SETPIPE_SZ(asked));
    usize::try_from(granted.expect("F_SETPIPE_SZ")).expect("a size")
}

#[test]
fn in_the_smallest_pipe_pipe_buf_records_stay_whole() {
    let pipe_size = pipe_buf().to_string();
    for _ in 0..3 {
        let outcome = lesson(&["--pipe-size", &pipe_size, "--records", "50"]);
        assert!(
            outcome.stdout.contains(&format!(
                "the pipe now holds {} bytes (F_GETPIPE_SZ)",
                smallest_pipe()
            )),
            "{}",
            outcome.stdout
        );
        assert_eq!(outcome.torn, 0, "{}", outcome.stdout);
    }
}

#[test]
fn in_the_smallest_pipe_records_twice_its_size_are_torn() {
    // The same luck as above_pipe_buf_records_are_torn, in a pipe that
    // fills with every record.
    let pipe_size = pipe_buf().to_string();
    let record_size = (2 * smallest_pipe()).to_string();
    let args = [
        "--pipe-size",
        &pipe_size,
        "--records",
        "10",
        "--record-size",
        &record_size,
    ];
    for _ in 0..TRIES {
        if lesson(&args).torn > 0 {
            return;
        }
    }
    panic!("{TRIES} runs of {args:?} and no record torn");
}

/// One byte above PIPE_BUF is enough to lose the promise. Measured on
/// Linux 6.18 with 8 writers × 20 records: 2 to 11 of 160 torn per run.
/// The scheduler decides, so it gets retries, as above.
#[test]
fn one_byte_above_pipe_buf_records_can_tear() {
    let size = (pipe_buf() + 1).to_string();
    let args = ["--writers", "8", "--records", "40", "--record-size", &size];
    let mut seen = Vec::new();
    for _ in 0..TRIES {
        let outcome = lesson(&args);
        if outcome.torn > 0 {
            return;
        }
        seen.push(outcome.torn);
    }
    panic!("{TRIES} runs of {args:?}, none torn: {seen:?}");
}

#[test]
fn one_writer_alone_never_tears_even_above_pipe_buf() {
    // Tearing takes a second writer: alone, a writer's bytes stay in order
    // however often its large write() has to wait for room.
    let outcome = lesson(&[
        "--writers",
        "1",
        "--records",
        "20",
        "--record-size",
        "100000",
    ]);
    assert_eq!((outcome.whole, outcome.torn), (20, 0), "{}", outcome.stdout);
}

#[test]
fn nonblocking_writes_above_pipe_buf_go_in_partly() {
    // A record larger than the pipe can never go in with one non-blocking
    // write(): every record takes a partial write at least once.
    let size = pipe_capacity() + pipe_capacity() / 2;
    let size = size.to_string();
    let outcome = lesson(&[
        "--nonblocking",
        "--writers",
        "4",
        "--records",
        "5",
        "--record-size",
        &size,
    ]);
    let partial = number_before(&outcome.stdout, "partial writes");
    assert!(
        partial >= 20,
        "20 records larger than the pipe's capacity, written non-blocking: \
         each must go in partly at least once, {partial} partial writes \
         counted\n{}",
        outcome.stdout
    );
    assert!(
        outcome.stdout.contains("e.g. a write() of "),
        "{}",
        outcome.stdout
    );
}

#[test]
fn at_100000_bytes_every_nonblocking_record_goes_in_partly() {
    // The chapter's run: 8 writers × 20 records of 100 000 bytes, more
    // than the pipe holds, so no record can go in with one call.
    let capacity = pipe_capacity();
    assert!(
        capacity < 100_000,
        "this claim needs a pipe smaller than a record; F_GETPIPE_SZ says \
         {capacity}"
    );
    let outcome = lesson(&["--nonblocking", "--record-size", "100000"]);
    assert_eq!(outcome.records, 160, "{}", outcome.stdout);
    let partial = number_before(&outcome.stdout, "partial writes");
    assert!(
        partial >= 160,
        "each of the 160 records must take at least one partial write, \
         {partial} counted\n{}",
        outcome.stdout
    );
    // The example the narration picks: a write that took only what fit.
    let took = number_before(&outcome.stdout, "and returned: the rest");
    let took = usize::try_from(took).expect("a byte count");
    assert!(
        took > 0 && took <= capacity,
        "a partial write of a 100000-byte record takes at most the pipe's \
         {capacity} bytes, not {took}\n{}",
        outcome.stdout
    );
}

/// A non-blocking pipe of the test's own with only `free` bytes of room
/// left: filled page by page, every write going in whole (a write that
/// does not is a failure, never a wait).
fn nonblocking_pipe_with_room_for(free: usize) -> (OwnedFd, OwnedFd) {
    let (read_end, write_end) =
        pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).expect("pipe2");
    let mut to_fill = pipe_capacity() - free;
    let page = [b'x'; 4096];
    while to_fill > 0 {
        let chunk = &page[..to_fill.min(page.len())];
        let wrote = nix::unistd::write(&write_end, chunk).expect("fill");
        assert_eq!(wrote, chunk.len(), "filling the pipe");
        to_fill -= wrote;
    }
    (read_end, write_end)
}

#[test]
fn a_nonblocking_write_of_5000_bytes_into_4096_free_goes_in_partly() {
    let (_read_end, write_end) = nonblocking_pipe_with_room_for(4096);
    let wrote = nix::unistd::write(&write_end, &[b'y'; 5000]);
    assert_eq!(
        wrote,
        Ok(4096),
        "above PIPE_BUF, a non-blocking write takes what fits"
    );
}

#[test]
fn a_nonblocking_write_of_4096_bytes_into_100_free_writes_nothing() {
    let (read_end, write_end) = nonblocking_pipe_with_room_for(100);
    let wrote = nix::unistd::write(&write_end, &[b'y'; 4096]);
    assert_eq!(
        wrote,
        Err(nix::errno::Errno::EAGAIN),
        "at most PIPE_BUF: all or nothing"
    );
    // Nothing of it went in: the pipe holds only what filled it.
    let mut held = 0;
    let mut buffer = [0u8; 4096];
    while let Ok(n) = read(&read_end, &mut buffer) {
        assert!(buffer[..n].iter().all(|&byte| byte == b'x'), "a y got in");
        held += n;
    }
    assert_eq!(held, pipe_capacity() - 100);
}

#[test]
fn nonblocking_writes_larger_than_a_small_pipe_go_in_partly() {
    let pipe_size = pipe_buf().to_string();
    let record_size = (2 * smallest_pipe()).to_string();
    let outcome = lesson(&[
        "--nonblocking",
        "--pipe-size",
        &pipe_size,
        "--records",
        "5",
        "--record-size",
        &record_size,
    ]);
    let partial = number_before(&outcome.stdout, "partial writes");
    assert!(partial >= 40, "{partial} partial writes\n{}", outcome.stdout);
}

#[test]
fn nonblocking_writes_at_or_below_pipe_buf_never_go_in_partly() {
    let pipe_buf = pipe_buf();
    for size in [pipe_buf, pipe_buf / 2, 100] {
        for _ in 0..2 {
            let outcome = lesson(&[
                "--nonblocking",
                "--records",
                "50",
                "--record-size",
                &size.to_string(),
            ]);
            let partial = number_before(&outcome.stdout, "partial writes");
            assert_eq!(
                partial, 0,
                "a non-blocking write of {size} bytes (PIPE_BUF is \
                 {pipe_buf}) goes in whole or fails with EAGAIN\n{}",
                outcome.stdout
            );
            assert_eq!(outcome.torn, 0, "{}", outcome.stdout);
        }
    }
}

#[test]
fn the_claims_hold_for_an_ordinary_user() {
    if !also_as_nobody("the claims as uid 65534") {
        // We are an ordinary user, and every other test already is this
        // one; or we are root that cannot become nobody, and it is said.
        return;
    }
    let outcome = lesson_as(&[], true);
    assert_eq!((outcome.records, outcome.torn), (160, 0), "{}", outcome.stdout);
    let outcome = lesson_as(&["--via", "pipe", "--nonblocking"], true);
    assert_eq!(number_before(&outcome.stdout, "partial writes"), 0);
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [
        &["--record-size", "10"][..],
        &["--record-size", "2000000"],
        &["--record-size", "abc"],
        &["--writers", "0"],
        &["--writers", "65"],
        &["--records", "0"],
        &["--via", "socket"],
        &["--pipe-size", "100"],
        &["--writers", "64", "--records", "100000", "--record-size", "4096"],
    ] {
        run_raw(args, false, |done, _| {
            assert_eq!(
                done.status.code(),
                Some(2),
                "{args:?}: {}",
                done.stderr
            );
            assert_eq!(
                done.stderr.lines().count(),
                1,
                "{args:?}: one line on stderr, got {:?}",
                done.stderr
            );
            assert!(done.stderr.starts_with("pipe-buf: "), "{}", done.stderr);
            assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
            assert!(done.stdout.is_empty(), "{args:?}: {}", done.stdout);
        });
    }
}

#[test]
fn a_reader_of_its_output_that_leaves_early_is_no_reason_to_panic() {
    // `| head -n 1`: the narration meets a closed pipe (EPIPE, lesson 03)
    // after the first line; the run goes on and ends well.
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let script = "\"$0\" --color never | head -n 1; \
                  echo \"status: ${PIPESTATUS[0]}\"";
    let done = run_clean(
        Command::new("bash")
            .args(["-c", script, PROGRAM])
            .env("TMPDIR", tmp.path())
            .env("RUST_BACKTRACE", "0"),
        LIMIT,
    )
    .expect("bash runs pipe-buf | head");
    assert!(!done.left_running, "a writer was left running");
    assert!(
        done.stdout.ends_with("status: 0\n"),
        "pipe-buf | head -n 1 should end with status 0:\n{}{}",
        done.stdout,
        done.stderr
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    assert_eq!(done.stdout.lines().count(), 2, "{}", done.stdout);
}
