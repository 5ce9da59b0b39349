//! The tests of exercise 08 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit, then runs the same pipeline in bash, and compares
//! the two: the output byte for byte, and every stage's status.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use labkit::exercise::{Report, run_scenario};
use labkit::watchdog::run;

/// The exercise's runner (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// What one run of a pipeline produced.
struct Run {
    output: Vec<u8>,
    pipestatus: String,
}

/// Runs one scenario with your run_pipeline; its output lands in `dir`.
fn yours(name: &str, dir: &Path) -> (Report, Run) {
    let output = dir.join("yours.out");
    let report = run_scenario(
        Command::new(RUNNER).arg(name).arg(&output),
        Duration::from_secs(20),
        "The pipeline never finished. Most likely a pipe end is still open \
         somewhere: a write end keeps its reader from end of file, a read \
         end keeps a writer whose reader has gone from SIGPIPE (yes never \
         stops). The shell must drop every pipe end after forking the \
         stages, and each stage every pipe end after its dup2s (pipes made \
         O_CLOEXEC are closed at exec anyway). Or the shell waited for a \
         stage before starting the next one.",
    );
    let processes = report.all("pid").len();
    assert_eq!(
        processes, 1,
        "scenario {name:?}: run_pipeline returned in {processes} processes. \
         A child whose exec fails must end with exit_child(127), never \
         return."
    );
    assert_eq!(
        report["leaked-fds"], "",
        "scenario {name:?}: these descriptors were still open in the shell \
         after run_pipeline returned: drop every pipe end"
    );
    assert_eq!(
        report["unreaped"], "",
        "scenario {name:?}: run_pipeline returned before reaping every \
         stage: waitpid each child"
    );
    let run = Run {
        output: fs::read(&output).unwrap_or_default(),
        pipestatus: report["pipestatus"].clone(),
    };
    (report, run)
}

/// The same pipeline, run by bash.
fn bashs(report: &Report, dir: &Path) -> Run {
    let script =
        format!("{} > bash.out; echo \"${{PIPESTATUS[@]}}\"", report["bash"]);
    let done = run(
        Command::new("bash").args(["-c", &script]).current_dir(dir),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|error| panic!("bash -c {script:?}: {error}"));
    Run {
        output: fs::read(dir.join("bash.out")).unwrap_or_default(),
        pipestatus: done.stdout.trim().to_string(),
    }
}

/// Your pipeline and bash's agree: output and PIPESTATUS.
#[track_caller]
fn same_as_bash(name: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (report, yours) = yours(name, dir.path());
    let bash = bashs(&report, dir.path());
    assert!(
        yours.output == bash.output,
        "scenario {name:?} ({}): your pipeline printed {} bytes, bash's {} \
         bytes. Does each stage read from the pipe on its left (dup2 onto \
         fd 0) and write into the pipe on its right (dup2 onto fd 1)?",
        report["bash"],
        yours.output.len(),
        bash.output.len()
    );
    assert_eq!(
        yours.pipestatus, bash.pipestatus,
        "scenario {name:?} ({}): your statuses (left) differ from bash's \
         PIPESTATUS (right)",
        report["bash"]
    );
    yours
}

#[test]
fn one_stage_needs_no_pipe() {
    assert_eq!(same_as_bash("one").output, b"alone\n");
}

#[test]
fn two_stages() {
    assert_eq!(same_as_bash("two").output, b"HELLO PIPES\n");
}

#[test]
fn three_stages() {
    assert_eq!(same_as_bash("three").output, b"c\nb\n");
}

#[test]
fn five_stages() {
    assert_eq!(same_as_bash("five").pipestatus, "0 0 0 0 0");
}

#[test]
fn binary_data_arrives_unchanged() {
    same_as_bash("binary");
}

#[test]
fn more_than_a_pipe_holds() {
    // If the shell waited for stage 1 before starting stage 2, stage 1
    // would block on a full pipe for ever.
    assert!(same_as_bash("large").output.len() > 1_000_000);
}

#[test]
fn each_stage_keeps_its_own_exit_code() {
    assert_eq!(same_as_bash("exit-codes").pipestatus, "3 5 0");
}

#[test]
fn a_stage_that_exits_early_kills_its_writer_with_sigpipe() {
    let dir = tempfile::tempdir().unwrap();
    let (report, yours) = yours("early-exit", dir.path());
    assert_eq!(yours.output, b"y\ny\ny\n");
    assert_eq!(
        yours.pipestatus, "141 0",
        "yes must be killed by SIGPIPE (141), as in bash ({}). If it exited \
         with 1 instead, it got EPIPE: Rust ignores SIGPIPE, and exec keeps \
         an ignored signal ignored. Set it back to its default in the child \
         before exec (labkit::process::set_disposition).",
        report["bash"]
    );
    assert_eq!(bashs(&report, dir.path()).pipestatus, "141 0");
}

#[test]
fn a_command_not_found_is_127_as_in_bash() {
    assert_eq!(same_as_bash("not-found").pipestatus, "4 127");
}

/// Each probe stage's descriptors as its `ls -l /proc/$$/fd` listed them,
/// as (fd, target) pairs.
fn listings(output: &[u8]) -> Vec<Vec<(String, String)>> {
    let mut lists: Vec<Vec<(String, String)>> = Vec::new();
    for line in String::from_utf8_lossy(output).lines() {
        if line.starts_with("total") {
            lists.push(Vec::new());
        } else if let Some((left, target)) = line.split_once(" -> ") {
            let fd = left.split_whitespace().last().unwrap_or_default();
            if let Some(list) = lists.last_mut() {
                list.push((fd.to_string(), target.to_string()));
            }
        }
    }
    lists
}

/// What may differ between two runs: pipe inodes and file names.
fn kind(target: &str) -> &str {
    if target.starts_with("pipe:") {
        "pipe"
    } else if target.ends_with(".out") {
        "the output file"
    } else {
        target
    }
}

#[test]
fn no_stage_holds_a_descriptor_that_bashs_stages_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let (report, yours) = yours("probe", dir.path());
    let bash = bashs(&report, dir.path());
    let (mine, theirs) = (listings(&yours.output), listings(&bash.output));
    assert_eq!(theirs.len(), 3, "bash's probe listed {theirs:?}");
    assert_eq!(
        mine.len(),
        3,
        "each of the 3 probe stages lists its descriptors, in order; yours \
         printed {:?}",
        String::from_utf8_lossy(&yours.output)
    );
    for (index, (mine, theirs)) in mine.iter().zip(&theirs).enumerate() {
        for (fd, target) in mine {
            let in_bash =
                theirs.iter().any(|(n, t)| n == fd && kind(t) == kind(target));
            assert!(
                in_bash,
                "stage {} holds fd {fd} -> {target}, which bash's stage {} \
                 does not: a pipe end that was not closed in that stage \
                 before exec. After the dup2s, drop every pipe descriptor \
                 in the child.",
                index + 1,
                index + 1
            );
        }
    }
}
