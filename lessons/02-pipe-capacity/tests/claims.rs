//! Every claim of lesson 02, checked by running `pipe-capacity` as a
//! subprocess with a time limit. The expected figures are measured here, on
//! this machine, with fcntl(F_GETPIPE_SZ) on a fresh pipe of the test's own:
//! never a literal 65536 alone.
#![cfg(target_os = "linux")]

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::nobody::{NobodyCopy, also_as_nobody};
use labkit::watchdog::{Background, Finished};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, SysconfVar, geteuid, pipe2, sysconf, write};

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipe-capacity");

/// Generous: CI runs tests in parallel on two cores.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs the lesson with `args`, as ourselves or as uid 65534.
fn lesson(args: &[&str], as_nobody: bool) -> Finished {
    let copy = as_nobody.then(|| {
        NobodyCopy::new(PROGRAM).expect("a copy of pipe-capacity for nobody")
    });
    let mut command = match &copy {
        Some(copy) => copy.command(),
        None => Command::new(PROGRAM),
    };
    command.args(args).env("RUST_BACKTRACE", "0");
    match run_clean(&mut command, LIMIT) {
        Ok(done) => {
            assert!(
                !done.left_running,
                "pipe-capacity {args:?} left a process running (an unreaped \
                 reader child?)"
            );
            done
        }
        Err(error) => panic!(
            "pipe-capacity {args:?} (as nobody: {as_nobody}) did not finish: \
             {error}\n\
             (a blocking write or read was still waiting)"
        ),
    }
}

/// Runs the lesson and insists that it succeeded.
fn lesson_ok(args: &[&str], as_nobody: bool) -> String {
    let done = lesson(args, as_nobody);
    assert!(
        done.status.success(),
        "pipe-capacity {args:?} {}\n--- stdout:\n{}--- stderr:\n{}",
        labkit::status::explain_exit_status(done.status),
        done.stdout,
        done.stderr
    );
    done.stdout
}

/// The ways to run a claim that depends on privilege: as we are, and, when
/// we are root, also as an ordinary user (skipped, and said, where root
/// cannot become one).
fn identities() -> Vec<bool> {
    if also_as_nobody("the run as uid 65534") {
        vec![false, true]
    } else {
        vec![false]
    }
}

/// A fresh pipe (read end, write end), made by the test itself: no fork.
fn fresh_pipe() -> (OwnedFd, OwnedFd) {
    pipe2(OFlag::O_CLOEXEC).expect("pipe2")
}

/// What the kernel says a fresh pipe holds, on this machine.
fn fresh_pipe_size() -> usize {
    fcntl(&fresh_pipe().1, FcntlArg::F_GETPIPE_SZ).expect("F_GETPIPE_SZ")
        as usize
}

fn page_size() -> usize {
    sysconf(SysconfVar::PAGE_SIZE).expect("sysconf").expect("a page size")
        as usize
}

fn pipe_max_size() -> usize {
    std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .expect("read pipe-max-size")
        .trim()
        .parse()
        .expect("a number in pipe-max-size")
}

/// Whether the kernel lets this test process above pipe-max-size, asked
/// by trying on a pipe of its own (CapEff can claim CAP_SYS_RESOURCE in a
/// user namespace that the kernel does not honour): the binary, run as we
/// are, may do the same.
fn may_exceed_the_ceiling() -> bool {
    let above = i32::try_from(pipe_max_size() + 1).expect("an int");
    fcntl(&fresh_pipe().1, FcntlArg::F_SETPIPE_SZ(above)).is_ok()
}

