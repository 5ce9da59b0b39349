//! Lesson 05 when one side dies or stops at a bad moment: the peer that is
//! left sees end of file (or EPIPE, or SIGPIPE), as the chapter says, and
//! nothing hangs.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use labkit::watchdog::Background;
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::unistd::Pid;

const RDWR: &str = env!("CARGO_BIN_EXE_fifo-rdwr");
const PEER: &str = env!("CARGO_BIN_EXE_rdwr-peer");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

/// A private directory with the two FIFOs of the fix, made 0600.
fn two_fifos() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let (requests, replies) =
        (tmp.path().join("requests"), tmp.path().join("replies"));
    for fifo in [&requests, &replies] {
        nix::unistd::mkfifo(fifo, Mode::from_bits_truncate(0o600)).unwrap();
    }
    (tmp, requests, replies)
}

/// `rdwr-peer two-fifos` on these FIFOs, in the background.
fn peer(requests: &Path, replies: &Path, wait: &str) -> Background {
    let mut command = Command::new(PEER);
    command
        .args(["--color", "never", "two-fifos", "--requests"])
        .arg(requests)
        .arg("--replies")
        .arg(replies)
        .args(["--wait", wait]);
    Background::start(&mut command, LIMIT)
}

/// A shell client of the peer: `script` gets the FIFOs as "$1" and "$2".
fn client(script: &str, requests: &Path, replies: &Path) -> Background {
    let mut command = Command::new("sh");
    command.args(["-c", script, "sh"]).args([requests, replies]);
    Background::start(&mut command, LIMIT)
}

/// Opens both FIFOs in the peer's order, sends `n` requests and reads
/// each reply, then holds both ends (as a client that hangs) until killed.
fn client_that_stalls_after(n: usize) -> String {
    format!(
        r#"exec 3> "$1"; exec 4< "$2"
        i=0
        while [ "$i" -lt {n} ]; do
            echo "request $i" >&3; read -r reply <&4; echo "$reply"
            i=$((i + 1))
        done
        echo ready; exec sleep 30"#
    )
}

#[test]
fn a_client_killed_between_requests_gives_the_peer_end_of_file() {
    for n in [0, 1, 3] {
        let (_tmp, requests, replies) = two_fifos();
        let peer = peer(&requests, &replies, "10");
        let script = client_that_stalls_after(n);
        let mut client = client(&script, &requests, &replies);
        client.wait_for("ready");
        kill(client.pid(), Signal::SIGKILL).unwrap();
        let (status, ..) = client.finish();
        assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
        let (status, out, stderr) = peer.finish();
        assert!(status.success(), "killed after {n}: {out}\n{stderr}");
        assert!(
            out.contains("end of file on the requests FIFO"),
            "killed after {n}: {out}"
        );
        let answered = format!("answered {n} requests");
        assert!(out.contains(&answered), "killed after {n}: {out}");
    }
}

#[test]
fn a_client_killed_before_it_opens_leaves_the_peer_to_its_limit() {
    let (_tmp, requests, replies) = two_fifos();
    let peer = peer(&requests, &replies, "1");
    let script = r#"echo started; exec sleep 30; exec 3> "$1""#;
    let mut client = client(script, &requests, &replies);
    client.wait_for("started");
    kill(client.pid(), Signal::SIGKILL).unwrap();
    client.finish();
    let (status, out, stderr) = peer.finish();
    assert_eq!(status.code(), Some(1), "{out}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("O_RDONLY) was still waiting after 1.0 s"),
        "{stderr}"
    );
}

