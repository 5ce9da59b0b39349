//! Proof that a run leaves nothing behind: no descriptor open and no child
//! unreaped when a lesson program exits, no process still running and no
//! FIFO or socket left in its temporary directory after a test's run.
//!
//! A lesson checks itself at exit when [`CHECK_VAR`] is set: every program
//! ends through [`crate::cli::main`], which calls
//! [`Inherited::leaks_at_exit`] and,
//! when something is left, says what on stderr and exits with
//! [`LEAK_STATUS`]. Tests run lesson programs through [`run_clean`], which
//! sets the variable, gives the run a private temporary directory, and
//! fails the test naming whatever the run left.

use std::collections::BTreeSet;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::watchdog::{Finished, RunError, run};

/// Set (to anything) in a lesson program's environment, it makes the
/// program check at exit that it leaves no descriptor and no child behind.
pub const CHECK_VAR: &str = "PIPELAB_CHECK_LEAKS";

/// The exit status of a program whose own check found a leak (EX_SOFTWARE
/// in sysexits.h: an internal error).
pub const LEAK_STATUS: u8 = 70;

/// The first words of the stderr line that reports a leak.
pub const LEAK_REPORT: &str = "left behind at exit:";

/// Descriptors labkit itself keeps for the whole run (the self-pipe of the
/// signal thread that removes FIFOs on Ctrl-C): not the lesson's leaks.
static LABKIT_FDS: Mutex<BTreeSet<RawFd>> = Mutex::new(BTreeSet::new());

/// Runs `make`, and counts every descriptor it opened as labkit's own.
pub(crate) fn owned_by_labkit<T>(make: impl FnOnce() -> T) -> T {
    let before = open_fds();
    let made = make();
    let new = open_fds().difference(&before).copied().collect::<Vec<_>>();
    let mut owned = LABKIT_FDS.lock().unwrap_or_else(|e| e.into_inner());
    owned.extend(new);
    made
}

/// The descriptors this process has open, by number.
fn open_fds() -> BTreeSet<RawFd> {
    let listing = PathBuf::from(format!("/proc/{}/fd", std::process::id()));
    let Ok(entries) = std::fs::read_dir(&listing) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse().ok()?;
            // The directory being read is open too: not one of the program's.
            let target = std::fs::read_link(entry.path()).ok()?;
            (target != listing).then_some(fd)
        })
        .collect()
}

/// The descriptors a program had when it started: whoever started it
/// opened those (a shell, a test harness), so they are not its leaks.
pub struct Inherited(BTreeSet<RawFd>);

impl Inherited {
    /// Notes the descriptors open now, at the start of `main`.
    pub fn now() -> Inherited {
        Inherited(open_fds())
    }

    /// What this process leaves behind if it exits now: each descriptor it
    /// opened and did not close (with what it refers to, as `ls -l
    /// /proc/self/fd` shows it) and each child not yet reaped. Empty when
    /// [`CHECK_VAR`] is not set.
    pub fn leaks_at_exit(&self) -> Vec<String> {
        if std::env::var_os(CHECK_VAR).is_none() {
            return Vec::new();
        }
        leaks_beyond(&self.0)
    }
}

fn leaks_beyond(inherited: &BTreeSet<RawFd>) -> Vec<String> {
    let owned = LABKIT_FDS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut leaks: Vec<String> = open_fds()
        .into_iter()
        .filter(|fd| *fd > 2 && !owned.contains(fd) && !inherited.contains(fd))
        .filter_map(|fd| {
            let target = std::fs::read_link(format!("/proc/self/fd/{fd}"));
            Some(format!("fd {fd} -> {}", target.ok()?.display()))
        })
        .collect();
    leaks.extend(children().into_iter().map(|pid| {
        let state = process_state(pid).unwrap_or_else(|| "gone".into());
        format!("child {pid} not reaped ({state})")
    }));
    leaks
}

/// This process's children, from /proc/self/task/*/children (a child of any
/// thread is the process's child).
fn children() -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|task| {
            std::fs::read_to_string(task.path().join("children")).ok()
        })
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// "zombie", "running" or "sleeping": the state letter of /proc/PID/stat
/// in words.
fn process_state(pid: i32) -> Option<String> {
    let state = match crate::procfs::stat(pid)?.state {
        'Z' => "a zombie".to_string(),
        'R' => "running".to_string(),
        'S' | 'D' => "sleeping".to_string(),
        other => format!("state {other}"),
    };
    Some(state)
}

