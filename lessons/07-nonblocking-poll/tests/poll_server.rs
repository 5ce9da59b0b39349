//! The claims of `poll-server` and `poll-demo`, checked by running them
//! with real `sh` clients, each a separate process: every message of every
//! client arrives, in each client's order; the server ends when every
//! client has said `end`; a writer's close shows as POLLHUP; a quiet poll
//! times out, never before its time-out; SIGTERM and Ctrl-C leave no FIFO
//! behind.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use labkit::hygiene::run_clean;
use labkit::watchdog::{Background, Finished};
use nix::sys::signal::Signal;

const SERVER: &str = env!("CARGO_BIN_EXE_poll-server");
const DEMO: &str = env!("CARGO_BIN_EXE_poll-demo");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(60);

/// Starts the server ($1) in directory $2 with the flags in $3, waits
/// (bounded) for its FIFOs, runs the clients script $4 (which sees $dir),
/// then waits for the server and exits with its status.
const HARNESS: &str = r#"server=$1; dir=$2; flags=$3; clients=$4
"$server" --dir "$dir" $flags --wait 20 --color never &
pid=$!
tries=0
while [ ! -p "$dir/fifo-1" ] || [ ! -p "$dir/fifo-$(ls "$dir" | wc -l)" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 400 ]; then echo "poll-server made no FIFO" >&2; exit 3; fi
  sleep 0.05
done
sleep 0.2
eval "$clients"
wait "$pid"
status=$?
wait
exit "$status""#;

/// Runs the server with `flags` and the shell `clients`, in a private dir.
fn serve(flags: &str, clients: &str) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new("sh");
    command
        .args(["-c", HARNESS, "harness", SERVER])
        .arg(dir.path())
        .args([flags, clients]);
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("poll-server with clients {clients:?}: {error}")
    });
    assert!(!done.left_running, "a server or client was left running");
    done
}

/// The messages the server printed for FIFO `fifo`, in order.
fn received<'a>(out: &'a str, fifo: &str) -> Vec<&'a str> {
    let prefix = format!("server | {fifo}: \"");
    out.lines()
        .filter_map(|line| line.strip_prefix(&prefix)?.strip_suffix('"'))
        .collect()
}

#[test]
fn every_message_of_every_client_on_every_fifo_arrives_in_order() {
    // Two clients per FIFO, all six at once, each a subshell that opens
    // the FIFO once and writes five numbered lines, then `end`.
    let clients = r#"for k in 1 2 3; do for c in 1 2; do
      ( for i in 1 2 3 4 5; do echo "c$c $i"; sleep 0.05; done
        echo end ) > "$dir/fifo-$k" &
    done; done"#;
    let done = serve("--fifos 3 --clients 2", clients);
    let out = &done.stdout;
    assert!(done.status.success(), "{:?}\n{out}\n{}", done.status, done.stderr);
    for fifo in ["fifo-1", "fifo-2", "fifo-3"] {
        let got = received(out, fifo);
        for client in ["c1", "c2"] {
            let mine: Vec<&str> = got
                .iter()
                .filter_map(|message| message.strip_prefix(client))
                .map(str::trim)
                .collect();
            assert_eq!(
                mine,
                ["1", "2", "3", "4", "5"],
                "{fifo}, client {client}: missing, repeated or out of \
                 order:\n{out}"
            );
        }
        assert_eq!(
            out.matches(&format!("{fifo}: \"end\"")).count(),
            2,
            "{fifo}: both clients' `end`:\n{out}"
        );
    }
    assert!(out.contains("served 3 FIFOs: 30 messages, 6 ends"), "{out}");
    let last = out.find("every FIFO is done");
    let end = out.rfind("\"end\"");
    assert!(end < last, "the server stopped before every `end`:\n{out}");
}

#[test]
fn a_writer_that_closes_shows_as_pollhup_and_the_fifo_is_opened_again() {
    // One FIFO, two clients one after the other: the first leaves without
    // `end` (POLLHUP, open again), the second says `end` (POLLHUP, done).
    let clients = r#"echo first > "$dir/fifo-1"; sleep 0.3
      echo end > "$dir/fifo-1""#;
    let done = serve("--fifos 1 --clients 1", clients);
    let out = &done.stdout;
    assert!(done.status.success(), "{:?}\n{out}\n{}", done.status, done.stderr);
    assert_eq!(
        out.matches("fifo-1: poll() said POLLHUP, read() = 0").count(),
        2,
        "one POLLHUP per client that closed:\n{out}"
    );
    let hup = out.find("POLLHUP").unwrap();
    let again = out.find("fifo-1: opened again").expect(out);
    let end = out.find("fifo-1: \"end\"").expect(out);
    let done_at = out.find("fifo-1: done, closed").expect(out);
    assert!(hup < again && again < end && end < done_at, "{out}");
    assert_eq!(received(out, "fifo-1"), ["first"], "{out}");
}

#[test]
fn a_python_client_and_a_shell_client_are_served_side_by_side() {
    // Another language, another runtime: the FIFO only sees bytes.
    let clients = r#"python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
for i in range(1, 4):
    os.write(fd, b"py %d\n" % i)
    time.sleep(0.05)
os.write(fd, b"end\n")
os.close(fd)' "$dir/fifo-1" &
      (echo "sh 1"; sleep 0.1; echo "sh 2"; echo end) > "$dir/fifo-2""#;
    let done = serve("--fifos 2 --clients 1", clients);
    let out = &done.stdout;
    assert!(done.status.success(), "{:?}\n{out}\n{}", done.status, done.stderr);
    assert_eq!(received(out, "fifo-1"), ["py 1", "py 2", "py 3"], "{out}");
    assert_eq!(received(out, "fifo-2"), ["sh 1", "sh 2"], "{out}");
    assert!(out.contains("every FIFO is done: stopping"), "{out}");
}

