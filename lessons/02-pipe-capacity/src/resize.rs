//! `--size BYTES`: ask the kernel for a pipe of another size.
//!
//! `fcntl(F_SETPIPE_SZ, bytes)` rounds the request up to a power-of-two
//! number of pages and returns what it granted. Above
//! /proc/sys/fs/pipe-max-size (1 MiB by default) it answers EPERM, unless the
//! process holds CAP_SYS_RESOURCE. Being root is not enough by itself: root
//! in a container usually lacks that capability.

use std::os::fd::BorrowedFd;

use labkit::Speaker::{Kernel, Note, Parent};
use labkit::say;
use nix::errno::Errno;
use nix::unistd::geteuid;

use crate::pipe::{Outcome, set_capacity};

const PIPE_MAX_SIZE: &str = "/proc/sys/fs/pipe-max-size";

/// CAP_SYS_RESOURCE is capability number 24 (linux/capability.h).
const CAP_SYS_RESOURCE: u32 = 24;

// ANCHOR: who
/// Who is asking: that decides whether the ceiling applies.
struct Privilege {
    euid: u32,
    cap_sys_resource: bool,
}

impl Privilege {
    /// Reads the effective capabilities from the `CapEff:` line of
    /// /proc/self/status (a hexadecimal bit mask).
    fn of_this_process() -> Outcome<Privilege> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|error| format!("reading /proc/self/status: {error}"))?;
        let mask = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .ok_or("/proc/self/status has no readable CapEff line")?;
        Ok(Privilege {
            euid: geteuid().as_raw(),
            cap_sys_resource: mask & (1 << CAP_SYS_RESOURCE) != 0,
        })
    }

    fn describe(&self) -> String {
        let who = match self.euid {
            0 => "you are root (euid 0)".to_string(),
            euid => format!("you are not root (euid {euid})"),
        };
        if self.cap_sys_resource {
            format!(
                "{who} and hold CAP_SYS_RESOURCE (bit 24 of CapEff\n\
                 in /proc/self/status is set): you may go above the ceiling"
            )
        } else if self.euid == 0 {
            format!(
                "{who} but without CAP_SYS_RESOURCE, as in most\n\
                 containers (bit 24 of CapEff in /proc/self/status is 0):\n\
                 the ceiling holds for you too"
            )
        } else {
            format!(
                "{who} and hold no CAP_SYS_RESOURCE (bit 24 of CapEff\n\
                 in /proc/self/status is 0): the ceiling holds for you"
            )
        }
    }
}
// ANCHOR_END: who

/// What the kernel makes of a request: at least one page, then up to a
/// power of two (`round_pipe_size` in fs/pipe.c).
fn rounded_request(bytes: usize, page: usize) -> usize {
    bytes.max(page).next_power_of_two()
}

// ANCHOR: resize
/// Asks for a pipe of `requested` bytes and explains the kernel's answer.
/// Returns the size granted; a refusal comes back as one line for stderr.
pub fn resize(
    write_end: BorrowedFd<'_>,
    requested: i32,
    page: usize,
) -> Outcome<usize> {
    let ceiling: usize = std::fs::read_to_string(PIPE_MAX_SIZE)
        .map_err(|error| format!("reading {PIPE_MAX_SIZE}: {error}"))?
        .trim()
        .parse()
        .map_err(|error| format!("reading {PIPE_MAX_SIZE}: {error}"))?;
    say!(Kernel, "{PIPE_MAX_SIZE} = {ceiling}: the most a process");
    say!(Kernel, "may ask for without CAP_SYS_RESOURCE");
    let privilege = Privilege::of_this_process()?;
    say(Note, privilege.describe());

    say!(
        Parent,
        "asking for {requested} bytes: fcntl(F_SETPIPE_SZ, {requested})"
    );
    let rounded = rounded_request(requested as usize, page);
    match set_capacity(write_end, requested) {
        Ok(granted) => {
            let pages = granted / page;
            say!(Kernel, "granted {granted} bytes for {requested} asked:");
            say!(Kernel, "{pages} pages of {page} bytes");
            if granted != requested as usize {
                say!(
                    Note,
                    "the kernel rounds a request up to a power-of-two\n\
                     number of pages (and never below one page)"
                );
            }
            Ok(granted)
        }
        Err(Errno::EPERM) => {
            say!(Kernel, "fcntl(F_SETPIPE_SZ, {requested}) = -1 EPERM");
            say!(Kernel, "(Operation not permitted)");
            if rounded > ceiling {
                say!(
                    Note,
                    "{requested} rounds up to {rounded} bytes, above the\n\
                     ceiling of {ceiling}: only a process with\n\
                     CAP_SYS_RESOURCE may go there, and this one has none"
                );
                Err(format!(
                    "--size {requested}: refused with EPERM: {rounded} bytes \
                     is above {PIPE_MAX_SIZE} ({ceiling}) and this process \
                     lacks CAP_SYS_RESOURCE"
                ))
            } else {
                // The other limits: pages held by all the pipes of one
                // user. Past pipe-user-pages-soft (or a non-zero
                // pipe-user-pages-hard), only CAP_SYS_RESOURCE or
                // CAP_SYS_ADMIN may grow a pipe (pipe_set_size in fs/pipe.c).
                Err(format!(
                    "--size {requested}: refused with EPERM although {rounded} \
                     bytes is within the ceiling: your user's pipes already \
                     hold more pages than /proc/sys/fs/pipe-user-pages-soft \
                     (or a non-zero pipe-user-pages-hard) allows without \
                     CAP_SYS_RESOURCE or CAP_SYS_ADMIN"
                ))
            }
        }
        Err(errno) => Err(format!("fcntl(F_SETPIPE_SZ, {requested}): {errno}")),
    }
}
// ANCHOR_END: resize