#[test]
fn a_peer_killed_mid_stream_gives_end_of_file_then_sigpipe() {
    let (tmp, requests, replies) = two_fifos();
    let peer = peer(&requests, &replies, "10");
    // "$3" appears once the peer is reaped: every descriptor of it closed.
    let reaped = tmp.path().join("reaped");
    let script = r#"exec 3> "$1"; exec 4< "$2"
        echo "request 1" >&3; read -r reply <&4; echo "$reply"
        echo ready
        if read -r reply <&4; then echo "a reply: $reply"
        else echo "end of file on the replies"; fi
        while [ ! -e "$3" ]; do sleep 0.05; done
        echo "request 2" >&3
        echo "not reached""#;
    let mut command = Command::new("sh");
    command.args(["-c", script, "sh"]).args([&requests, &replies, &reaped]);
    let mut client = Background::start(&mut command, LIMIT);
    client.wait_for("ready");
    kill(peer.pid(), Signal::SIGKILL).unwrap();
    let (status, ..) = peer.finish();
    assert_eq!(status.signal(), Some(Signal::SIGKILL as i32));
    std::fs::write(&reaped, b"").unwrap();
    // The kernel closed the dead peer's ends: the client's read sees end
    // of file, and its next write, with no reader left, is killed by
    // SIGPIPE (a shell does not ignore it, as a Rust program does).
    let (status, out, _) = client.finish();
    assert_eq!(out, "REQUEST 1\nready\nend of file on the replies");
    assert_eq!(status.signal(), Some(Signal::SIGPIPE as i32), "{out}");
}

/// The process `parent` started, from /proc (the lesson's one child).
fn only_child(parent: Pid) -> Pid {
    let list = format!("/proc/{parent}/task/{parent}/children");
    let text = std::fs::read_to_string(&list).unwrap();
    let pids: Vec<i32> =
        text.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert_eq!(pids.len(), 1, "one child expected in {list}: {text:?}");
    Pid::from_raw(pids[0])
}

#[test]
fn fifo_rdwr_whose_peer_is_killed_mid_stream_stops_in_one_line() {
    // Without the leak check: on this path fifo-rdwr exits at once and
    // leaves its dead peer for init to reap, which the check would report.
    let mut run = Command::new(RDWR)
        .args(["--color", "never", "--requests", "100000"])
        .env_remove(labkit::hygiene::CHECK_VAR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fifo-rdwr");
    let stdout = BufReader::new(run.stdout.take().unwrap());
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let started = Instant::now();
    let needle = "more exchanges like these";
    loop {
        let left = LIMIT.saturating_sub(started.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => break,
            Ok(_) => {}
            Err(_) => {
                let _ = run.kill();
                let _ = run.wait();
                panic!("fifo-rdwr did not print {needle:?} within {LIMIT:?}");
            }
        }
    }
    kill(only_child(Pid::from_raw(run.id() as i32)), Signal::SIGKILL).unwrap();
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = run.kill();
            panic!("fifo-rdwr still ran {LIMIT:?} after its peer was killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stderr = String::new();
    run.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    // Killed while we waited for a reply, or while we wrote a request.
    assert!(
        stderr.contains("the peer closed the replies FIFO early")
            || stderr.contains("EPIPE"),
        "{stderr}"
    );
}

#[test]
fn a_peer_stopped_in_open_and_between_requests_carries_on() {
    // SIGSTOP and SIGCONT while it waits in open(), then in poll(): the
    // waits resume, and every request still gets its reply.
    let (_tmp, requests, replies) = two_fifos();
    let peer = peer(&requests, &replies, "10");
    let stop_and_continue = || {
        kill(peer.pid(), Signal::SIGSTOP).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        kill(peer.pid(), Signal::SIGCONT).unwrap();
    };
    std::thread::sleep(Duration::from_millis(100));
    stop_and_continue();
    let script = r#"exec 3> "$1"; exec 4< "$2"
        for i in 1 2 3; do
            echo "message $i" >&3; read -r reply <&4; echo "$reply"
            sleep 0.2
        done"#;
    let mut client = client(script, &requests, &replies);
    client.wait_for("MESSAGE 1");
    stop_and_continue();
    let (status, out, stderr) = client.finish();
    assert!(status.success(), "{stderr}");
    assert_eq!(out, "MESSAGE 1\nMESSAGE 2\nMESSAGE 3");
    let (status, out, _) = peer.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("answered 3 requests"), "{out}");
}