#[test]
fn a_quiet_poll_times_out_and_the_server_gives_up_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(SERVER);
    command.arg("--dir").arg(dir.path()).args([
        "--fifos",
        "2",
        "--timeout-ms",
        "200",
        "--wait",
        "1",
    ]);
    let done = run_clean(&mut command, LIMIT).unwrap();
    assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
    assert!(done.stdout.contains("poll() = 0: timed out"), "{}", done.stdout);
    assert!(done.stdout.contains("fifo-1 --count 3"), "{}", done.stdout);
    assert_eq!(
        done.stderr.trim(),
        "poll-server: no client said anything for 1 s"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "the server left its FIFOs behind: {left:?}");
}

#[test]
fn each_quiet_poll_waits_its_whole_400_ms_and_the_server_gives_up_after_1_s() {
    // The chapter's command. The kernel never ends a poll() before its
    // time-out, so the k-th "timed out" line cannot come before k × 400 ms
    // from the start: a lower bound, which a busy machine only makes
    // easier to meet, and which a shorter time-out would break.
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut server = Background::start(
        Command::new(SERVER)
            .args(["--fifos", "2", "--timeout-ms", "400", "--wait", "1"])
            .args(["--color", "never"])
            .env("TMPDIR", tmp.path()),
        LIMIT,
    );
    server.wait_for("polling 2 FIFOs, timeout 400 ms");
    // --wait 1 with 400 ms polls: it gives up once 3 × 400 ≥ 1000.
    for k in 1..=3u32 {
        server.wait_for("poll() = 0: timed out");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= k * Duration::from_millis(400),
            "time-out {k} came {elapsed:?} after the start, before {k} × \
             400 ms"
        );
    }
    let (status, stdout, stderr) = server.finish();
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(
        stdout.matches("timed out").count(),
        3,
        "three quiet polls of 400 ms before 1 s of silence ends it:\n{stdout}"
    );
    assert!(elapsed >= Duration::from_secs(1), "it gave up after {elapsed:?}");
    assert!(is_empty(tmp.path()), "the server left its FIFOs behind");
}

/// Starts the server in a private TMPDIR, sends it `signal` once it polls,
/// and checks that it ended by that signal with its FIFOs removed.
fn stopped_by(signal: Signal) {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = Background::start(
        Command::new(SERVER)
            .args(["--fifos", "2", "--color", "never"])
            .env("TMPDIR", tmp.path()),
        LIMIT,
    );
    server.wait_for("polling 2 FIFOs");
    assert!(!is_empty(tmp.path()), "the server's FIFOs should exist now");
    server.signal(signal);
    let (status, stdout, stderr) = server.finish();
    assert!(
        !status.success(),
        "{signal:?} should end the server: {status}\n{stdout}{stderr}"
    );
    assert!(
        is_empty(tmp.path()),
        "after {signal:?} the server must have removed its FIFOs and their \
         directory"
    );
}

#[test]
fn sigterm_ends_the_server_and_its_fifos_are_removed() {
    stopped_by(Signal::SIGTERM);
}

#[test]
fn ctrl_c_ends_the_server_and_its_fifos_are_removed() {
    stopped_by(Signal::SIGINT);
}

#[test]
fn a_directory_others_may_write_to_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o777))
        .unwrap();
    let mut command = Command::new(SERVER);
    command.arg("--dir").arg(dir.path()).args(["--wait", "1"]);
    let done = run_clean(&mut command, LIMIT).unwrap();
    assert_eq!(done.status.code(), Some(1));
    assert!(done.stderr.starts_with("poll-server: refusing --dir"), "{}", {
        &done.stderr
    });
    assert!(is_empty(dir.path()), "nothing may be made in a refused dir");
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn the_demo_shows_the_answers_then_serves_three_fifos_at_once() {
    let mut command = Command::new(DEMO);
    command.args(["--color", "never", "--count", "3", "--pause-ms", "50"]);
    let done = run_clean(&mut command, LIMIT).unwrap();
    let out = &done.stdout;
    assert!(done.status.success(), "{:?}\n{out}\n{}", done.status, done.stderr);
    assert!(!done.left_running);
    let first = |needle: &str| {
        out.find(needle)
            .unwrap_or_else(|| panic!("the demo never said {needle:?}:\n{out}"))
    };
    let data = first("answer 1, data");
    let eagain = first("-1 EAGAIN");
    let zero = first("read() = 0");
    let enxio = first("-1 ENXIO");
    let polling = first("polling 3 FIFOs");
    assert!(data < eagain && eagain < zero && zero < enxio && enxio < polling);
    for fifo in 1..=3 {
        first(&format!(
            "fifo-{fifo} client 1: sent 3, received 3: all, in order"
        ));
    }
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [&["--fifos", "0"][..], &["--timeout-ms", "lots"]] {
        let done = run_clean(Command::new(SERVER).args(args), LIMIT).unwrap();
        assert_eq!(done.status.code(), Some(2), "{args:?}: {}", done.stderr);
        assert_eq!(done.stderr.trim().lines().count(), 1, "{}", done.stderr);
    }
}
