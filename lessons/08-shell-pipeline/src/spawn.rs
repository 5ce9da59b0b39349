//! The same pipeline two other ways: `--spawn command`, where
//! `std::process::Command` makes the fork, the dup2s and the exec out of
//! sight, and `--spawn bare`, the system calls alone (src/bare.rs). Both
//! end in the same report of statuses as the narrated fork version.

use std::ffi::CString;
use std::process::{Command, ExitCode, Stdio};

use labkit::Speaker::Parent;
use labkit::say;
use nix::errno::Errno;

use crate::{
    Ended, Failure, Stage, bare, command_not_found, report_exec_failure,
    report_statuses,
};

// ANCHOR: command
/// The same pipeline through `std::process::Command`: std makes the fork,
/// the dup2s, the closes and the exec, out of sight.
pub fn with_command(stages: &[Stage]) -> Result<ExitCode, Failure> {
    let mut children = Vec::new();
    // The read end of the pipe on the left of the next stage.
    let mut left: Option<std::io::PipeReader> = None;
    for (index, stage) in stages.iter().enumerate() {
        let mut command = Command::new(&stage.words[0]);
        command.args(&stage.words[1..]);
        if let Some(read_end) = left.take() {
            command.stdin(Stdio::from(read_end));
        }
        if index + 1 < stages.len() {
            // std::io::pipe: pipe2(O_CLOEXEC), as in the fork version.
            let (read_end, write_end) =
                std::io::pipe().map_err(|error| format!("pipe2: {error}"))?;
            command.stdout(Stdio::from(write_end));
            left = Some(read_end);
        }
        // spawn() forks, dup2s each Stdio onto 0, 1, 2, puts SIGPIPE back
        // to its default, execs, and learns of a failed exec through a
        // close-on-exec pipe of its own.
        let spawned = command.spawn();
        // `command` goes here, and with it our copies of the ends it got.
        drop(command);
        match spawned {
            Ok(child) => {
                say!(
                    Parent,
                    "spawned stage {} (pid {})",
                    stage.number,
                    child.id()
                );
                children.push(Ok(child));
            }
            // The program could not be started: no process was made.
            Err(error) if error.raw_os_error().is_some() => {
                let errno = Errno::from_raw(error.raw_os_error().unwrap_or(0));
                report_exec_failure(stage, errno);
                let missing = command_not_found(&stage.words[0], errno);
                children.push(Err(if missing { 127 } else { 126 }));
            }
            Err(error) => return Err(format!("spawn: {error}").into()),
        }
    }
    let mut statuses = Vec::new();
    for (index, child) in children.into_iter().enumerate() {
        let ended = match child {
            Ok(mut child) => Ended::from_exit(
                child.wait().map_err(|error| format!("waitpid: {error}"))?,
            ),
            // No process was made: the status bash gives such a stage.
            Err(code) => Ended::Code(code),
        };
        say!(Parent, "reaped stage {}: {}", index + 1, ended.explain());
        statuses.push(ended);
    }
    let (posix, _) = report_statuses(stages, &statuses);
    Ok(ExitCode::from(u8::try_from(posix).unwrap_or(u8::MAX)))
}
// ANCHOR_END: command

/// `--spawn bare`: the system calls alone (src/bare.rs), then the report.
pub fn with_bare_calls(stages: &[Stage]) -> Result<ExitCode, Failure> {
    let argvs: Vec<Vec<CString>> =
        stages.iter().map(|stage| stage.argv.clone()).collect();
    let waited = bare::run(&argvs)?;
    let statuses: Vec<Ended> = waited
        .iter()
        .map(|status| Ended::from_wait(status).unwrap_or(Ended::Signal(9)))
        .collect();
    let (posix, _) = report_statuses(stages, &statuses);
    Ok(ExitCode::from(u8::try_from(posix).unwrap_or(u8::MAX)))
}

impl Ended {
    fn from_exit(status: std::process::ExitStatus) -> Ended {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Ended::Code(code),
            (None, Some(signal)) => Ended::Signal(signal),
            (None, None) => Ended::Code(status.into_raw()),
        }
    }
}
