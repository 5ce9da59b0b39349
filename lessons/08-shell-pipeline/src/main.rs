//! Lesson 08 — `shell-pipeline`: how a shell builds `ls | wc -l`.
//!
//! What it teaches: for `A | B | C` a shell makes one pipe between each pair
//! of neighbours, forks one child per stage, and in each child moves the
//! pipe ends it needs onto descriptors 0 and 1 with `dup2`, closes every
//! other pipe descriptor, and calls `exec`. The shell itself closes all its
//! copies, then waits for every stage and keeps each one's status: bash's
//! `PIPESTATUS`.
//!
//! Usage:
//!   cargo lab run 8 -- 'printf "a\nb\nc\n"' 'sort -r' 'head -n 2'
//!   cargo lab run 8 -- yes 'head -n 1'      yes is killed by SIGPIPE
//!   cargo lab run 8 -- --quiet 'ls /usr/bin' 'wc -l'   only the output
//!   cargo lab run 8 -- --leak-write-end 'printf x' cat   a hang, explained
//!   cargo lab run 8 -- --no-cloexec 'printf x' cat       another one
//!   cargo lab run 8 -- --leak-in-stage 1 'sleep 30' 'echo x' cat   a third
//!   cargo lab run 8 -- --forget-dup2 'printf "a\nb\n"' 'wc -l'
//!   cargo lab run 8 -- --spawn command 'seq 3' 'tac'   std::process::Command
//!   cargo lab run 8 -- --spawn bare 'seq 3' 'tac'   the system calls alone
//!
//! What to look for: the pipeline's own output is on standard output, byte
//! for byte what bash prints; the narration is on standard error. Each
//! stage's descriptor table just before exec holds 0, 1 and 2 and nothing
//! else of ours. The shell closes every pipe end it made. With a bug flag,
//! the last stage never sees end of file (or sees it too soon), and the
//! lesson says which process holds the end that keeps it waiting.

mod bare;
mod fdtable;
mod hang;
mod spawn;
mod words;

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use labkit::Speaker::{Child, Note, Parent};
use labkit::process::{Disposition, Forked, exit_child, fork, set_disposition};
use labkit::status::explain_raw;
use labkit::watchdog::{wait_for_child, wait_readable};
use labkit::{say, trace};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::fstat;
use nix::unistd::{dup2_stdin, dup2_stdout, execvp, getpid, pipe2};

use fdtable::Names;
use hang::{
    Children, end_unrelated_job, explain_the_hang, start_unrelated_job,
};
use spawn::{with_bare_calls, with_command};

/// Runs a pipeline the way a shell does, and narrates every step.
///
/// Each STAGE is one command line, split as a shell splits words (quotes
/// and backslashes; no expansion): `pipeline 'ls -l' 'wc -l'` runs
/// `ls -l | wc -l`. The pipeline's output is this program's standard
/// output; the narration goes to standard error.
#[derive(Parser)]
#[command(name = "pipeline", version)]
struct Args {
    /// The stages, one command line each, in order [default: the three
    /// stages `printf "a\nb\nc\n"`, `sort -r`, `head -n 2`].
    #[arg(value_name = "STAGE")]
    stages: Vec<String>,

    /// No narration: standard error carries only what the stages print.
    #[arg(long, short)]
    quiet: bool,

    /// Exit with pipefail's status (the last non-zero stage's) instead of
    /// the last stage's.
    #[arg(long)]
    pipefail: bool,

    /// How to start the stages: fork (pipe2, fork, dup2, exec by hand,
    /// narrated), bare (the same calls and nothing else), or command
    /// (std::process::Command with Stdio::from(pipe end)).
    #[arg(long, value_enum, default_value_t = Spawn::Fork)]
    spawn: Spawn,

    /// Bug: the shell keeps its copy of the last pipe's write end, so the
    /// last stage never sees end of file.
    #[arg(long, conflicts_with = "spawn")]
    leak_write_end: bool,

    /// Bug: stage N keeps a copy of the last pipe's write end through its
    /// exec (not close-on-exec): while it runs, the last stage never sees
    /// end of file. N may be the last stage itself.
    #[arg(long, value_name = "N", conflicts_with = "spawn")]
    leak_in_stage: Option<usize>,

    /// Bug: pipes made without O_CLOEXEC, while the shell also starts an
    /// unrelated program, which inherits them and keeps them open.
    #[arg(long, conflicts_with = "spawn")]
    no_cloexec: bool,