/// Every number that follows `marker` on a line that contains it.
fn numbers_after(text: &str, marker: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|line| {
            let rest = line[line.find(marker)? + marker.len()..].trim_start();
            let digits: String =
                rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

/// The only number that follows `marker` in `text`.
fn the_number_after(text: &str, marker: &str) -> usize {
    match numbers_after(text, marker)[..] {
        [number] => number,
        ref found => panic!(
            "expected one number after {marker:?}, found {found:?} in:\n{text}"
        ),
    }
}

/// The "t=1.002 s" timestamp of a line.
fn timestamp(line: &str) -> f64 {
    let rest = &line[line.find("t=").expect("a timestamp") + 2..];
    rest.split_whitespace()
        .next()
        .and_then(|seconds| seconds.parse().ok())
        .expect("seconds after t=")
}

#[test]
fn the_probe_finds_what_f_getpipe_sz_reports() {
    let expected = fresh_pipe_size();
    let out = lesson_ok(&[], false);
    assert_eq!(the_number_after(&out, "probed capacity: "), expected, "{out}");
    assert_eq!(
        the_number_after(&out, "fcntl(F_GETPIPE_SZ) = "),
        expected,
        "{out}"
    );
    assert!(out.contains("EAGAIN"), "the probe ends on EAGAIN:\n{out}");
    assert!(out.contains("the probe and the kernel agree"), "{out}");
}

#[test]
fn a_default_pipe_holds_64_kib_that_is_64_times_1024_bytes() {
    let page = page_size();
    let size = fresh_pipe_size();
    assert_eq!(size, 16 * page, "a default pipe is 16 pages");
    let out = lesson_ok(&[], false);
    assert_eq!(the_number_after(&out, "probed capacity: "), size, "{out}");
    if page == 4096 {
        assert_eq!(size, 64 * 1024, "64 KiB, which is not 32K");
    } else {
        eprintln!("skipped: 64 KiB holds for 4096-byte pages, here {page}");
    }
}

#[test]
fn with_step_delay_60_a_terminal_sees_the_row_drawn_page_by_page() {
    // `script` runs the probe on a pseudo-terminal, where the bar redraws
    // its row after each page ("\r" and the row again) instead of printing
    // it once complete, and copies what was drawn to its own stdout.
    let shown = format!("'{PROGRAM}' --step-delay 60 --color never");
    let mut command = Command::new("script");
    command.args(["--quiet", "--return", "--command", &shown, "/dev/null"]);
    let started = std::time::Instant::now();
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("script running the probe did not finish: {error}")
    });
    let took = started.elapsed();
    assert!(done.status.success(), "{}\n{}", done.stdout, done.stderr);
    let pages = fresh_pipe_size() / page_size();
    // Each drawing of the row, as the number of pages it shows.
    let drawn: Vec<usize> = done
        .stdout
        .split('\r')
        .filter_map(|frame| frame.strip_prefix("kernel | "))
        .map(|row| row.chars().take_while(|&mark| mark == '#').count())
        .filter(|&marks| marks > 0)
        .collect();
    let one_page_more_each_time: Vec<usize> = (1..=pages).collect();
    assert_eq!(drawn, one_page_more_each_time, "{:?}", done.stdout);
    // 60 ms after each page: a lower bound on the run, never an upper one.
    let pauses = Duration::from_millis(60) * pages as u32;
    assert!(took >= pauses, "{pages} pages drawn in {took:?}");
}

#[test]
fn the_progress_bar_shows_one_mark_per_page() {
    let page = page_size();
    let out = lesson_ok(&["--step-delay", "1"], false);
    let marks: usize = out
        .lines()
        .filter(|line| line.starts_with("kernel | #"))
        .map(|line| line.matches('#').count())
        .sum();
    assert_eq!(marks, fresh_pipe_size() / page, "{out}");
}

#[test]
fn a_request_of_1000000_bytes_is_granted_1048576() {
    // The kernel's rounding, seen by the test itself on a pipe of its own.
    let granted_here = fcntl(&fresh_pipe().1, FcntlArg::F_SETPIPE_SZ(1_000_000))
        .expect("F_SETPIPE_SZ(1000000) within pipe-max-size")
        as usize;
    assert_eq!(granted_here, 1_048_576, "a power-of-two number of pages");
    for as_nobody in identities() {
        let out = lesson_ok(&["--size", "1000000"], as_nobody);
        assert_eq!(
            the_number_after(&out, "granted "),
            granted_here,
            "as nobody: {as_nobody}\n{out}"
        );
        let probes = numbers_after(&out, "probed capacity: ");
        let kernel = numbers_after(&out, "fcntl(F_GETPIPE_SZ) = ");
        let default = fresh_pipe_size();
        assert_eq!(
            probes,
            [default, granted_here],
            "as nobody: {as_nobody}\n{out}"
        );
        assert_eq!(
            kernel,
            [default, granted_here],
            "as nobody: {as_nobody}\n{out}"
        );
        assert!(out.contains("/proc/sys/fs/pipe-max-size = "), "{out}");
        assert!(out.contains("rounds a request up"), "{out}");
    }
}

