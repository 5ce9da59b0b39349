//! Running a program as an ordinary user, for tests of what a learner meets
//! and root does not.
//!
//! Root ignores file permissions, so a test of "permission denied" or of an
//! unprivileged limit proves nothing when it runs as root, as CI does. Such
//! a test runs the program as `nobody` (uid and gid 65534) instead. The
//! program is copied first into a directory nobody may enter, because the
//! build directory usually sits under a home or a temporary directory that
//! only its owner may enter (mode 0700).
//!
//! Root cannot always become nobody: inside `unshare --user
//! --map-root-user` it is root over a namespace that maps uid 0 alone, and
//! `setuid(65534)` fails with EINVAL. A check that needs a second user then
//! cannot be made; [`nobody_or_skip`] says so on stderr, never silently.

use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The uid and gid of the user `nobody`.
pub const NOBODY: u32 = 65534;

/// The capabilities a switch of user needs (linux/capability.h).
const CAP_SETGID: u32 = 6;
const CAP_SETUID: u32 = 7;

/// True when this process runs as root, where permission tests need
/// [`NobodyCopy`].
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Why this process cannot run a program as nobody, in words; `None` when
/// it can: it is root, holds CAP_SETUID and CAP_SETGID, and its user
/// namespace maps uid and gid 65534.
pub fn nobody_unavailable() -> Option<String> {
    if !running_as_root() {
        return Some(format!(
            "we run as uid {}, and only root may run a program as another \
             user",
            nix::unistd::geteuid()
        ));
    }
    let status = match std::fs::read_to_string("/proc/self/status") {
        Ok(status) => status,
        Err(error) => return Some(format!("/proc/self/status: {error}")),
    };
    let effective = status
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok());
    for (capability, name) in [(CAP_SETUID, "SETUID"), (CAP_SETGID, "SETGID")] {
        if effective.is_none_or(|set| set & (1 << capability) == 0) {
            return Some(format!("we are root without CAP_{name}"));
        }
    }
    for (map, what) in
        [("/proc/self/uid_map", "uid"), ("/proc/self/gid_map", "gid")]
    {
        match std::fs::read_to_string(map) {
            Ok(text) if maps(&text, NOBODY) => {}
            Ok(text) => {
                let ranges: Vec<&str> = text.split_whitespace().collect();
                return Some(format!(
                    "this user namespace maps no {what} {NOBODY} ({map}: {})",
                    ranges.join(" ")
                ));
            }
            Err(error) => return Some(format!("{map}: {error}")),
        }
    }
    None
}

/// Whether an id map (lines of "first-inside first-outside count", as in
/// /proc/self/uid_map) gives `id` a meaning in this namespace.
fn maps(map: &str, id: u32) -> bool {
    map.lines().any(|line| {
        let numbers: Vec<u64> =
            line.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        matches!(numbers[..], [inside, _, count]
            if (inside..inside + count).contains(&u64::from(id)))
    })
}

