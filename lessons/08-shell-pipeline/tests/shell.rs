//! What the chapter says the shell itself does with pipes and FIFOs,
//! checked by running bash: `mkfifo` and the open that waits for the
//! other side, and process substitution, which hands a command a pipe
//! under the name /dev/fd/N.

use std::process::Command;
use std::time::Duration;

use labkit::watchdog::{Finished, run};

fn bash(script: &str, dir: &std::path::Path) -> Finished {
    let done = run(
        Command::new("bash").args(["-c", script]).current_dir(dir),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|error| panic!("bash -c {script:?}: {error}"));
    assert!(!done.left_running, "bash -c {script:?} left a process running");
    done
}

#[test]
fn ls_shows_a_fifo_as_type_p() {
    let dir = tempfile::tempdir().unwrap();
    let done = bash("mkfifo p && ls -l p", dir.path());
    assert!(done.stdout.starts_with('p'), "{}", done.stdout);
}

#[test]
fn echo_into_a_fifo_waits_until_cat_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    // No reader: the shell's open(p, O_WRONLY) for `> p` blocks, and
    // `timeout` ends it after 1 s with its own status, 124.
    let done = bash("mkfifo p && timeout 1 bash -c 'echo hi > p'", dir.path());
    assert_eq!(done.status.code(), Some(124), "{}", done.stderr);
    // With cat opening the other side, the same echo goes through.
    let done = bash("mkfifo q && { cat < q & echo hi > q; wait; }", dir.path());
    assert_eq!(done.stdout, "hi\n");
}

// bash does not wait for a process substitution by itself: without the
// `wait $!`, `echo <(true)` can end while `true` still runs, and the
// watchdog finds it left behind (it did, one run in two, before the wait).
#[test]
fn process_substitution_is_a_pipe_named_dev_fd_n() {
    let dir = tempfile::tempdir().unwrap();
    let done = bash("echo <(true); wait $!", dir.path());
    let name = done.stdout.trim();
    let number = name.strip_prefix("/dev/fd/").unwrap_or_default();
    assert!(number.parse::<u32>().is_ok(), "{name}");
    // readlink inherits that descriptor: /dev/fd/N is its own fd N.
    let done = bash("readlink <(true); wait $!", dir.path());
    let link = done.stdout.trim();
    assert!(link.starts_with("pipe:[") && link.ends_with(']'), "{link:?}");
    let script =
        r"printf '1\n2\n3\n' > f; diff <(seq 3) f && echo same; wait $!";
    let done = bash(script, dir.path());
    assert_eq!(done.stdout, "same\n", "{}", done.stderr);
    // >(...) is the other direction: the command writes into the pipe.
    let done =
        bash("echo hi > >(tr a-z A-Z > out); wait $!; cat out", dir.path());
    assert_eq!(done.stdout, "HI\n", "{}", done.stderr);
}
