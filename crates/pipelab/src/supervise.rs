//! Running a student's tests with a time limit, and leaving nothing behind.
//!
//! A test program runs in a process group of its own. But the exercises'
//! tests start the student's code through labkit's watchdog, which gives
//! each of those runs a group of its own too, so killing one group is not
//! enough for a hung exercise. The runner therefore becomes a "child
//! subreaper" (orphans are re-parented to it, not to init) and, when a run
//! ends or times out, kills every process that descends from it.

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use labkit::watchdog::collect;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// How a supervised run ended.
pub struct Finished {
    /// The exit status, or None when the run was killed at its limit.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

static SUBREAPER: Once = Once::new();

/// Runs `command` with empty stdin, collecting its output, for at most
/// `limit`; then kills whatever it left running.
pub fn run(
    command: &mut Command,
    limit: Duration,
) -> std::io::Result<Finished> {
    SUBREAPER.call_once(|| {
        // Best effort: without it, a grandchild orphaned by a killed test is
        // re-parented to init, out of our sight.
        #[cfg(target_os = "linux")]
        let _ = nix::sys::prctl::set_child_subreaper(true);
    });
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());

    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(5));
    };
    kill_descendants();
    Ok(Finished {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Kills and reaps every process descended from this one. Repeats, since a
/// process may fork while we look.
pub fn kill_descendants() {
    let me = std::process::id() as i32;
    for _ in 0..200 {
        reap_orphans();
        let living = descendants(me);
        if living.is_empty() {
            return;
        }
        for pid in living {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Reaps children that were re-parented to us and have ended.
fn reap_orphans() {
    while let Ok(status) =
        waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG))
    {
        if status == WaitStatus::StillAlive {
            break;
        }
    }
}

/// The living (not zombie) processes below `root`, from /proc.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for process in labkit::procfs::all() {
        if !process.is_zombie() {
            children.entry(process.parent).or_default().push(process.pid);
        }
    }
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            found.push(child);
            pending.push(child);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_past_its_limit_is_killed_with_its_escaped_grandchildren() {
        let marker = tempfile::tempdir().unwrap();
        let pid_file = marker.path().join("pid");
        // The grandchild moves to a process group of its own (setsid), as
        // labkit's watchdog does, so that a group kill would miss it.
        let script = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 60' & sleep 60",
            pid_file.display()
        );
        let started = Instant::now();
        let done = run(
            Command::new("sh").args(["-c", &script]),
            Duration::from_millis(500),
        )
        .unwrap();
        assert!(done.timed_out());
        assert!(started.elapsed() < Duration::from_secs(10));
        let grandchild: i32 =
            std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
        let alive = labkit::procfs::stat(grandchild)
            .is_some_and(|process| !process.is_zombie());
        assert!(!alive, "the grandchild {grandchild} was left running");
    }
}
