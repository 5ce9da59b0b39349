//! The test runner for exercise 08: you do not need to edit this file.
//!
//! `cargo lab check 8` runs this program once per scenario, as a process of
//! its own, because your code forks, and a fork is only safe in a process
//! with a single thread (the test harness has many). It runs one pipeline
//! with your `run_pipeline`, its output going into OUTPUT (a file), and
//! prints `key: value` lines for tests/exercise.rs: the same pipeline in
//! bash's syntax, each stage's status, and anything left behind.

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::process::ExitCode;

use ex08_shell_pipeline::run_pipeline;
use labkit::exercise::open_fds;
use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, dup2_stdout};

/// `sh -c 'ls -l /proc/$$/fd; true'`: a stage that lists its own shell's
/// descriptors (ls reads the table of its parent, the stage's sh).
const PROBE: &str = "ls -l /proc/$$/fd; true";
const PASS_AND_PROBE: &str = "cat; ls -l /proc/$$/fd; true";

fn scenario(name: &str) -> Option<Vec<Vec<&'static str>>> {
    Some(match name {
        "one" => vec![vec!["echo", "alone"]],
        "two" => vec![vec!["echo", "hello pipes"], vec!["tr", "a-z", "A-Z"]],
        "three" => vec![
            vec!["printf", r"a\nb\nc\n"],
            vec!["sort", "-r"],
            vec!["head", "-n", "2"],
        ],
        "five" => vec![
            vec!["printf", r"b\na\nc\nb\nb\na\n"],
            vec!["sort"],
            vec!["uniq", "-c"],
            vec!["sort", "-rn"],
            vec!["head", "-n", "2"],
        ],
        // gzip -n: the same bytes every run, NUL and 0xff among them.
        "binary" => {
            vec![
                vec!["seq", "1", "30000"],
                vec!["gzip", "-c", "-n"],
                vec!["cat"],
            ]
        }
        // About 1.3 MB, twenty times what a pipe holds.
        "large" => vec![vec!["seq", "1", "200000"], vec!["cat"], vec!["cat"]],
        "early-exit" => vec![vec!["yes"], vec!["head", "-n", "3"]],
        "exit-codes" => vec![
            vec!["sh", "-c", "exit 3"],
            vec!["sh", "-c", "cat; exit 5"],
            vec!["cat"],
        ],
        "not-found" => {
            vec![vec!["sh", "-c", "exit 4"], vec!["no-such-command-pipelab"]]
        }
        "probe" => vec![
            vec!["sh", "-c", PROBE],
            vec!["sh", "-c", PASS_AND_PROBE],
            vec!["sh", "-c", PASS_AND_PROBE],
        ],
        _ => return None,
    })
}

/// A word quoted for bash: 'it'\''s'.
fn quoted(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(output)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: ex08-shell-pipeline SCENARIO OUTPUT-FILE");
        return ExitCode::from(2);
    };
    let Some(stages) = scenario(name) else {
        eprintln!("ex08-shell-pipeline: unknown scenario {name:?}");
        return ExitCode::from(2);
    };
    let stages: Vec<Vec<String>> = stages
        .iter()
        .map(|words| words.iter().map(|word| word.to_string()).collect())
        .collect();

    // The pipeline's output goes to OUTPUT; the report, afterwards, to
    // the real stdout, kept aside close-on-exec so no stage inherits it.
    let file = match File::create(output) {
        Ok(file) => file,
        Err(error) => {
            eprintln!("ex08-shell-pipeline: {output}: {error}");
            return ExitCode::FAILURE;
        }
    };
    // try_clone_to_owned: fcntl(F_DUPFD_CLOEXEC), a close-on-exec copy.
    let saved: OwnedFd = match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => fd,
        Err(error) => {
            eprintln!("ex08-shell-pipeline: fcntl(F_DUPFD_CLOEXEC): {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(errno) = dup2_stdout(file.as_fd()) {
        eprintln!("ex08-shell-pipeline: dup2 onto stdout: {errno}");
        return ExitCode::FAILURE;
    }
    drop(file);

    let fds_before = open_fds();
    let result = run_pipeline(&stages);
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();
    let unreaped = unreaped_children();

    if let Err(errno) = dup2_stdout(saved.as_fd()) {
        eprintln!("ex08-shell-pipeline: dup2 back onto stdout: {errno}");
        return ExitCode::FAILURE;
    }
    drop(saved);

    let statuses = match result {
        Ok(statuses) => statuses,
        Err(error) => {
            eprintln!("run_pipeline returned an error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let bash: Vec<String> = stages
        .iter()
        .map(|words| {
            let words: Vec<String> =
                words.iter().map(|word| quoted(word)).collect();
            words.join(" ")
        })
        .collect();
    let codes: Vec<String> =
        statuses.iter().map(|status| status.shell_code().to_string()).collect();
    println!("pid: {}", std::process::id());
    println!("bash: {}", bash.join(" | "));
    println!("stages: {}", stages.len());
    println!("pipestatus: {}", codes.join(" "));
    println!("leaked-fds: {}", leaked.join(" "));
    println!("unreaped: {}", unreaped.join(" "));
    ExitCode::SUCCESS
}

/// Children of this process that run_pipeline did not reap: zombies, or
/// still running. Reaps the zombies it finds, so that none is left.
fn unreaped_children() -> Vec<String> {
    let mut found = Vec::new();
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {
                found.push("a child still running".to_string());
                return found;
            }
            Ok(status) => match status.pid() {
                Some(pid) => found.push(format!("zombie {pid}")),
                None => return found,
            },
            Err(Errno::ECHILD) => return found,
            Err(errno) => {
                found.push(format!("waitpid: {errno}"));
                return found;
            }
        }
    }
}
