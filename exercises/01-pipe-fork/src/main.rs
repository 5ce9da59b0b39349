//! The test runner for exercise 01: you do not need to edit this file.
//!
//! `cargo lab check 1` runs this program once per scenario, as a process of
//! its own, because your code forks, and a fork is only safe in a process
//! with a single thread (the test harness has many). It calls your
//! `send_through_pipe` and prints what came back, one `key: value` line each,
//! for tests/exercise.rs to check, with what the kernel saw happen: a child
//! that ran and was reaped, and bytes that this process read from a file
//! descriptor. A made-up `Delivery` shows neither.

use std::process::ExitCode;

use ex01_pipe_fork::send_through_pipe;
use labkit::exercise::open_fds;
use nix::sys::wait::WaitStatus;

fn main() -> ExitCode {
    let Some(scenario) = std::env::args().nth(1) else {
        eprintln!(
            "usage: ex01-pipe-fork SCENARIO (one, three, none, exit-code, \
             large)"
        );
        return ExitCode::from(2);
    };
    let big = vec![b'x'; 100_000];
    let (messages, exit_code): (Vec<&[u8]>, i32) = match scenario.as_str() {
        "one" => (vec![b"hello\n"], 0),
        "three" => (vec![b"one\n", b"two\n", b"three\n"], 0),
        "none" => (vec![], 0),
        "exit-code" => (vec![b"bye\n"], 7),
        // 100 000 bytes: more than a pipe holds (65 536 by default).
        "large" => (vec![&big[..40_000], &big[40_000..]], 0),
        other => {
            eprintln!("ex01-pipe-fork: unknown scenario {other:?}");
            return ExitCode::from(2);
        }
    };

    let fds_before = open_fds();
    let before = Kernel::now();
    let delivery = match send_through_pipe(&messages, exit_code) {
        Ok(delivery) => delivery,
        Err(errno) => {
            eprintln!("send_through_pipe returned an error: {errno}");
            return ExitCode::FAILURE;
        }
    };
    let after = Kernel::now();
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();

    println!("pid: {}", std::process::id());
    println!("received-len: {}", delivery.received.len());
    println!("received: {:?}", String::from_utf8_lossy(&delivery.received));
    println!("child: {}", labkit::status::explain(&delivery.child));
    println!("leaked-fds: {}", leaked.join(" "));
    let child_pid = match delivery.child {
        WaitStatus::Exited(pid, _) | WaitStatus::Signaled(pid, _, _) => {
            pid.as_raw()
        }
        _ => 0,
    };
    println!(
        "child-is-another-process: {}",
        child_pid > 0 && child_pid != std::process::id() as i32
    );
    println!(
        "reaped-child-faults: {}",
        after.children_faults - before.children_faults
    );
    println!(
        "bytes-read-from-fds: {}",
        after.bytes_read.saturating_sub(before.bytes_read + before.cost)
    );
    ExitCode::SUCCESS
}

/// What the kernel counts for this process: the page faults of the
/// children it has reaped (a forked child faults as soon as it writes to
/// memory it shares with its parent), and the bytes its read() calls have
/// returned, from a pipe or anything else (/proc/self/io's rchar).
struct Kernel {
    children_faults: u64,
    bytes_read: u64,
    /// The bytes read to learn `bytes_read`: counted in the next reading.
    cost: u64,
}

impl Kernel {
    fn now() -> Kernel {
        // rchar first: the reading of /proc/self/stat below then counts in
        // the next reading's rchar, as `cost`, with this one's own.
        let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
        let bytes_read = io
            .lines()
            .find_map(|line| line.strip_prefix("rchar: "))
            .and_then(|field| field.trim().parse().ok())
            .unwrap_or(0);
        let stat =
            std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // After "pid (comm) ": state, ppid, pgrp, session, tty, tpgid,
        // flags, minflt, then cminflt.
        let children_faults = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(8))
            .and_then(|field| field.parse().ok())
            .unwrap_or(0);
        Kernel {
            children_faults,
            bytes_read,
            cost: (io.len() + stat.len()) as u64,
        }
    }
}
