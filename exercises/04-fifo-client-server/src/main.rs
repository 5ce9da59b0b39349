//! The test runner for exercise 04: you do not need to edit this file.
//!
//! `cargo lab check 4` runs this program once per scenario, as a process of
//! its own, with a time limit. It makes a FIFO in a private directory,
//! starts a shell that writes into it (in awkward pieces, with pauses, so
//! that your reads see messages split and bunched), opens the read end, and
//! hands it to your `read_messages`. Then it prints what came back, one
//! `key: value` line each, for tests/exercise.rs to check.

use std::fs::File;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use ex04_fifo_client_server::{Framing, read_messages};
use labkit::fifo::{Access, Fifo, open_within};
use labkit::watchdog::wait_for_child;
use nix::unistd::Pid;

/// What the shell writes for each scenario, and how it is framed.
fn scenario(name: &str) -> Option<(Framing, &'static str)> {
    Some(match name {
        "lines" => (
            Framing::Line,
            r"printf 'hel'; sleep 0.1
              printf 'lo\nwor'; sleep 0.1
              printf 'ld\n'",
        ),
        "lines-at-once" => (Framing::Line, r"printf 'a\nb\n\nc\n'"),
        "fixed" => (
            Framing::Fixed(4),
            r"printf 'pi'; sleep 0.1
              printf 'ngpingp'; sleep 0.1
              printf 'ing'; printf 'end\000'",
        ),
        "length" => (
            Framing::LengthPrefixed,
            r"printf '\000\000'; sleep 0.1
              printf '\000\005hel'; sleep 0.1
              printf 'lo\000\000\000\000\000\000\000\003abc'",
        ),
        "partial-line" => (Framing::Line, r"printf 'one\ntw'"),
        "partial-length" => {
            (Framing::LengthPrefixed, r"printf '\000\000\000\011hello'")
        }
        "silent" => (Framing::Line, ":"),
        // 120 890 bytes: 1.84 times the 65 536 a FIFO holds by default.
        "large" => (
            Framing::Line,
            r#"awk 'BEGIN {
                  for (i = 0; i < 2000; i++) printf "line %d %050d\n", i, i
              }'"#,
        ),
        _ => return None,
    })
}

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some((framing, script)) = scenario(&name) else {
        eprintln!(
            "usage: ex04-fifo-client-server SCENARIO (lines, lines-at-once, \
             fixed, length, partial-line, partial-length, silent, large)"
        );
        return ExitCode::from(2);
    };
    match run(framing, script) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ex04-fifo-client-server: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    framing: Framing,
    script: &str,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let fifo = Fifo::create_private("fifo")?;
    // The shell's `> FIFO` waits in open() until we open the read end.
    let writer = Command::new("sh")
        .args(["-c", &format!("{{ {script}; }} > \"$1\""), "sh"])
        .arg(fifo.path())
        .stdin(Stdio::null())
        .spawn()?;
    let reader =
        open_within(fifo.path(), Access::Read, Duration::from_secs(10))?;
    let received = read_messages(&mut File::from(reader), framing);
    let writer_pid = Pid::from_raw(i32::try_from(writer.id())?);
    if wait_for_child(writer_pid, Duration::from_secs(10))?.is_none() {
        return Err("the writing shell was still running after 10 s".into());
    }
    let received = match received {
        Ok(received) => received,
        Err(error) => {
            eprintln!("read_messages returned an error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("count: {}", received.messages.len());
    for message in &received.messages {
        println!("message: {:?}", String::from_utf8_lossy(message));
    }
    println!("partial: {:?}", String::from_utf8_lossy(&received.partial));
    Ok(ExitCode::SUCCESS)
}
