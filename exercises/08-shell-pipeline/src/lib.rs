//! Exercise 08 — how a shell builds a pipeline.
//!
//! Complete [`run_pipeline`]: run `A | B | C` the way a shell does, and
//! return each stage's status, as bash's `${PIPESTATUS[@]}` would show it.
//! Lesson 08 (`cargo lab run 8 -- 'seq 3' 'tac'`) shows every step; its
//! chapter in the book explains them.
//!
//! Check your work with `cargo lab check 8`; ask for a hint with
//! `cargo lab hint 8`.

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

/// Runs `stages` as one pipeline: each stage is a command and its
/// arguments (`["sort", "-r"]`), stage 1's standard input is this process's,
/// the last stage's standard output is this process's, and between each
/// pair of neighbours there is a pipe. Returns each stage's status, in
/// order, once every stage has ended.
///
/// Rules:
/// - One pipe between each pair of neighbours, made close-on-exec:
///   `nix::unistd::pipe2(OFlag::O_CLOEXEC)` (or `std::io::pipe()`).
/// - Start every stage before waiting for any: a stage may need the next
///   one to read before it can finish writing.
/// - Either fork with `labkit::process::fork()` and, in the child, `dup2`
///   the pipe ends onto fd 0 and fd 1 (`nix::unistd::dup2_stdin`,
///   `dup2_stdout`), close every pipe descriptor, and `execvp`; a child whose
///   exec fails leaves with `labkit::process::exit_child(127)`, never by
///   returning. Or use `std::process::Command` with
///   `Stdio::from(pipe end)`; a command that cannot be found (`spawn`
///   fails: `NotFound`, or `PermissionDenied` when a directory on PATH
///   cannot be searched) is then `StageStatus::Exited(127)`, as in bash.
/// - A stage killed by SIGPIPE must show as `Signaled(13)`, as in bash.
/// - When this function returns, this process holds no pipe descriptor and
///   no child: every stage has been reaped.
pub fn run_pipeline(
    stages: &[Vec<String>],
) -> std::io::Result<Vec<StageStatus>> {
    // TODO: make the pipes, start every stage, close the shell's copies,
    // then wait for each stage and return what each one's status was.
    let _ = stages;
    todo!("run_pipeline")
}