/// For a check that needs a user other than ourselves: true when we may run
/// a program as nobody. Otherwise prints `skipped: TEST: CHECK: REASON` on
/// stderr and returns false, and the test leaves that check out. The line
/// is written past the test harness's capture, so a passing run shows it.
pub fn nobody_or_skip(check: &str) -> bool {
    let Some(reason) = nobody_unavailable() else {
        return true;
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    // A failed write to stderr leaves nothing better to report it on.
    let _ = writeln!(io::stderr(), "skipped: {test}: {check}: {reason}");
    false
}

/// For a claim checked as we are and, when we are root, as an ordinary
/// user too: true when we are root and may run a program as nobody. An
/// ordinary user gets false silently (the run as ourselves is the run as
/// an ordinary user); root that cannot become nobody gets false and a
/// `skipped:` line (see [`nobody_or_skip`]).
pub fn also_as_nobody(check: &str) -> bool {
    running_as_root() && nobody_or_skip(check)
}

/// A copy of a program that `nobody` can run; removed when dropped.
#[derive(Debug)]
pub struct NobodyCopy {
    dir: PathBuf,
    program: PathBuf,
}

impl NobodyCopy {
    /// Copies `program` into a fresh directory (mode 0755) under the
    /// system's temporary directory. Fails, saying why, when this process
    /// cannot run a program as nobody ([`nobody_unavailable`]).
    pub fn new(program: impl AsRef<Path>) -> io::Result<NobodyCopy> {
        static COPIES: AtomicUsize = AtomicUsize::new(0);
        if let Some(reason) = nobody_unavailable() {
            return Err(io::Error::other(format!(
                "cannot run a program as nobody: {reason}"
            )));
        }
        let program = program.as_ref();
        let dir = std::env::temp_dir().join(format!(
            "pipelab-nobody-{}-{}",
            std::process::id(),
            COPIES.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let copy = NobodyCopy {
            program: dir
                .join(program.file_name().unwrap_or("program".as_ref())),
            dir,
        };
        // Copied by `cp`, not std::fs::copy: while this process holds the new
        // file open for writing, a child forked by another thread (tests run
        // in parallel) inherits that descriptor until it execs, and running
        // the copy meanwhile fails with ETXTBSY ("text file busy").
        let copied =
            Command::new("cp").arg(program).arg(&copy.program).status()?;
        if !copied.success() {
            return Err(io::Error::other(format!(
                "cp {} {}: {copied}",
                program.display(),
                copy.program.display()
            )));
        }
        std::fs::set_permissions(
            &copy.program,
            std::fs::Permissions::from_mode(0o755),
        )?;
        Ok(copy)
    }

    /// A command that runs the copy as nobody, from the copy's directory
    /// (the test's own working directory may be out of nobody's reach).
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.current_dir(&self.dir).uid(NOBODY).gid(NOBODY);
        command
    }
}

impl Drop for NobodyCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watchdog::run;
    use std::time::Duration;

    #[test]
    fn the_copy_runs_as_nobody_when_we_may_switch() {
        let id = Path::new("/usr/bin/id");
        if !nobody_or_skip("running id as nobody") {
            let refused = NobodyCopy::new(id).unwrap_err().to_string();
            assert!(refused.contains("cannot run a program as nobody"));
            return;
        }
        let copy = NobodyCopy::new(id).unwrap();
        let done =
            run(copy.command().arg("-u"), Duration::from_secs(10)).unwrap();
        assert_eq!(done.stdout.trim(), "65534", "{}", done.stderr);
        let dir = copy.dir.clone();
        drop(copy);
        assert!(!dir.exists(), "the copy is removed when dropped");
    }

    #[test]
    fn an_id_map_covers_nobody_only_within_its_ranges() {
        // The initial namespace, `unshare --map-root-user`, and a rootless
        // container's subordinate range.
        assert!(maps("         0          0 4294967295\n", NOBODY));
        assert!(!maps("         0          0          1\n", NOBODY));
        assert!(maps("0 1000 1\n1 100000 65536\n", NOBODY));
        assert!(!maps("0 1000 1\n1 100000 65533\n", NOBODY));
        assert!(!maps("", NOBODY));
    }

    #[test]
    fn the_reason_matches_what_the_kernel_does_when_we_try() {
        // Decided by trying: the kernel runs `id -u` as nobody, or refuses.
        if !running_as_root() {
            assert!(nobody_unavailable().unwrap().contains("only root"));
            return;
        }
        let tried = run(
            Command::new("/usr/bin/id").arg("-u").uid(NOBODY).gid(NOBODY),
            Duration::from_secs(10),
        );
        let switched =
            tried.as_ref().is_ok_and(|done| done.stdout.trim() == "65534");
        assert_eq!(
            nobody_unavailable().is_none(),
            switched,
            "nobody_unavailable() says {:?}, the kernel {tried:?}",
            nobody_unavailable()
        );
    }
}