    /// Bug: the first stage forgets dup2 onto fd 1: its output goes where
    /// the shell's goes, and the next stage reads nothing.
    #[arg(long, conflicts_with = "spawn")]
    forget_dup2: bool,

    /// How long to wait for the pipeline before deciding it hangs, naming
    /// who keeps it waiting and ending it [default: 10 s, 2 s with a bug
    /// flag].
    #[arg(long, value_name = "SECS", value_parser = labkit::cli::seconds)]
    patience: Option<f64>,

    #[command(flatten)]
    common: labkit::CommonArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Spawn {
    Fork,
    Bare,
    Command,
}

/// What a bare `cargo lab run 8` runs: the chapter's first pipeline.
const DEFAULT_STAGES: [&str; 3] =
    [r#"printf "a\nb\nc\n""#, "sort -r", "head -n 2"];

/// One stage: its command line as given, and its words for exec.
struct Stage {
    number: usize,
    line: String,
    words: Vec<String>,
    argv: Vec<CString>,
}

/// Splits every stage; the first bad one becomes the one error line.
fn parse_stages(lines: &[String]) -> Result<Vec<Stage>, String> {
    let mut stages = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let words = words::split(line)
            .map_err(|error| format!("stage {number} ({line:?}): {error}"))?;
        if words.is_empty() {
            return Err(format!(
                "stage {number} is empty: there is no command between \
                 two pipes (bash: syntax error near `|`)"
            ));
        }
        // Arguments come from argv, which cannot hold a NUL byte.
        let argv = words
            .iter()
            .map(|word| CString::new(word.as_str()))
            .collect::<Result<_, _>>()
            .map_err(|_| format!("stage {number}: a word holds a NUL"))?;
        stages.push(Stage { number, line: line.clone(), words, argv });
    }
    Ok(stages)
}

fn main() -> ExitCode {
    labkit::cli::main(start)
}

/// Checks the stages, then runs them the way `--spawn` says.
fn start(args: Args) -> Result<ExitCode, Failure> {
    args.common.apply();
    labkit::narrate::narrate_on_stderr(args.common.color, args.quiet);
    let given = if args.stages.is_empty() {
        DEFAULT_STAGES.iter().map(|stage| stage.to_string()).collect()
    } else {
        args.stages.clone()
    };
    let stages = match parse_stages(&given) {
        Ok(stages) => stages,
        Err(line) => {
            eprintln!("pipeline: {line}");
            return Ok(ExitCode::from(2));
        }
    };
    if args.leak_write_end && stages.len() < 2 {
        eprintln!("pipeline: --leak-write-end needs two stages or more");
        return Ok(ExitCode::from(2));
    }
    if let Some(n) = args.leak_in_stage
        && (stages.len() < 2 || n == 0 || n > stages.len())
    {
        eprintln!(
            "pipeline: --leak-in-stage {n}: needs two stages or more, and \
             a stage number from 1 to {}",
            stages.len()
        );
        return Ok(ExitCode::from(2));
    }
    match args.spawn {
        Spawn::Fork => run(&args, &stages),
        Spawn::Bare => with_bare_calls(&stages),
        Spawn::Command => with_command(&stages),
    }
}

type Failure = Box<dyn std::error::Error>;

/// A pipe between stage k and stage k + 1.
struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
}

