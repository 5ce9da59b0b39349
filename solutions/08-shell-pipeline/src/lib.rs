//! Exercise 08, solved: the pipeline built by hand, as lesson 08 builds
//! it (pipe2, fork, dup2, execvp), without the narration.

use std::ffi::CString;
use std::io;
use std::os::fd::OwnedFd;

use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{dup2_stdin, dup2_stdout, execvp, pipe2};

/// How one stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    /// It exited with this code (127: the command was not found).
    Exited(i32),
    /// A signal ended it: 13 is SIGPIPE.
    Signaled(i32),
}

impl StageStatus {
    /// The number a shell shows for it: the exit code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            StageStatus::Exited(code) => code,
            StageStatus::Signaled(signal) => 128 + signal,
        }
    }
}

/// Runs `stages` as one pipeline and returns each stage's status.
pub fn run_pipeline(stages: &[Vec<String>]) -> io::Result<Vec<StageStatus>> {
    let mut argvs = Vec::new();
    for words in stages {
        let argv = words
            .iter()
            .map(|word| CString::new(word.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        if argv.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an empty stage",
            ));
        }
        argvs.push(argv);
    }
    // pipes[k] joins stage k (writes) and stage k + 1 (reads).
    let mut pipes: Vec<(OwnedFd, OwnedFd)> = Vec::new();
    for _ in 1..argvs.len() {
        pipes.push(pipe2(OFlag::O_CLOEXEC)?);
    }
    let mut children = Vec::new();
    for (index, argv) in argvs.iter().enumerate() {
        match fork()? {
            Forked::Child => exec_stage(index, argv, pipes),
            Forked::Parent { child } => children.push(child),
        }
    }
    // Added: the shell uses no pipe end. A write end kept here would keep
    // the next stage from end of file for ever.
    drop(pipes);
    let mut statuses = Vec::new();
    for child in children {
        statuses.push(match waitpid(child, None)? {
            WaitStatus::Exited(_, code) => StageStatus::Exited(code),
            WaitStatus::Signaled(_, signal, _) => {
                StageStatus::Signaled(signal as i32)
            }
            other => {
                return Err(io::Error::other(format!("waitpid: {other:?}")));
            }
        });
    }
    Ok(statuses)
}

/// In the child: move the pipe ends onto 0 and 1, close every pipe end,
/// exec. Never returns.
fn exec_stage(
    index: usize,
    argv: &[CString],
    pipes: Vec<(OwnedFd, OwnedFd)>,
) -> ! {
    // Rust ignores SIGPIPE, and exec keeps an ignored signal ignored.
    let _ = set_disposition(Signal::SIGPIPE, Disposition::Default);
    if index > 0 && dup2_stdin(&pipes[index - 1].0).is_err() {
        exit_child(126);
    }
    if index < pipes.len() && dup2_stdout(&pipes[index].1).is_err() {
        exit_child(126);
    }
    // fd 0 and fd 1 are the copies this stage uses; the rest must go.
    drop(pipes);
    let _ = execvp(&argv[0], argv);
    eprintln!("{}: command not found", argv[0].to_string_lossy());
    exit_child(127)
}
