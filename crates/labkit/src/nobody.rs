//! Running a program as an ordinary user, for tests of what a learner meets
//! and root does not.
//!
//! Root ignores file permissions, so a test of "permission denied" or of an
//! unprivileged limit proves nothing when it runs as root, as CI does. Such
//! a test runs the program as `nobody` (uid and gid 65534) instead. The
//! program is copied first into a directory nobody may enter, because the
//! build directory usually sits under a home or a temporary directory that
//! only its owner may enter (mode 0700).

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The uid and gid of the user `nobody`.
pub const NOBODY: u32 = 65534;

/// True when this process runs as root, where permission tests need
/// [`NobodyCopy`].
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// A copy of a program that `nobody` can run; removed when dropped.
#[derive(Debug)]
pub struct NobodyCopy {
    dir: PathBuf,
    program: PathBuf,
}

impl NobodyCopy {
    /// Copies `program` into a fresh directory (mode 0755) under the
    /// system's temporary directory.
    pub fn new(program: impl AsRef<Path>) -> io::Result<NobodyCopy> {
        static COPIES: AtomicUsize = AtomicUsize::new(0);
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
    fn the_copy_runs_as_nobody_when_we_are_root() {
        let id = Path::new("/usr/bin/id");
        if !running_as_root() || !id.exists() {
            // Only root may switch users; an ordinary user is already one.
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
}