fn run(args: &Args, stages: &[Stage]) -> Result<ExitCode, Failure> {
    let count = stages.len();
    let bugged = args.leak_write_end
        || args.leak_in_stage.is_some()
        || args.no_cloexec
        || args.forget_dup2;
    let default_patience = if bugged { 2.0 } else { 10.0 };
    let patience =
        Duration::from_secs_f64(args.patience.unwrap_or(default_patience));
    say!(Parent, "pid {}: the shell, running {}", getpid(), shown(stages));

    // ANCHOR: pipes
    // O_CLOEXEC: a program this process starts for any other reason must
    // not inherit the pipes (the --no-cloexec bug shows why).
    let flags = if args.no_cloexec { OFlag::empty() } else { OFlag::O_CLOEXEC };
    let mut pipes = Vec::new();
    let mut names = Names::default();
    for k in 1..count {
        let (read, write) =
            pipe2(flags).map_err(|errno| format!("pipe2: {errno}"))?;
        let (r, w) = (read.as_raw_fd(), write.as_raw_fd());
        let call = format!("pipe2([{r}, {w}], {})", flag_text(flags));
        trace(Parent, &call, &Ok::<_, Errno>(0));
        names.pipes.push(inode(&read)?);
        say!(
            Parent,
            "pipe #{k}: fd {} reads, fd {} writes (stage {k} -> stage {})",
            read.as_raw_fd(),
            write.as_raw_fd(),
            k + 1
        );
        pipes.push(Pipe { read, write });
    }
    // ANCHOR_END: pipes

    let mut children = Children::default();
    if args.no_cloexec {
        children.job = Some(start_unrelated_job(&names, patience)?);
    }

    // ANCHOR: fork
    for (index, stage) in stages.iter().enumerate() {
        // A pipe of its own per stage: the child writes errno into it if
        // exec fails; a successful exec closes it (O_CLOEXEC), unwritten.
        let (report_read, report_write) = pipe2(OFlag::O_CLOEXEC)
            .map_err(|errno| format!("pipe2 (exec report): {errno}"))?;
        names.reports.push(inode(&report_read)?);
        match fork().map_err(|error| format!("fork: {error}"))? {
            Forked::Child => {
                // Only the shell reads exec reports.
                drop(report_read);
                stage_execs(
                    args,
                    stage,
                    index,
                    count,
                    pipes,
                    report_write,
                    &names,
                )
            }
            Forked::Parent { child } => {
                trace(Parent, "fork()", &Ok::<_, Errno>(child));
                children.stages.push((child, None));
            }
        }
        // The child holds the only write end of its report now: our read
        // sees end of file the moment its exec succeeds. (Waiting for it
        // also keeps the children's narration in order.)
        drop(report_write);
        let pid = children.stages[index].0;
        match exec_outcome(&report_read)? {
            None => say!(
                Parent,
                "forked stage {} (pid {pid}): exec'd",
                stage.number
            ),
            Some(errno) => report_exec_failure(stage, errno),
        }
    }
    // ANCHOR_END: fork

    // ANCHOR: parent-closes
    let kept = if args.leak_write_end {
        let last = pipes.pop().ok_or("--leak-write-end needs two stages")?;
        let fd = last.write.as_raw_fd();
        say!(
            Parent,
            "closed fd {} (pipe #{} read end)",
            last.read.as_raw_fd(),
            count - 1
        );
        // The read end goes; the write end stays: the mistake on purpose.
        drop(last.read);
        say!(
            Parent,
            "(--leak-write-end) I keep fd {fd}, pipe #{}'s write end",
            count - 1
        );
        Some(last.write)
    } else {
        None
    };
    for (k, pipe) in pipes.into_iter().enumerate() {
        let (read, write) = (pipe.read.as_raw_fd(), pipe.write.as_raw_fd());
        // The shell reads and writes none of its pipes. A write end kept
        // here would keep the reader from end of file; a read end kept
        // here would keep the writer from SIGPIPE when the reader quits.
        drop(pipe);
        say!(
            Parent,
            "closed fd {read} and fd {write}: pipe #{} is the stages' alone",
            k + 1
        );
    }
    // ANCHOR_END: parent-closes

    // ANCHOR: wait
    // One deadline for all: once it has passed, each wait below only
    // checks (WNOHANG), so every stage that has ended is still reaped.
    let deadline = Instant::now() + patience;
    for (index, (pid, ended)) in children.stages.iter_mut().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let waited = wait_for_child(*pid, left);
        trace(
            Parent,
            &format!("waitpid({pid}) within the patience"),
            &waited.map(|_| 0),
        );
        let Some(status) = waited.map_err(|e| format!("waitpid: {e}"))? else {
            continue;
        };
        let status = Ended::from_wait(&status);
        *ended = status;
        if let Some(status) = status {
            say!(Parent, "reaped stage {} (pid {pid}):", index + 1);
            say!(Parent, "  {}", status.explain());
        }
    }
    // ANCHOR_END: wait

    let hung = children.stages.iter().any(|(_, ended)| ended.is_none());
    if hung {
        explain_the_hang(stages, &names, &mut children, kept, patience)?;
    }
    if let Some(job) = children.job.take() {
        end_unrelated_job(job);
    }

    let statuses: Vec<Ended> = children
        .stages
        .iter()
        .map(|(_, ended)| ended.unwrap_or(Ended::Signal(9)))
        .collect();
    if args.forget_dup2 && count > 1 {
        say!(
            Note,
            "Stage 1 never moved pipe #1's write end onto fd 1: its output went"
        );
        say!(
            Note,
            "where the shell's own goes, and stage 2 read end of file at once"
        );
        say!(
            Note,
            "(stage 1 closed its copy). The fix: dup2(write end, 1) first."
        );
    }
    let (posix, pipefail) = report_statuses(stages, &statuses);
    if hung {
        return Ok(ExitCode::FAILURE);
    }
    let code = if args.pipefail { pipefail } else { posix };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX)))
}

