//! The tests of exercise 02 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit, so a probe that blocks on the full pipe fails with a
//! reason instead of hanging. The expected sizes are measured here, on this
//! machine, with fcntl on pipes of the test's own.
#![cfg(target_os = "linux")]

use std::os::fd::OwnedFd;
use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};
use labkit::nobody::{NobodyCopy, also_as_nobody};
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::unistd::pipe2;

/// The exercise's runner program (src/main.rs), built by cargo for this
/// package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// Runs one scenario, as ourselves or as uid 65534, and returns its
/// `key: value` report.
fn scenario(args: &[&str], as_nobody: bool) -> Report {
    let copy = as_nobody.then(|| {
        NobodyCopy::new(RUNNER).expect("a copy of the runner for nobody")
    });
    let mut command = match &copy {
        Some(copy) => copy.command(),
        None => Command::new(RUNNER),
    };
    command.args(args);
    run_scenario(
        &mut command,
        Duration::from_secs(20),
        "A write into a full pipe waits for a reader, and nobody reads this \
         pipe: set O_NONBLOCK on the write end first (fcntl F_SETFL), and stop \
         when write() fails with EAGAIN.",
    )
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

/// What the kernel grants the test itself for a request of `bytes`.
fn granted_here(bytes: i32) -> usize {
    fcntl(&fresh_pipe().1, FcntlArg::F_SETPIPE_SZ(bytes)).expect("F_SETPIPE_SZ")
        as usize
}

#[test]
fn the_probe_counts_what_f_getpipe_sz_reports() {
    let report = scenario(&["probe"], false);
    let probed = report.number("probed");
    let kernel = report.number("f_getpipe_sz");
    assert_eq!(kernel, fresh_pipe_size());
    assert_eq!(
        probed, kernel,
        "probe_capacity returned {probed}, but F_GETPIPE_SZ says the pipe \
         holds {kernel}. Write 1 byte at a time: larger writes can leave part \
         of a page unused."
    );
    assert_eq!(
        report.number("in-pipe"),
        probed,
        "the pipe held a different number of bytes than probe_capacity \
         returned: count what each write() reports"
    );
}

#[test]
fn the_probe_gives_back_a_blocking_write_end() {
    let report = scenario(&["probe"], false);
    assert_eq!(
        report["flags-after"],
        report["flags-before"],
        "the write end's flags changed: restore them with fcntl(F_SETFL) \
         before returning (O_NONBLOCK is {:#o})",
        OFlag::O_NONBLOCK.bits()
    );
}

#[test]
fn a_non_blocking_write_end_stays_non_blocking() {
    let report = scenario(&["probe-nonblocking"], false);
    assert_eq!(report.number("probed"), report.number("f_getpipe_sz"));
    assert_eq!(
        report["flags-after"], report["flags-before"],
        "this write end was non-blocking before the probe and must stay so: \
         put back the flags F_GETFL returned, rather than clearing O_NONBLOCK"
    );
}

#[test]
fn the_probe_measures_a_smaller_pipe_too() {
    let report = scenario(&["probe-small"], false);
    let probed = report.number("probed");
    let kernel = report.number("f_getpipe_sz");
    assert!(kernel < fresh_pipe_size(), "the runner shrank the pipe");
    assert_eq!(
        probed, kernel,
        "on a pipe of {kernel} bytes the probe found {probed}: measure the \
         pipe you are given, 1 byte per write"
    );
    assert_eq!(report.number("in-pipe"), probed);
}

#[test]
fn resize_reports_the_size_the_kernel_granted() {
    for asked in [1_000_000, 5000, 1] {
        let expected = granted_here(asked);
        let report = scenario(&["resize", &asked.to_string()], false);
        assert_eq!(
            report.number("f_getpipe_sz"),
            expected,
            "after resize({asked}) the pipe should hold {expected} bytes: call \
             fcntl(F_SETPIPE_SZ)"
        );
        assert_eq!(
            report.number("granted"),
            expected,
            "resize({asked}) must return the size the kernel granted (it \
             rounds up), not the size asked for"
        );
    }
    assert_eq!(granted_here(1_000_000), 1_048_576);
}

#[test]
fn above_pipe_max_size_the_kernel_says_eperm_unless_privileged() {
    let ceiling: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .expect("read pipe-max-size")
        .trim()
        .parse()
        .expect("a number");
    // Whether the kernel lets us above the ceiling, asked by trying on a
    // pipe of our own: CapEff may list CAP_SYS_RESOURCE inside a user
    // namespace, where the kernel does not honour it.
    let above = i32::try_from(ceiling + 1).expect("an int");
    let cap_sys_resource = fcntl(
        &pipe2(OFlag::O_CLOEXEC).expect("pipe2").1,
        FcntlArg::F_SETPIPE_SZ(above),
    )
    .is_ok();
    // As we are, and when we are root, as an ordinary user too.
    let identities = if also_as_nobody("the run as uid 65534") {
        vec![false, true]
    } else {
        vec![false]
    };
    let asked = (ceiling + 1).to_string();
    for as_nobody in identities {
        let report = scenario(&["resize", &asked], as_nobody);
        if cap_sys_resource && !as_nobody {
            assert_eq!(
                report.number("granted"),
                (ceiling + 1).next_power_of_two()
            );
        } else {
            assert_eq!(
                report["granted"], "error EPERM",
                "as nobody: {as_nobody}: return the kernel's error as it is"
            );
            assert_eq!(report.number("f_getpipe_sz"), fresh_pipe_size());
        }
    }
}

#[test]
fn resize_refuses_a_size_that_does_not_fit_an_int() {
    let report = scenario(&["resize", "3000000000"], false);
    assert_eq!(
        report["granted"], "error EINVAL",
        "3000000000 does not fit the C int F_SETPIPE_SZ takes: return \
         Errno::EINVAL"
    );
}
