//! Two numbers the chapter and the glossary take from bash, checked
//! against bash itself: a stage that exists but cannot be run has status
//! 126 (127 is for one not found), in bash and in the lesson's pipeline;
//! and process substitution hands the command the pipe as fd 63.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::Finished;

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");

/// Runs `command` in `dir`, bounded, and checks it left nothing running.
fn bounded(what: &str, command: &mut Command, dir: &Path) -> Finished {
    let done = run_clean(command.current_dir(dir), Duration::from_secs(30))
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(!done.left_running, "{what} left a process running");
    done
}

fn bash(script: &str, dir: &Path) -> Finished {
    bounded(script, Command::new("bash").args(["-c", script]), dir)
}

#[test]
fn a_stage_that_is_not_executable_is_126_as_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("not-executable");
    std::fs::write(&script, "#!/bin/sh\necho never\n").unwrap();
    // No execute bit for anyone: even root's execve fails with EACCES.
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644))
        .unwrap();
    let by_bash =
        bash("./not-executable | cat; echo ${PIPESTATUS[@]}", dir.path());
    assert_eq!(by_bash.stdout, "126 0\n", "bash: {}", by_bash.stderr);
    for spawn in ["fork", "bare", "command"] {
        let done = bounded(
            "pipeline",
            Command::new(PIPELINE).args([
                "--color",
                "never",
                "--spawn",
                spawn,
                "--",
                "./not-executable",
                "cat",
            ]),
            dir.path(),
        );
        assert!(
            done.stderr.contains("PIPESTATUS: 126 0 "),
            "{spawn}: {}",
            done.stderr
        );
        assert_eq!(done.stdout, "", "{spawn}: the stage never ran");
    }
}

#[test]
fn bash_gives_the_command_of_a_process_substitution_fd_63() {
    let dir = tempfile::tempdir().unwrap();
    let done = bash("echo <(true); wait $!", dir.path());
    assert_eq!(done.stdout, "/dev/fd/63\n", "{}", done.stderr);
    // The command really holds the pipe's read end as its own fd 63.
    let done = bash("readlink /proc/self/fd/63 <(true); wait $!", dir.path());
    let fd_63 = done.stdout.lines().next().unwrap_or_default();
    assert!(fd_63.starts_with("pipe:["), "{:?}", done.stdout);
}