// ANCHOR: child
/// The child's whole life, from fork to exec: it never returns.
fn stage_execs(
    args: &Args,
    stage: &Stage,
    index: usize,
    count: usize,
    pipes: Vec<Pipe>,
    report: OwnedFd,
    names: &Names,
) -> ! {
    // Rust's runtime set SIGPIPE to "ignore" before main, and an ignored
    // signal stays ignored across exec: give the program the default, or
    // `yes` gets EPIPE and an error message instead of a quiet death.
    let _ = set_disposition(Signal::SIGPIPE, Disposition::Default);
    if index > 0 {
        // Read from the pipe on the left: its read end becomes fd 0.
        let moved = dup2_stdin(&pipes[index - 1].read);
        trace(
            Child,
            &format!("dup2({}, 0)", pipes[index - 1].read.as_raw_fd()),
            &moved.map(|_| 0),
        );
        if let Err(errno) = moved {
            give_up(&report, errno, &stage.words[0]);
        }
    }
    if index + 1 < count {
        if args.forget_dup2 && index == 0 {
            say!(Child, "stage 1 (--forget-dup2): no dup2 onto fd 1 for me");
        } else {
            // Write into the pipe on the right: its write end becomes fd 1.
            let moved = dup2_stdout(&pipes[index].write);
            trace(
                Child,
                &format!("dup2({}, 1)", pipes[index].write.as_raw_fd()),
                &moved.map(|_| 0),
            );
            if let Err(errno) = moved {
                give_up(&report, errno, &stage.words[0]);
            }
        }
    }
    // --leak-in-stage: a copy of the last pipe's write end that survives
    // exec (dup makes it without O_CLOEXEC), the mistake on purpose.
    let _leaked = (args.leak_in_stage == Some(stage.number))
        .then(|| nix::unistd::dup(&pipes[count - 2].write).ok())
        .flatten();
    if let Some(fd) = &_leaked {
        say!(
            Child,
            "stage {} (--leak-in-stage): I keep pipe #{}'s write end as fd {}",
            stage.number,
            count - 1,
            fd.as_raw_fd()
        );
    }
    // Every pipe descriptor goes: the ends this stage uses live on as fd 0
    // and fd 1. Any other copy would hold a pipe open behind its users'
    // backs: a write end, and its reader never sees end of file.
    drop(pipes);
    let table = fdtable::entries("self")
        .map(|entries| names.table(&entries))
        .unwrap_or_else(|error| format!("  (no /proc/self/fd: {error})\n"));
    let pid = getpid();
    say!(
        Child,
        "stage {} (pid {pid}) before exec, as ls -l /proc/{pid}/fd \
         shows it:\n{}  then execvp({:?}, {:?})",
        stage.number,
        table,
        stage.words[0],
        stage.words
    );
    // On success, exec does not return: the program replaces this one.
    let Err(errno) = execvp(&stage.argv[0], &stage.argv);
    give_up(&report, errno, &stage.words[0])
}
// ANCHOR_END: child

/// In a child that cannot exec: errno to the shell, then the status a
/// shell's child leaves with (127: command not found, 126: not runnable).
fn give_up(report: &OwnedFd, errno: Errno, name: &str) -> ! {
    let _ = nix::unistd::write(report, &(errno as i32).to_ne_bytes());
    exit_child(if command_not_found(name, errno) { 127 } else { 126 })
}

/// Whether a failed exec means "command not found", as bash decides it:
/// ENOENT, or EACCES from a PATH search in which no directory holds a file
/// of that name (execvp says EACCES when a directory on PATH cannot be
/// searched, such as /root/.cargo/bin for the user nobody).
pub fn command_not_found(name: &str, errno: Errno) -> bool {
    match errno {
        Errno::ENOENT => true,
        Errno::EACCES if !name.contains('/') => {
            let path = std::env::var_os("PATH").unwrap_or_default();
            !std::env::split_paths(&path).any(|dir| dir.join(name).is_file())
        }
        _ => false,
    }
}

