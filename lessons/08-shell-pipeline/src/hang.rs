//! When the pipeline does not end: after `--patience`, who still waits on
//! which pipe, and who (from /proc) holds the write end that keeps it from
//! end of file; then the hang is ended and everyone reaped. The bug flags
//! (`--leak-write-end`, `--no-cloexec`, `--leak-in-stage N`) lead here.

use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use labkit::Speaker::{Kernel, Note, Parent};
use labkit::say;
use labkit::watchdog::wait_for_child;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpid};

use crate::fdtable::{self, Names};
use crate::{Ended, Failure, Stage};

/// The processes this run started. Whatever happens, none outlives it:
/// dropping this kills and reaps every one not reaped yet.
#[derive(Default)]
pub struct Children {
    /// Each stage's pid, and how it ended once reaped.
    pub stages: Vec<(Pid, Option<Ended>)>,
    /// The unrelated program of --no-cloexec.
    pub job: Option<std::process::Child>,
}

impl Drop for Children {
    fn drop(&mut self) {
        for (pid, ended) in &mut self.stages {
            if ended.is_none() {
                let _ = kill(*pid, Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(*pid, None);
                *ended = Some(Ended::Signal(9));
            }
        }
        if let Some(job) = self.job.take() {
            end_unrelated_job(job);
        }
    }
}

/// After the patience ran out: who is still waiting, on which pipe, and
/// who (from /proc) holds the write end that keeps it from end of file.
/// Then the lesson ends the hang: closes the shell's kept end, or ends the
/// holder, and reaps everyone.
pub fn explain_the_hang(
    stages: &[Stage],
    names: &Names,
    children: &mut Children,
    kept: Option<OwnedFd>,
    patience: Duration,
) -> Result<(), Failure> {
    let shell = getpid().as_raw();
    let job = children.job.as_ref().map(|job| job.id() as i32);
    let running: Vec<usize> = (0..children.stages.len())
        .filter(|&index| children.stages[index].1.is_none())
        .collect();
    say!(
        Kernel,
        "after {:.1} s the pipeline has not ended",
        patience.as_secs_f64()
    );
    // Stages that hold a write end of a pipe they do not write.
    let mut leaking: Vec<usize> = Vec::new();
    for &index in &running {
        let (pid, stage) = (children.stages[index].0, &stages[index]);
        if index == 0 {
            say!(
                Kernel,
                "stage 1 (`{}`, pid {pid}) is still running:",
                stage.line
            );
            say!(
                Kernel,
                "  it reads no pipe of ours: its own work keeps it running"
            );
            continue;
        }
        say!(
            Kernel,
            "stage {} (`{}`, pid {pid}) still waits to read pipe #{index}:",
            stage.number,
            stage.line
        );
        say!(
            Kernel,
            "  end of file needs every write end closed; /proc shows:"
        );
        for holder in fdtable::write_end_holders(names.pipes[index - 1]) {
            let who = if holder.pid == shell {
                "the shell itself".to_string()
            } else if Some(holder.pid) == job {
                "an unrelated program".to_string()
            } else if let Some(k) = children
                .stages
                .iter()
                .position(|(p, _)| p.as_raw() == holder.pid)
            {
                // Stage index - 1 writes this pipe: its fd 1 is no leak.
                if k + 1 == index && holder.fd == 1 {
                    format!("stage {}, its writer, still running", k + 1)
                } else if k == index {
                    leaking.push(k);
                    format!("stage {} itself: it waits for itself", k + 1)
                } else {
                    leaking.push(k);
                    format!("stage {}, which does not write it", k + 1)
                }
            } else {
                "another process".to_string()
            };
            say!(
                Kernel,
                "  pid {} ({}) holds it as fd {}: {who}",
                holder.pid,
                holder.name,
                holder.fd
            );
        }
    }
    if let Some(write_end) = kept {
        say!(
            Note,
            "The shell kept a write end of the last pipe, so the last stage's"
        );
        say!(
            Note,
            "read waits for a writer that is the shell itself. The fix:"
        );
        say!(
            Note,
            "close every pipe end in the shell after the forks. Closing it now."
        );
        // The last write end but the stages' own: end of file follows.
        drop(write_end);
    }
    if let Some(job) = children.job.take() {
        say!(
            Note,
            "The pipes were made without O_CLOEXEC, so the unrelated program"
        );
        say!(
            Note,
            "inherited every end through its exec and holds them open. The fix:"
        );
        say!(
            Note,
            "pipe2(O_CLOEXEC). Ending that program now (pid {}).",
            job.id()
        );
        end_unrelated_job(job);
    }
    leaking.dedup();
    for &k in &leaking {
        let pid = children.stages[k].0;
        say!(
            Note,
            "Stage {} kept a write end through its exec: it never closed it,",
            k + 1
        );
        say!(
            Note,
            "and it was not close-on-exec. The fix: close every pipe end in"
        );
        say!(Note, "each child before exec. Ending stage {} now.", k + 1);
        let _ = kill(pid, Signal::SIGTERM);
    }
    for &index in &running {
        let pid = children.stages[index].0;
        let ended = match wait_for_child(pid, Duration::from_secs(5))? {
            Some(status) => Ended::from_wait(&status),
            None => {
                // Nothing left to blame: end it, as Ctrl-C would.
                let _ = kill(pid, Signal::SIGTERM);
                wait_for_child(pid, Duration::from_secs(5))?
                    .and_then(|status| Ended::from_wait(&status))
            }
        };
        if let Some(ended) = ended {
            children.stages[index].1 = Some(ended);
            say!(Parent, "reaped stage {} (pid {pid}):", index + 1);
            say!(Parent, "  {}", ended.explain());
        }
    }
    say!(Note, "The pipeline did not end by itself: exit status 1.");
    Ok(())
}

/// --no-cloexec: a program unrelated to the pipeline, started while the
/// pipes are open, the way a shell starts a background job.
pub fn start_unrelated_job(
    names: &Names,
    patience: Duration,
) -> Result<std::process::Child, Failure> {
    // Bounded by itself too, should anything fail to end it.
    let seconds = patience.as_secs() + 10;
    let job = Command::new("sleep")
        .arg(seconds.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("starting sleep: {error}"))?;
    let pid = job.id();
    // spawn returns once exec has begun, but the dynamic loader may still
    // hold a library open then: look once sleep is asleep (state S).
    let asleep = || {
        labkit::procfs::stat(pid as i32).is_some_and(|sleep| sleep.state == 'S')
    };
    let deadline = Instant::now() + Duration::from_secs(2);
    while !asleep() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let table = fdtable::entries(&pid.to_string())
        .map(|entries| names.table(&entries))
        .unwrap_or_default();
    say!(Parent, "(--no-cloexec) meanwhile I start an unrelated program,");
    say!(
        Parent,
        "`sleep {seconds}` (pid {pid}); after its exec, ls -l /proc/{pid}/fd \
         shows:\n{table}"
    );
    Ok(job)
}

pub fn end_unrelated_job(mut job: std::process::Child) {
    let _ = job.kill();
    let _ = job.wait();
}
