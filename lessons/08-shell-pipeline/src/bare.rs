//! The same pipeline with nothing but the system calls, no narration:
//! `--spawn bare`. The chapter's first listing.

use std::ffi::CString;
use std::io;

use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{dup2_stdin, dup2_stdout, execvp, pipe2};

// ANCHOR: bare
/// Runs `argvs[0] | argvs[1] | ...` and returns each stage's wait status.
pub fn run(argvs: &[Vec<CString>]) -> io::Result<Vec<WaitStatus>> {
    // pipes[k] joins stage k (its write end) to stage k + 1 (its read end).
    let mut pipes = Vec::new();
    for _ in 1..argvs.len() {
        pipes.push(pipe2(OFlag::O_CLOEXEC).map_err(named("pipe2"))?);
    }
    let mut children = Vec::new();
    for (k, argv) in argvs.iter().enumerate() {
        match fork()
            .map_err(|error| io::Error::other(format!("fork: {error}")))?
        {
            Forked::Child => {
                let _ = set_disposition(Signal::SIGPIPE, Disposition::Default);
                if k > 0 && dup2_stdin(&pipes[k - 1].0).is_err() {
                    exit_child(126);
                }
                if k < pipes.len() && dup2_stdout(&pipes[k].1).is_err() {
                    exit_child(126);
                }
                drop(pipes); // every pipe fd: ours live on as 0 and 1
                let Err(errno) = execvp(&argv[0], argv); // only on failure
                let name = argv[0].to_string_lossy();
                let missing = crate::command_not_found(&name, errno);
                let why =
                    if missing { "command not found" } else { errno.desc() };
                eprintln!("pipeline: stage {}: {name}: {why}", k + 1);
                exit_child(if missing { 127 } else { 126 });
            }
            Forked::Parent { child } => children.push(child),
        }
    }
    drop(pipes); // the shell's copies: or the last stage never sees EOF
    let mut statuses = Vec::new();
    for child in children {
        statuses.push(waitpid(child, None).map_err(named("waitpid"))?);
    }
    Ok(statuses)
}
// ANCHOR_END: bare

/// An error that names the system call it came from.
fn named(call: &'static str) -> impl Fn(nix::Error) -> io::Error {
    move |errno| io::Error::other(format!("{call}: {errno}"))
}