#[test]
fn above_pipe_max_size_only_cap_sys_resource_may_go() {
    let ceiling = pipe_max_size();
    let request = (ceiling + 1).to_string();
    for as_nobody in identities() {
        let privileged = !as_nobody && may_exceed_the_ceiling();
        let done = lesson(&["--size", &request], as_nobody);
        let out = &done.stdout;
        let expected_case =
            match (as_nobody || !geteuid().is_root(), privileged) {
                (_, true) => "the kernel lets you above it",
                (false, false) => {
                    "you are root (euid 0), yet a trial pipe above the \
                     ceiling got EPERM"
                }
                (true, false) => "you are not root",
            };
        assert!(
            out.contains(expected_case),
            "as nobody: {as_nobody}: expected {expected_case:?} in:\n{out}"
        );
        if privileged {
            assert!(done.status.success(), "{out}{}", done.stderr);
            let rounded = (ceiling + 1).next_power_of_two();
            assert_eq!(the_number_after(out, "granted "), rounded, "{out}");
        } else {
            assert_eq!(
                done.status.code(),
                Some(1),
                "as nobody: {as_nobody}: a refused resize fails\n{out}{}",
                done.stderr
            );
            assert!(out.contains("= -1 EPERM"), "{out}");
            let error = done.stderr.trim_end();
            assert_eq!(error.lines().count(), 1, "one line on stderr: {error}");
            assert!(
                error.contains("EPERM") && error.contains("CAP_SYS_RESOURCE"),
                "{error}"
            );
        }
    }
}

#[test]
fn bad_input_gets_one_line_and_a_failing_status() {
    let cases: [&[&str]; 6] = [
        &["--size", "0"],
        &["--size", "abc"],
        &["--size", "-5"],
        &["--size", "99999999999"],
        &["--show", "everything"],
        &["--show", "blocking", "--size", "8192"],
    ];
    for args in cases {
        let done = lesson(args, false);
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        let error = done.stderr.trim_end();
        assert_eq!(
            error.lines().count(),
            1,
            "{args:?}: one line, got:\n{error}"
        );
        assert!(error.starts_with("pipe-capacity: error: "), "{error}");
        assert!(!error.contains("panicked"), "{error}");
        assert_eq!(done.stdout, "", "{args:?}: nothing runs on bad input");
    }
}

#[test]
fn a_blocking_writer_stops_exactly_when_the_pipe_is_full() {
    let size = fresh_pipe_size();
    let out = lesson_ok(&["--show", "blocking"], false);
    let blocked_after = numbers_after(&out, "after ");
    let reads: Vec<usize> = out
        .lines()
        .filter(|line| line.starts_with(" child |"))
        .flat_map(|line| numbers_after(line, " s reading "))
        .collect();
    assert_eq!(reads.len(), 3, "three reads of a page:\n{out}");
    assert_eq!(blocked_after.len(), reads.len(), "one wait per read:\n{out}");
    // Each time the writer stopped, the pipe held exactly its capacity:
    // everything written so far, minus everything the reader had taken.
    let mut taken = 0;
    for (stop, read) in blocked_after.iter().zip(&reads) {
        assert_eq!(stop - taken, size, "{out}");
        taken += read;
    }
    // The writer went on only after the reader's read: timestamps in order.
    let read_times: Vec<f64> = out
        .lines()
        .filter(|line| line.contains(" s reading "))
        .map(timestamp)
        .collect();
    let resume_times: Vec<f64> = out
        .lines()
        .filter(|line| line.contains("was blocked"))
        .map(timestamp)
        .collect();
    for (read, resumed) in read_times.iter().zip(&resume_times) {
        assert!(
            resumed >= read,
            "resumed at {resumed} before the read at {read}:\n{out}"
        );
    }
    let total = size + taken;
    assert_eq!(the_number_after(&out, "wrote all "), total, "{out}");
    assert_eq!(the_number_after(&out, "the reader got "), total, "{out}");
    assert!(out.contains("reaped my reader"), "{out}");
    assert!(out.contains("exited with code 0"), "{out}");
}

