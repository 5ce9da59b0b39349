//! `--size BYTES`: ask the kernel for a pipe of another size.
//!
//! `fcntl(F_SETPIPE_SZ, bytes)` rounds the request up to a power-of-two
//! number of pages and returns what it granted. Above
//! /proc/sys/fs/pipe-max-size (1 MiB by default) it answers EPERM, unless the
//! process holds CAP_SYS_RESOURCE. Being root is not enough by itself: root
//! in a container usually lacks that capability, and root in a user
//! namespace holds it only there, so the program asks the kernel by trying.

use std::os::fd::{AsFd, BorrowedFd};

use labkit::Speaker::{Kernel, Note, Parent};
use labkit::say;
use nix::errno::Errno;
use nix::unistd::geteuid;

use crate::pipe::{Outcome, new_pipe, set_capacity};

const PIPE_MAX_SIZE: &str = "/proc/sys/fs/pipe-max-size";

/// CAP_SYS_RESOURCE is capability number 24 (linux/capability.h).
const CAP_SYS_RESOURCE: u32 = 24;

// ANCHOR: who
/// Who is asking, and whether the kernel lets them above the ceiling.
struct Privilege {
    euid: u32,
    /// A trial pipe resized above the ceiling was granted.
    above_ceiling: bool,
    /// CapEff in /proc/self/status lists CAP_SYS_RESOURCE.
    cap_eff_lists_it: bool,
}

impl Privilege {
    /// Asks the kernel itself, with a trial pipe resized to just above the
    /// ceiling. CapEff alone can mislead: inside a user namespace
    /// (`unshare --user --map-root-user`) it lists every capability, but
    /// the kernel checks CAP_SYS_RESOURCE in the initial namespace.
    fn of_this_process(ceiling: usize) -> Outcome<Privilege> {
        let (_read_end, write_end) = new_pipe()?;
        let trial = i32::try_from(ceiling + 1).unwrap_or(i32::MAX);
        let above_ceiling = match set_capacity(write_end.as_fd(), trial) {
            Ok(_) => true,
            Err(Errno::EPERM) => false,
            Err(errno) => return Err(format!("trial F_SETPIPE_SZ: {errno}")),
        };
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|error| format!("reading /proc/self/status: {error}"))?;
        let mask = status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or(0);
        Ok(Privilege {
            euid: geteuid().as_raw(),
            above_ceiling,
            cap_eff_lists_it: mask & (1 << CAP_SYS_RESOURCE) != 0,
        })
    }

    fn describe(&self) -> String {
        let who = match self.euid {
            0 => "you are root (euid 0)".to_string(),
            euid => format!("you are not root (euid {euid})"),
        };
        if self.above_ceiling {
            format!(
                "{who}: a trial pipe above the ceiling was granted:\n\
                 the kernel lets you above it (you hold CAP_SYS_RESOURCE)"
            )
        } else if self.cap_eff_lists_it {
            format!(
                "{who}, yet a trial pipe above the ceiling got EPERM.\n\
                 CapEff lists CAP_SYS_RESOURCE, but for this user\n\
                 namespace only: the kernel checks it in the first one.\n\
                 The ceiling holds."
            )
        } else if self.euid == 0 {
            format!(
                "{who}, yet a trial pipe above the ceiling got EPERM:\n\
                 no CAP_SYS_RESOURCE, as in most containers. The ceiling holds."
            )
        } else {
            format!(
                "{who}: a trial pipe above the ceiling got EPERM:\n\
                 no CAP_SYS_RESOURCE. The ceiling holds for you."
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
    let privilege = Privilege::of_this_process(ceiling)?;
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