/// Runs a lesson program as every lesson test does, under `limit`, and
/// fails the test, naming what is wrong, if the run left anything behind:
/// a process still running after the program ended, a descriptor open or a
/// child unreaped at its exit, or a FIFO or socket in its temporary
/// directory (a fresh one, given as TMPDIR unless the test set its own).
///
/// A run that did not finish is returned as the error, for the test to
/// report with its own words about what was waiting.
#[track_caller]
pub fn run_clean(
    command: &mut Command,
    limit: Duration,
) -> Result<Finished, RunError> {
    let shown = describe(command);
    let own_tmp = tempfile::tempdir().expect("a temporary directory");
    // /tmp's own mode (sticky, open to all), so that a program run as
    // another user (labkit::nobody) can use it as it would use /tmp.
    let sticky = std::os::unix::fs::PermissionsExt::from_mode(0o1777);
    std::fs::set_permissions(own_tmp.path(), sticky).expect("chmod 1777");
    let tmp = match command.get_envs().find(|(key, _)| *key == "TMPDIR") {
        Some((_, Some(dir))) => Path::new(dir).to_path_buf(),
        _ => {
            command.env("TMPDIR", own_tmp.path());
            own_tmp.path().to_path_buf()
        }
    };
    let done = run(command.env(CHECK_VAR, "1"), limit)?;
    assert!(
        done.left_behind.is_empty(),
        "{shown} left processes running after it ended (killed now): {}",
        done.left_behind.join(", ")
    );
    if let Some(line) = done.stderr.lines().find(|l| l.contains(LEAK_REPORT)) {
        panic!("{shown} did not clean up: {line}");
    }
    let files = special_files_in(&tmp);
    assert!(
        files.is_empty(),
        "{shown} left in its temporary directory: {}",
        files.join(", ")
    );
    Ok(done)
}

/// The program and its arguments, for a failure message.
fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    let args: Vec<_> =
        command.get_args().map(|a| a.to_string_lossy()).collect();
    format!("{} {}", name.to_string_lossy(), args.join(" "))
}

/// The FIFOs and sockets under `dir`, at any depth.
fn special_files_in(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::FileTypeExt;
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            found.extend(special_files_in(&entry.path()));
        } else if kind.is_fifo() || kind.is_socket() {
            let what = if kind.is_fifo() { "FIFO" } else { "socket" };
            found.push(format!("{what} {}", entry.path().display()));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_reported_unless_asked_for() {
        // No test in this crate sets CHECK_VAR.
        assert!(std::env::var_os(CHECK_VAR).is_none());
        let (_read, _write) = nix::unistd::pipe().expect("pipe");
        assert!(Inherited(BTreeSet::new()).leaks_at_exit().is_empty());
    }

    #[test]
    fn a_descriptor_opened_since_the_start_is_named_with_its_target() {
        let at_start = Inherited::now();
        let (read, _write) = nix::unistd::pipe().expect("pipe");
        let leaks = leaks_beyond(&at_start.0);
        let fd = std::os::fd::AsRawFd::as_raw_fd(&read);
        let named = format!("fd {fd} -> pipe:[");
        // Other tests open descriptors at the same time: look for ours.
        assert!(leaks.iter().any(|l| l.starts_with(&named)), "{leaks:?}");
        assert!(
            !leaks_beyond(&open_fds()).iter().any(|l| l.starts_with("fd "))
        );
    }

    #[test]
    fn a_sleeping_process_is_described_in_words() {
        let mut child = Command::new("sleep").arg("5").spawn().expect("sleep");
        let pid = child.id() as i32;
        std::thread::sleep(Duration::from_millis(100));
        let state = process_state(pid);
        child.kill().expect("kill sleep");
        child.wait().expect("reap sleep");
        assert_eq!(state.as_deref(), Some("sleeping"));
    }

    #[test]
    #[should_panic(expected = "left processes running after it ended")]
    fn a_run_that_leaves_a_process_fails_naming_it() {
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 30 & exit 0"]);
        let _ = run_clean(&mut command, Duration::from_secs(10));
    }

    #[test]
    #[should_panic(expected = "left in its temporary directory: FIFO")]
    fn a_run_that_leaves_a_fifo_in_its_temporary_directory_fails() {
        let mut command = Command::new("sh");
        command.args(["-c", "mkfifo \"$TMPDIR/left\""]);
        let _ = run_clean(&mut command, Duration::from_secs(10));
    }

    #[test]
    fn fifos_and_sockets_are_found_at_any_depth_and_nothing_else() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).expect("mkdir");
        std::fs::write(dir.path().join("plain"), b"x").expect("a file");
        nix::unistd::mkfifo(&deep.join("f"), nix::sys::stat::Mode::S_IRWXU)
            .expect("mkfifo");
        let _socket =
            std::os::unix::net::UnixListener::bind(dir.path().join("s"))
                .expect("bind");
        let mut found = special_files_in(dir.path());
        found.sort();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("FIFO ") && found[0].ends_with("a/b/f"));
        assert!(found[1].starts_with("socket ") && found[1].ends_with("/s"));
    }
}
