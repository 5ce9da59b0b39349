//! Two things the kernel shows that the lesson's program relies on, seen
//! here without it: `poll` reports `POLLERR` on a write end once no read
//! end is open (how the demo's child knows its parent has closed), and
//! `/proc/PID/status` lists the ignored signals as the mask `SigIgn`, in
//! which signal N is bit N - 1 (how the demo tells SIG_IGN from SIG_DFL).
#![cfg(target_os = "linux")]

use std::os::fd::AsFd;
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::pipe2;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn poll_reports_pollerr_on_a_write_end_once_no_read_end_is_open() {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC).expect("pipe2");
    // No event asked for: only POLLERR (or POLLHUP) can be reported.
    let mut asked = [PollFd::new(write_end.as_fd(), PollFlags::empty())];
    let ready = poll(&mut asked, PollTimeout::ZERO).expect("poll");
    assert_eq!(ready, 0, "a reader is open: nothing to report");
    drop(read_end);
    let mut asked = [PollFd::new(write_end.as_fd(), PollFlags::empty())];
    let ready = poll(&mut asked, PollTimeout::from(1000u16)).expect("poll");
    assert_eq!(ready, 1, "no reader left: poll must wake");
    assert_eq!(asked[0].revents(), Some(PollFlags::POLLERR));
}

/// The `SigIgn` mask of a bash that ran `setup` and then became grep.
fn ignored_mask_after(setup: &str) -> u64 {
    let script = format!("{setup} exec grep SigIgn /proc/self/status");
    let done = run_clean(Command::new("bash").arg("-c").arg(&script), LIMIT)
        .unwrap_or_else(|error| panic!("bash -c {script:?}: {error}"));
    done.stdout
        .strip_prefix("SigIgn:")
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no SigIgn mask in {:?}", done.stdout))
}

#[test]
fn sigign_shows_an_ignored_sigpipe_as_bit_12() {
    let sigpipe_bit = 1 << (13 - 1);
    // Command starts bash with SIGPIPE at its default.
    assert_eq!(ignored_mask_after("") & sigpipe_bit, 0, "SIG_DFL: bit clear");
    let ignored = ignored_mask_after("trap '' PIPE;");
    assert_eq!(ignored & sigpipe_bit, sigpipe_bit, "SIG_IGN: {ignored:x}");
}
