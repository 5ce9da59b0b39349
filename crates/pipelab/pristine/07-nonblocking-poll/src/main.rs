//! The test runner for exercise 07: you do not need to edit this file.
//!
//! `cargo lab check 7` runs this program once per scenario, as a process of
//! its own, with a time limit: a loop that never ends then fails a test
//! instead of hanging it. For each scenario it makes FIFOs in a private
//! directory, starts one `sh` writer per FIFO (a real, separate process),
//! opens each FIFO for reading once its writer is there, sets O_NONBLOCK,
//! and calls your `collect_messages`. It prints what came back and the CPU
//! time your code used meanwhile, one `key: value` line each, for
//! tests/exercise.rs to check.

use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use ex07_nonblocking_poll::{collect_messages, take_lines};
use labkit::cpu::cpu_time;
use labkit::fifo::{Access, Fifo, PrivateDir, open_within};
use labkit::watchdog::wait_for_child;
use nix::fcntl::{FcntlArg, OFlag, fcntl};

/// A writer: `sh -c NUMBERED writer FIFO NAME COUNT DELAY PAUSE` writes
/// COUNT lines "NAME message I", the first after DELAY seconds, then one
/// every PAUSE seconds. It opens the FIFO once (`exec >`), so it is one
/// writer from start to end.
/// With PAUSE 0, `seq` writes them all at once, in big writes.
const NUMBERED: &str = r#"exec > "$1"; sleep "$4"
if [ "$5" = 0 ]; then exec seq -f "$2 message %.0f" 1 "$3"; fi
i=1
while [ "$i" -le "$3" ]; do
  echo "$2 message $i"; i=$((i + 1)); sleep "$5"
done"#;

fn main() -> ExitCode {
    let Some(scenario) = std::env::args().nth(1) else {
        eprintln!(
            "usage: ex07-nonblocking-poll SCENARIO \
             (lines, three, quiet, silent, big)"
        );
        return ExitCode::from(2);
    };
    // Each writer: (name, count, delay before the first line, pause).
    let writers: Vec<(&str, u32, &str, &str)> = match scenario.as_str() {
        "lines" => return lines(),
        "three" => vec![
            ("s1", 5, "0", "0.1"),
            ("s2", 5, "0.05", "0.1"),
            ("s3", 5, "0.2", "0.05"),
        ],
        // s2 writes once and leaves at once; s1 is silent for 1.5 s.
        "quiet" => vec![("s1", 2, "0", "1.5"), ("s2", 1, "0", "0")],
        // s1 closes without a word; s2 starts after 0.5 s.
        "silent" => vec![("s1", 0, "0", "0"), ("s2", 3, "0.5", "0.1")],
        // 6000 lines at once: more than a FIFO holds, cut across reads.
        "big" => vec![("s1", 6000, "0", "0"), ("s2", 3, "0.2", "0.1")],
        other => {
            eprintln!("ex07-nonblocking-poll: unknown scenario {other:?}");
            return ExitCode::from(2);
        }
    };
    match collect(&writers) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ex07-nonblocking-poll: {error}");
            ExitCode::FAILURE
        }
    }
}

/// take_lines alone: three reads that cut lines in awkward places.
fn lines() -> ExitCode {
    let mut pending = Vec::new();
    for bytes in [&b"hel"[..], b"lo\nwor", b"ld\n\nlast"] {
        for line in take_lines(&mut pending, bytes) {
            println!("line: {line:?}");
        }
    }
    println!("pending: {:?}", String::from_utf8_lossy(&pending));
    ExitCode::SUCCESS
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn collect(writers: &[(&str, u32, &str, &str)]) -> Result<()> {
    let dir = PrivateDir::new()?;
    let mut fifos = Vec::new();
    let mut children: Vec<Child> = Vec::new();
    let mut sources: Vec<OwnedFd> = Vec::new();
    for (name, count, delay, pause) in writers {
        let fifo = Fifo::create_at(&dir.path().join(name))?;
        let child = Command::new("sh")
            .args(["-c", NUMBERED, "writer"])
            .arg(fifo.path())
            .args([name, count.to_string().as_str(), delay, pause])
            .stdin(Stdio::null())
            .spawn()?;
        children.push(child);
        // A blocking open returns once the writer has opened its end.
        let reader = open_within(fifo.path(), Access::Read, secs(10))?;
        let flags = OFlag::from_bits_retain(fcntl(&reader, FcntlArg::F_GETFL)?);
        fcntl(&reader, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        sources.push(reader);
        fifos.push(fifo);
    }

    let (cpu, started) = (cpu_time()?, Instant::now());
    let collected = collect_messages(sources)
        .map_err(|errno| format!("collect_messages returned {errno}"))?;
    let (burned, wall) = (cpu_time()? - cpu, started.elapsed());

    for child in &children {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
        wait_for_child(pid, secs(10))?.ok_or("a writer did not end")?;
    }
    println!("sources: {}", collected.len());
    for (index, messages) in collected.iter().enumerate() {
        println!("count-{}: {}", index + 1, messages.len());
        for message in messages {
            println!("source-{}: {message}", index + 1);
        }
    }
    println!("cpu-ms: {}", burned.as_millis());
    println!("wall-ms: {}", wall.as_millis());
    Ok(())
}

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}