/// Waits (bounded) for a stage's exec report: `None` if exec succeeded,
/// the child's errno if it failed.
fn exec_outcome(report: &OwnedFd) -> Result<Option<Errno>, Failure> {
    let ready = wait_readable(report.as_fd(), Duration::from_secs(10))
        .map_err(|errno| format!("poll (exec report): {errno}"))?;
    if !ready {
        return Err("a stage neither exec'd nor failed within 10 s".into());
    }
    let mut bytes = [0u8; 4];
    let got = nix::unistd::read(report, &mut bytes)
        .map_err(|errno| format!("read (exec report): {errno}"))?;
    Ok((got == 4).then(|| Errno::from_raw(i32::from_ne_bytes(bytes))))
}

/// The one line a shell prints when a stage cannot start: bash says
/// `bash: nosuch: command not found` and gives the stage status 127.
fn report_exec_failure(stage: &Stage, errno: Errno) {
    let why = if command_not_found(&stage.words[0], errno) {
        "command not found".to_string()
    } else {
        format!("cannot execute: {}", errno.desc())
    };
    // Said even with --quiet: it is the pipeline's own error, as in bash.
    eprintln!("pipeline: stage {}: {}: {why}", stage.number, stage.words[0]);
}

// ANCHOR: status
/// Prints PIPESTATUS and the pipeline's status under both rules; returns
/// (POSIX status, pipefail status).
fn report_statuses(stages: &[Stage], statuses: &[Ended]) -> (i32, i32) {
    let codes: Vec<i32> =
        statuses.iter().map(|status| status.shell()).collect();
    // POSIX: a pipeline's status is its last command's.
    let posix = codes.last().copied().unwrap_or(0);
    // pipefail: the last non-zero status, or 0 if every stage succeeded.
    let pipefail =
        codes.iter().rev().copied().find(|&code| code != 0).unwrap_or(0);
    let listed: Vec<String> = codes.iter().map(i32::to_string).collect();
    say!(
        Parent,
        "PIPESTATUS: {} (bash: echo ${{PIPESTATUS[@]}})",
        listed.join(" ")
    );
    say!(
        Parent,
        "status: {posix} (POSIX: the last stage's), {pipefail} with pipefail"
    );
    for (index, status) in statuses.iter().enumerate() {
        if *status == Ended::Signal(13) && index + 1 < stages.len() {
            say!(
                Note,
                "Stage {} (`{}`) wrote into pipe #{} after stage {} had exited",
                index + 1,
                stages[index].line,
                index + 1,
                index + 2
            );
            say!(
                Note,
                "and closed the only read end: the kernel sent it SIGPIPE"
            );
            say!(
                Note,
                "(lesson 03). A shell says nothing: `yes | head` ends so."
            );
        }
    }
    (posix, pipefail)
}
// ANCHOR_END: status

/// How a stage ended, as a shell records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    Code(i32),
    Signal(i32),
}

impl Ended {
    fn from_wait(status: &nix::sys::wait::WaitStatus) -> Option<Ended> {
        use nix::sys::wait::WaitStatus::{Exited, Signaled};
        match *status {
            Exited(_, code) => Some(Ended::Code(code)),
            Signaled(_, signal, _) => Some(Ended::Signal(signal as i32)),
            _ => None,
        }
    }

    /// `$?`: the exit code, or 128 + the signal's number.
    fn shell(self) -> i32 {
        match self {
            Ended::Code(code) => code,
            Ended::Signal(signal) => 128 + signal,
        }
    }

    fn explain(self) -> String {
        match self {
            Ended::Code(code) => explain_raw((code & 0xff) << 8),
            Ended::Signal(signal) => explain_raw(signal & 0x7f),
        }
    }
}

/// The inode of a pipe end, which /proc shows as `pipe:[INODE]`.
fn inode(fd: &OwnedFd) -> Result<u64, Failure> {
    let stat = fstat(fd).map_err(|errno| format!("fstat: {errno}"))?;
    Ok(stat.st_ino)
}

fn flag_text(flags: OFlag) -> &'static str {
    if flags.contains(OFlag::O_CLOEXEC) { "O_CLOEXEC" } else { "0" }
}

/// `printf x | cat`, as a shell would show the pipeline.
fn shown(stages: &[Stage]) -> String {
    let lines: Vec<&str> =
        stages.iter().map(|stage| stage.line.as_str()).collect();
    lines.join(" | ")
}