#[test]
fn a_reader_that_never_reads_leaves_the_writer_to_sigalrm_after_10_s() {
    // The reader child sleeps 1 s before its first read; stopping it
    // first makes it a reader that never reads. The parent's blocking
    // write then waits until its 10 s alarm.
    let started = std::time::Instant::now();
    let mut command = Command::new(PROGRAM);
    command.args(["--show", "blocking"]);
    let mut run = Background::start(&mut command, LIMIT);
    let forked = run.wait_for("forked my reader, child ");
    let reader: i32 = forked
        .rsplit(' ')
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no reader pid in {forked:?}"));
    let reader = Pid::from_raw(reader);
    kill(reader, Signal::SIGSTOP).expect("stop the reader");
    let writer = run.pid().as_raw();
    let deadline = started + LIMIT;
    while labkit::procfs::stat(writer).is_some_and(|stat| !stat.is_zombie()) {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer was still blocked in write() after {LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = started.elapsed();
    // The orphaned reader is still stopped: it must not outlive the test.
    kill(reader, Signal::SIGKILL).expect("kill the stopped reader");
    let (status, out, _) = run.finish();
    assert_eq!(status.signal(), Some(Signal::SIGALRM as i32), "{out}");
    assert!(!out.contains("wrote all"), "the writes never finished:\n{out}");
    assert!(took >= Duration::from_secs(10), "SIGALRM came after {took:?}");
}

/// Fills a fresh pipe of the test's own with `chunk`-byte non-blocking
/// writes until EAGAIN; the bytes it took.
fn fill_here(chunk: usize) -> usize {
    // The read end stays open: with no reader, write() would fail with EPIPE.
    let (_reader, writer) = fresh_pipe();
    let flags = OFlag::from_bits_retain(
        fcntl(&writer, FcntlArg::F_GETFL).expect("F_GETFL"),
    );
    fcntl(&writer, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))
        .expect("F_SETFL");
    let data = vec![b'x'; chunk];
    let mut taken = 0;
    loop {
        match write(&writer, &data) {
            Ok(n) => taken += n,
            Err(Errno::EAGAIN) => return taken,
            Err(errno) => panic!("write: {errno}"),
        }
    }
}

#[test]
fn how_much_fits_depends_on_the_write_size() {
    let size = fresh_pipe_size();
    let pages = size / page_size();
    let out = lesson_ok(&["--show", "write-sizes"], false);
    let went_in = |chunk: usize| {
        the_number_after(&out, &format!(" {chunk}-byte writes: "))
    };
    // 1 byte, a page and a whole pipe per write: every byte is used.
    assert_eq!(went_in(1), size, "{out}");
    assert_eq!(went_in(4096), size, "{out}");
    assert_eq!(went_in(65536), size, "{out}");
    // 1000-byte writes: four to a page, the rest of each page stays empty.
    assert_eq!(went_in(1000), pages * (page_size() / 1000) * 1000, "{out}");
    // 4097-byte writes: fewer still, as the kernel does for the test too.
    assert_eq!(went_in(4097), fill_here(4097), "{out}");
    assert!(went_in(4097) < size, "{out}");
}

#[test]
fn a_pipe_buf_write_goes_in_whole_or_not_at_all() {
    let size = fresh_pipe_size();
    let out = lesson_ok(&["--show", "pipe-buf"], false);
    let fills = numbers_after(&out, "-byte pipe with ");
    assert_eq!(fills, [size - 4095, size - 4095], "{out}");
    assert!(
        out.contains(
            "4096-byte write into 4095 free bytes: -1 EAGAIN, nothing written"
        ),
        "{out}"
    );
    assert_eq!(
        the_number_after(&out, "4095-byte write into 4095 free bytes: "),
        4095,
        "{out}"
    );
    // A page and 1 byte (4097 with 4 KiB pages): only the odd byte fits.
    let above = page_size() + 1;
    let split = the_number_after(
        &out,
        &format!("{above}-byte write into 4095 free bytes: "),
    );
    assert_eq!(split, 1, "a write above PIPE_BUF goes in partly:\n{out}");
}

#[test]
fn the_bare_calls_find_what_the_narrated_probe_finds() {
    let size = fresh_pipe_size();
    let narrated = lesson_ok(&[], false);
    assert_eq!(the_number_after(&narrated, "probed capacity: "), size);
    let bare = lesson_ok(&["--show", "bare"], false);
    assert!(!bare.contains(" | "), "no narration:\n{bare}");
    assert_eq!(the_number_after(&bare, "probe: "), size, "{bare}");
    assert_eq!(the_number_after(&bare, "F_GETPIPE_SZ) = "), size, "{bare}");
    // 100000 bytes is 25 pages of 4096, rounded up to 32: 131072. The rule
    // is the kernel's, computed here for this machine's page size.
    let page = page_size();
    let expected = 100_000usize.div_ceil(page).next_power_of_two() * page;
    assert_eq!(
        the_number_after(&bare, "F_SETPIPE_SZ, 100000) = "),
        expected,
        "{bare}"
    );
    if page == 4096 {
        assert_eq!(expected, 131_072, "the figure the chapter's quiz states");
    }
}

#[test]
fn trace_shows_the_calls_and_their_results() {
    let size = fresh_pipe_size();
    let out = lesson_ok(&["--trace"], false);
    assert!(out.contains("O_CLOEXEC) = 0"), "{out}");
    assert!(out.contains("F_SETFL, O_NONBLOCK) = 0"), "{out}");
    assert!(out.contains(&format!("F_GETPIPE_SZ) = {size}")), "{out}");
    assert!(out.contains(", 1) = -1 EAGAIN"), "{out}");
}

#[test]
fn colour_only_when_asked_for() {
    assert!(!lesson_ok(&[], false).contains('\x1b'), "piped output is plain");
    assert!(lesson_ok(&["--color", "always"], false).contains('\x1b'));
}
