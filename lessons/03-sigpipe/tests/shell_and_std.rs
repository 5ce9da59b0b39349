//! The chapter's statements about SIGPIPE outside the lesson's own
//! program: what bash and dash report for `yes | head`, what ksh93 reports
//! for a writer killed by SIGPIPE (and why its own pipelines are another
//! story: they are socket pairs), what an ignored SIGPIPE
//! does across `exec`, what `set -o pipefail` makes of 141, and two
//! behaviours of Rust's standard library (`Command` restores SIGPIPE in
//! the programs it starts; a `BufWriter` dropped unflushed loses EPIPE).
//! The Rust behaviours are checked with a small program compiled here by
//! the same `rustc` that builds the course.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::Finished;

const LIMIT: Duration = Duration::from_secs(60);

fn bounded(command: &mut Command, what: &str) -> Finished {
    run_clean(command, LIMIT).unwrap_or_else(|error| {
        panic!("{what} did not finish: {error} (a write or a read waited)")
    })
}

fn bash(script: &str) -> Finished {
    bounded(Command::new("bash").arg("-c").arg(script), script)
}

#[test]
fn yes_into_head_is_141_for_yes_and_0_for_head() {
    let done = bash("yes | head -n 1 >/dev/null; echo ${PIPESTATUS[*]}");
    assert_eq!(done.stdout, "141 0\n", "128 + 13: killed by SIGPIPE");
    assert_eq!(done.stderr, "", "the shell says nothing of SIGPIPE");
}

#[test]
fn dash_too_shows_141_for_yes_killed_by_sigpipe() {
    // dash has no PIPESTATUS: a subshell reports yes's status itself.
    let script = "(yes; echo $? >&2) | head -n 1 >/dev/null";
    let done = bounded(Command::new("dash").arg("-c").arg(script), script);
    assert_eq!(done.stderr, "141\n", "128 + 13 in dash as in bash");
}

/// ksh93, where installed (CI installs Debian's package `ksh`).
const KSH93: &str = "/usr/bin/ksh93";

/// Runs `script` in ksh93, or says why not and returns None.
fn ksh93(script: &str) -> Option<Finished> {
    if !Path::new(KSH93).exists() {
        eprintln!("skipped: no ksh93 at {KSH93} (Debian package ksh)");
        return None;
    }
    Some(bounded(Command::new(KSH93).arg("-c").arg(script), script))
}

#[test]
fn ksh93_shows_269_for_a_writer_killed_by_sigpipe() {
    if !Path::new(KSH93).exists() {
        eprintln!("skipped: no ksh93 at {KSH93} (Debian package ksh)");
        return;
    }
    // bash makes the pipe (ksh93's own pipelines are not pipes, see the
    // next test): ksh93 runs `yes` into it, `true` leaves without reading,
    // and ksh93 reports how `yes` ended.
    let done = bash(&format!("{KSH93} -c 'yes; echo $? >&2' | true"));
    assert_eq!(done.stderr, "269\n", "256 + 13: killed by SIGPIPE");
}

#[test]
fn a_ksh93_pipeline_is_a_socket_pair_and_its_writer_gets_econnreset() {
    // `wait`: ksh93 waits for a pipeline's last command only.
    let Some(joined) = ksh93("readlink /proc/self/fd/1 | cat; wait") else {
        return;
    };
    assert!(
        joined.stdout.starts_with("socket:["),
        "ksh93 joins a pipeline's commands with a socket pair: {:?}",
        joined.stdout
    );
    // The reader leaves with unread data: on a socket that resets the
    // connection, and the writer blocked in write() gets ECONNRESET, not
    // EPIPE, so no SIGPIPE comes. bash's pipe, the same way, gives 141.
    // The reader takes one byte first, so `yes` is surely running, then
    // gives it a second to fill the buffer and block: a write begun only
    // after the reader left would get EPIPE.
    let script =
        "{ yes; echo $? >&2; } | { head -c 1 >/dev/null; sleep 1; }; wait";
    let Some(done) = ksh93(script) else { return };
    assert_eq!(
        done.stderr, "yes: standard output: Connection reset by peer\n1\n",
        "yes exits 1 after a failed write"
    );
    assert_eq!(bash(script).stderr, "141\n", "a pipe: killed by SIGPIPE");
}

#[test]
fn an_ignored_sigpipe_stays_ignored_across_exec() {
    // bash starts `yes` by fork and exec; `trap '' PIPE` ignores SIGPIPE
    // in the shell, and the ignored disposition is what `yes` inherits.
    let done =
        bash("trap '' PIPE; yes | head -n 1 >/dev/null; echo ${PIPESTATUS[*]}");
    assert_eq!(done.stdout, "1 0\n", "yes saw EPIPE and exited 1");
    assert!(
        done.stderr.contains("Broken pipe"),
        "yes reports the error: {:?}",
        done.stderr
    );
}

#[test]
fn under_pipefail_yes_into_head_fails_with_141() {
    let plain = bash("yes | head -n 1 >/dev/null; echo $?");
    assert_eq!(plain.stdout, "0\n", "the last stage's status");
    let strict = bash("set -o pipefail; yes | head -n 1 >/dev/null; echo $?");
    assert_eq!(strict.stdout, "141\n", "the last failure: yes's 141");
}

/// The Rust program of these tests, compiled once (see `labkit::compiled`).
fn rust_program() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    labkit::compiled::rust(RUST_PROGRAM, "sigpipe_std", dir)
}

/// `command`: starts `yes` with std::process::Command and closes the read
/// end after one line; prints how `yes` ended. `bufwriter`: writes into a
/// BufWriter on stdout and lets it drop unflushed; `flush`: flushes it and
/// prints the error, on stderr.
const RUST_PROGRAM: &str = r#"
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("command") => {
            let mut yes = Command::new("yes").stdout(Stdio::piped())
                .spawn().unwrap();
            let mut line = String::new();
            BufReader::new(yes.stdout.take().unwrap())
                .read_line(&mut line).unwrap();
            let status = yes.wait().unwrap();
            println!("{:?} {:?}", status.code(), status.signal());
        }
        Some("bufwriter") => {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut out = BufWriter::new(std::io::stdout());
            writeln!(out, "lost").unwrap();
        }
        _ => {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut out = BufWriter::new(std::io::stdout());
            writeln!(out, "lost").unwrap();
            eprintln!("{:?}", out.flush().map_err(|e| e.kind()));
        }
    }
}
"#;

#[test]
fn command_restores_sigpipe_so_yes_started_from_rust_is_killed_by_it() {
    let done =
        bounded(Command::new(rust_program()).arg("command"), "the program");
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "None Some(13)\n", "yes killed by SIGPIPE");
}

#[test]
fn a_bufwriter_dropped_unflushed_hides_epipe_and_flush_shows_it() {
    let program = rust_program().display().to_string();
    // `true` leaves at once; the program writes 300 ms later.
    let dropped = bash(&format!("{program} bufwriter | true; echo $?"));
    assert_eq!(dropped.stdout, "0\n", "exit 0: the EPIPE went unseen");
    assert_eq!(dropped.stderr, "", "and unsaid");
    let flushed = bash(&format!("{program} flush | true"));
    assert_eq!(flushed.stderr, "Err(BrokenPipe)\n", "flush() returns it");
    assert!(flushed.status.signal().is_none());
}
