//! Lesson 10's claims, checked by running socketpair, socket-server,
//! socket-client, socket-demo, python3, ls and the shell as separate
//! processes, each with a time limit.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::nobody::{NOBODY, NobodyCopy, nobody_or_skip, nobody_unavailable};
use labkit::watchdog::{Background, Finished};
use nix::sys::signal::Signal;
use nix::unistd::{getegid, geteuid};

const SOCKETPAIR: &str = env!("CARGO_BIN_EXE_socketpair");
const SERVER: &str = env!("CARGO_BIN_EXE_socket-server");
const CLIENT: &str = env!("CARGO_BIN_EXE_socket-client");
const DEMO: &str = env!("CARGO_BIN_EXE_socket-demo");
/// Generous: CI has two cores and runs tests in parallel.
const LIMIT: Duration = Duration::from_secs(20);

/// Starts a program beside the test: its lines as they come, every wait
/// bounded by LIMIT (labkit's Background).
fn background(command: &mut Command) -> Background {
    Background::start(command, LIMIT)
}

/// Runs a program to its end, within the limit; nothing may outlive it.
fn bounded(what: &str, command: &mut Command) -> Finished {
    let done = run_clean(command, LIMIT)
        .unwrap_or_else(|error| panic!("{what}: {error}"));
    assert!(!done.left_running, "{what} left a process running");
    done
}

fn color_never(command: &mut Command) -> &mut Command {
    command.args(["--color", "never"])
}

/// socket-server on `path`, started and listening.
fn server_at(path: &Path, extra: &[&str]) -> Background {
    let mut server = background(color_never(
        Command::new(SERVER).arg("--path").arg(path).args(extra),
    ));
    server.wait_for("listening on");
    server
}

fn client_at(path: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(CLIENT);
    command.arg("--path").arg(path).args(extra);
    color_never(&mut command);
    command
}

/// Asserts an error came as exactly one line on stderr, with `words` in it.
fn assert_one_line(done: &Finished, words: &str) {
    assert!(!done.status.success(), "a failure was expected");
    assert_eq!(
        done.stderr.lines().count(),
        1,
        "one line expected, got:\n{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(words),
        "expected {words:?} in {:?}",
        done.stderr
    );
    assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect()
}

/// A name in the abstract namespace no other test uses.
fn abstract_name(test: &str) -> String {
    format!("pipelab-test-{}-{test}", std::process::id())
}

#[test]
fn a_socketpair_carries_both_directions_and_shutdown_closes_only_one() {
    let done = bounded(
        "socketpair",
        color_never(Command::new(SOCKETPAIR).args(["--act", "both-ways"])),
    );
    assert!(done.status.success(), "{}", done.stderr);
    let out = &done.stdout;
    // Each side read the other's words: never its own.
    assert!(out.contains(r#" child | read "hello from the parent""#), "{out}");
    assert!(
        out.contains(r#"parent | read "hello from the child\n", then 0"#),
        "{out}"
    );
    // End of file came while the child was alive, and the child read
    // after its shutdown(): the other direction stayed open.
    let eof = out.find("then 0: end of file").unwrap();
    let later = out.find(r#"read "are you still there?""#).unwrap();
    assert!(eof < later, "{out}");
    assert!(out.contains("exited with code 0"), "{out}");
}

#[test]
fn request_and_reply_on_one_descriptor_never_reads_back_its_own() {
    let done = bounded(
        "socketpair",
        color_never(Command::new(SOCKETPAIR).args([
            "--act",
            "request-reply",
            "--requests",
            "200",
        ])),
    );
    assert!(done.status.success(), "{}", done.stderr);
    for number in 1..=200 {
        let line = format!(
            "sent \"request {number} of 200\", \
             got back \"REQUEST {number} OF 200\""
        );
        assert!(done.stdout.contains(&line), "missing {line:?}");
    }
    assert!(
        done.stdout.contains("after answering 200 requests"),
        "{}",
        done.stdout
    );
}

#[test]
fn seqpacket_and_dgram_keep_boundaries_and_stream_does_not() {
    let done = bounded(
        "socketpair",
        color_never(Command::new(SOCKETPAIR).args(["--act", "types"])),
    );
    assert!(done.status.success(), "{}", done.stderr);
    let out = &done.stdout;
    for line in [
        r#"SOCK_STREAM    1 read: "onetwothree""#,
        r#"SOCK_SEQPACKET 3 reads: "one" "two" "three""#,
        r#"SOCK_DGRAM     3 reads: "one" "two" "three""#,
        // Too small a buffer: the stream keeps the rest, the others drop it.
        r#"SOCK_STREAM    3 reads: "he" "ll" "o""#,
        r#"SOCK_SEQPACKET 1 read: "he""#,
        r#"SOCK_DGRAM     1 read: "he""#,
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
}

#[test]
fn python_sees_the_same_boundaries_on_its_own_socketpairs() {
    // The kernel's behaviour, not our program's: the same writes through
    // python3's socket module give the same reads.
    let script = r#"
import socket
for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET, socket.SOCK_DGRAM):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    for m in (b"one", b"two", b"three"):
        a.send(m)
    reads = []
    b.setblocking(False)
    while True:
        try:
            reads.append(b.recv(64))
        except BlockingIOError:
            break
    print(len(reads))
"#;
    let done = bounded("python3", Command::new("python3").args(["-c", script]));
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "1\n3\n3\n");
}

#[test]
fn connect_returns_before_the_server_accepts() {
    // The listen backlog: the kernel completes the connection and queues
    // it; accept() only takes it off the queue. (python3, no code of ours.)
    let tmp = tempfile::tempdir().unwrap();
    let script = r#"
import socket, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(5)
clients = []
for _ in range(3):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    clients.append(c)
print("connected", len(clients), "before any accept")
"#;
    let done = bounded(
        "python3",
        Command::new("python3").args(["-c", script]).arg(tmp.path().join("s")),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "connected 3 before any accept\n");
}

#[test]
fn a_descriptor_needs_a_byte_to_ride_on_a_stream_socket() {
    // The kernel's rule, shown with python3: an empty sendmsg on a stream
    // socket sends no descriptor; on a seqpacket socket it does.
    let script = r#"
import os, socket
r, w = os.pipe()
rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, r.to_bytes(4, "little"))]
for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET):
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    a.sendmsg([b""], rights)
    a.send(b"x")
    msg, fds, _, _ = socket.recv_fds(b, 10, 2)
    print(len(fds))
"#;
    let done = bounded("python3", Command::new("python3").args(["-c", script]));
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "0\n1\n");
}

#[test]
fn a_0600_socket_keeps_other_users_out() {
    if !nobody_or_skip("a client as another user") {
        // One user cannot test another's access; root runs it as nobody.
        return;
    }
    // A directory nobody may enter, so only the socket's own mode decides.
    let tmp = tempfile::Builder::new()
        .prefix("pipelab-test-")
        .tempdir_in(std::env::temp_dir())
        .unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &[]);
    let copy = NobodyCopy::new(CLIENT).unwrap();
    let done = bounded(
        "client as nobody",
        color_never(copy.command().arg("--path").arg(&path)),
    );
    assert_one_line(&done, "permission denied (EACCES)");
    // The server is still waiting for a client it will accept.
    let ok = bounded("client", &mut client_at(&path, &[]));
    assert!(ok.status.success(), "{}", ok.stderr);
    assert!(server.finish().0.success());
}

#[test]
fn the_default_socket_is_0600_in_a_0700_directory_and_ls_shows_s() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server =
        background(color_never(Command::new(SERVER).env("TMPDIR", tmp.path())));
    server.wait_for("listening on");
    let dir = entries(tmp.path()).pop().expect("the private directory");
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let socket = dir.join("server.sock");
    let ls = bounded("ls -l", Command::new("ls").arg("-l").arg(&socket));
    assert!(
        ls.stdout.starts_with("srw------- "),
        "ls -l shows the type s and mode 0600: {}",
        ls.stdout
    );
    let done = bounded("client", &mut client_at(&socket, &[]));
    assert!(done.status.success(), "{}", done.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(
        entries(tmp.path()).is_empty(),
        "the socket and its directory must be gone: {:?}",
        entries(tmp.path())
    );
}

#[test]
fn peer_credentials_are_the_clients_real_pid_and_uid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &[]);
    let mut client = background(&mut client_at(&path, &[]));
    let pid = client.pid();
    client.wait_for("the server replied \"ok\"");
    assert!(client.finish().0.success());
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    let expected = format!(
        "SO_PEERCRED of client 1: pid {pid}, uid {}, gid {}",
        geteuid(),
        getegid()
    );
    assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
}

#[test]
fn a_python_client_is_seen_with_its_own_pid_and_uid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &[]);
    // python3 tells the truth about itself, and prints its pid for us.
    let script = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
ids = f"pid={os.getpid()} uid={os.geteuid()} gid={os.getegid()}"
s.sendall(f"hello {ids}\n".encode())
print(os.getpid(), s.recv(100).decode().strip())
"#;
    let done = bounded(
        "python3 client",
        Command::new("python3").args(["-c", script]).arg(&path),
    );
    assert!(done.status.success(), "{}", done.stderr);
    let (pid, reply) = done.stdout.trim().split_once(' ').unwrap();
    assert_eq!(reply, "ok");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    let expected =
        format!("SO_PEERCRED of client 1: pid {pid}, uid {}", geteuid());
    assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
}

#[test]
fn a_client_that_lies_about_its_pid_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &[]);
    let done =
        bounded("lying client", &mut client_at(&path, &["--claim-pid", "1"]));
    assert_one_line(&done, "the server refused me: you are not who you say");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("says pid 1, uid"), "{out}");
    assert!(out.contains("the kernel says: refusing it"), "{out}");
}

#[test]
fn a_uid_the_server_does_not_accept_is_refused() {
    if nobody_unavailable().is_none() {
        // Another user for real: nobody, through the abstract namespace,
        // which has no file and so no permission to keep nobody out.
        let name = abstract_name("uid");
        let mut server = background(color_never(
            Command::new(SERVER).args(["--abstract", &name]),
        ));
        server.wait_for("listening on");
        let copy = NobodyCopy::new(CLIENT).unwrap();
        let done = bounded(
            "client as nobody",
            color_never(copy.command().args(["--abstract", &name])),
        );
        assert_one_line(&done, &format!("uid {NOBODY} is not allowed"));
        let (status, out, _) = server.finish();
        assert!(status.success(), "{out}");
        assert!(
            out.contains(&"SO_PEERCRED of client 1: pid".to_string()),
            "{out}"
        );
        assert!(out.contains(&format!("uid {NOBODY}, gid {NOBODY}")), "{out}");
        assert!(out.contains("is not allowed here (allowed: [0])"), "{out}");
    } else {
        // We cannot become another user: the server accepts only someone
        // else, and so refuses us.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s");
        let other = (geteuid().as_raw() + 1).to_string();
        let server = server_at(&path, &["--allow-uid", &other]);
        let done = bounded("client", &mut client_at(&path, &[]));
        assert_one_line(&done, &format!("uid {} is not allowed", geteuid()));
        assert!(server.finish().0.success());
    }
}

#[test]
fn a_passed_descriptor_reads_the_file_and_shares_its_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let file = tmp.path().join("notes.txt");
    let text = "0123456789abcdefghij\nthe rest of the file\n";
    std::fs::write(&file, text).unwrap();
    let inode = std::fs::metadata(&file).unwrap().ino();
    let server = server_at(&path, &["--read-bytes", "10"]);
    let arg = file.to_str().unwrap();
    let done = bounded("client", &mut client_at(&path, &["--send-file", arg]));
    assert!(done.status.success(), "{}", done.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("received a descriptor (SCM_RIGHTS)"), "{out}");
    assert!(
        out.contains(&format!("fstat: inode {inode}, as the client's")),
        "{out}"
    );
    assert!(out.contains(r#"read 10 bytes through it: "0123456789""#), "{out}");
    // The client's own descriptor moved with the server's read.
    assert!(done.stdout.contains("my offset is now 10:"), "{}", done.stdout);
    let rest = format!("I read the rest myself: {:?}", &text[10..]);
    assert!(done.stdout.contains(&rest), "{}", done.stdout);
}

#[test]
fn the_server_reads_a_file_whose_name_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let file = tmp.path().join("gone.txt");
    std::fs::write(&file, "nobody can open me now\n").unwrap();
    let server = server_at(&path, &[]);
    let arg = file.to_str().unwrap();
    let done = bounded(
        "client",
        &mut client_at(&path, &["--send-file", arg, "--unlink"]),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert!(!file.exists(), "the client removed the name");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("myself: ENOENT"), "{out}");
    assert!(
        out.contains(r#"read 16 bytes through it: "nobody can open ""#),
        "{out}"
    );
}

#[test]
fn the_server_reads_a_file_it_has_no_permission_to_open() {
    if !nobody_or_skip("a server as another user") {
        // Without a second user the server can open whatever the client
        // can; the test above shows a file with no name instead.
        return;
    }
    // root's file, mode 0600, in root's private directory; the server
    // runs as nobody and listens on an abstract name.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("secret.txt");
    std::fs::write(&file, "for root's eyes only\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        .unwrap();
    let name = abstract_name("eacces");
    let copy = NobodyCopy::new(SERVER).unwrap();
    let mut server = background(color_never(copy.command().args([
        "--abstract",
        &name,
        "--allow-uid",
        "0",
    ])));
    server.wait_for("listening on");
    let mut client = Command::new(CLIENT);
    client.args(["--abstract", &name, "--send-file"]).arg(&file);
    let done = bounded("client", color_never(&mut client));
    assert!(done.status.success(), "{}", done.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("myself: EACCES"), "{out}");
    assert!(
        out.contains(r#"read 16 bytes through it: "for root's eyes ""#),
        "{out}"
    );
}

#[test]
fn a_pipe_end_sent_by_python_is_read_by_the_server() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &[]);
    // python3 passes the read end of a pipe, then writes into the pipe.
    let script = r#"
import os, socket, sys
r, w = os.pipe()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
ids = f"pid={os.getpid()} uid={os.geteuid()} gid={os.getegid()}"
hello = f"hello {ids} fd={r}\n"
socket.send_fds(s, [hello.encode()], [r])
os.close(r)
os.write(w, b"through a pipe!!")
print(s.recv(100).decode().strip())
"#;
    let done = bounded(
        "python3 client",
        Command::new("python3").args(["-c", script]).arg(&path),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout.trim(), "read 16");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(
        out.contains(r#"read 16 bytes through it: "through a pipe!!""#),
        "{out}"
    );
}

#[test]
fn a_python_server_receives_our_clients_descriptor() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, "abcdefghij").unwrap();
    // A server of python3's own: SO_PEERCRED and recv_fds, no code of ours.
    let script = r#"
import os, socket, struct, sys
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1]); srv.listen(1)
print("listening", flush=True)
c, _ = srv.accept()
creds = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
pid, uid, gid = struct.unpack("3i", creds)
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
said = dict(f.split("=", 1) for f in msg.decode().split()[1:])
assert int(said["pid"]) == pid and int(said["uid"]) == uid, (said, pid, uid)
data = os.read(fds[0], 4)
c.sendall(f"read {len(data)}\n".encode())
print("peer", pid, data.decode())
"#;
    let mut python =
        background(Command::new("python3").args(["-c", script]).arg(&path));
    python.wait_for("listening");
    let client = background(&mut client_at(
        &path,
        &["--send-file", file.to_str().unwrap()],
    ));
    let pid = client.pid();
    let (status, out, err) = client.finish();
    assert!(status.success(), "{out}{err}");
    assert!(out.contains("my offset is now 4:"), "{out}");
    assert!(out.contains(r#"I read the rest myself: "efghij""#), "{out}");
    let (status, out, err) = python.finish();
    assert!(status.success(), "{out}{err}");
    assert!(out.contains(&format!("peer {pid} abcd")), "{out}");
}

#[test]
fn several_clients_at_once_are_each_seen_with_their_own_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let server = server_at(&path, &["--clients", "4"]);
    let clients: Vec<Background> =
        (0..4).map(|_| background(&mut client_at(&path, &[]))).collect();
    let mut pids: Vec<String> =
        clients.iter().map(|client| client.pid().to_string()).collect();
    for client in clients {
        let (status, out, err) = client.finish();
        assert!(status.success(), "{out}{err}");
    }
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    let mut seen: Vec<String> = out
        .lines()
        .filter_map(|line| line.split_once("SO_PEERCRED of client "))
        .filter_map(|(_, rest)| rest.split_once(": pid "))
        .map(|(_, rest)| rest.split(',').next().unwrap().to_string())
        .collect();
    pids.sort();
    seen.sort();
    assert_eq!(seen, pids, "{out}");
}

#[test]
fn a_stale_socket_after_kill_9_is_replaced_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let first = server_at(&path, &[]);
    first.signal(Signal::SIGKILL);
    let (status, _, _) = first.finish();
    assert_eq!(status.signal(), Some(9));
    let ls = bounded("ls -l", Command::new("ls").arg("-l").arg(&path));
    assert!(ls.stdout.starts_with('s'), "the socket stays: {}", ls.stdout);

    let refused = bounded("client", &mut client_at(&path, &[]));
    assert_one_line(&refused, "no server listens on it (ECONNREFUSED)");

    let mut second =
        background(color_never(Command::new(SERVER).arg("--path").arg(&path)));
    second.wait_for("listening on");
    let done = bounded("client", &mut client_at(&path, &[]));
    assert!(done.status.success(), "{}", done.stderr);
    let (status, out, _) = second.finish();
    assert!(status.success(), "{out}");
    let stale: Vec<&str> =
        out.lines().filter(|line| line.contains("stale")).collect();
    assert_eq!(stale.len(), 1, "one line about the stale socket:\n{out}");
    assert!(stale[0].contains("(ECONNREFUSED): replaced it"), "{out}");
    assert!(!path.exists(), "the second server removed its socket");
}

#[test]
fn a_live_server_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    let mut live = server_at(&path, &["--clients", "2"]);
    let second = bounded(
        "second server",
        color_never(Command::new(SERVER).arg("--path").arg(&path)),
    );
    assert_one_line(&second, "is in use (EADDRINUSE): a server is listening");
    // The second server's probe was a connection that said nothing: the
    // live server counts it and serves the next client as usual.
    let done = bounded("client", &mut client_at(&path, &[]));
    assert!(done.status.success(), "{}", done.stderr);
    live.wait_for("left without a word");
    let (status, out, _) = live.finish();
    assert!(status.success(), "{out}");
    assert!(!path.exists());
}

#[test]
fn a_path_that_is_not_our_socket_is_refused_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("precious");
    std::fs::write(&file, "keep me\n").unwrap();
    let link = tmp.path().join("link");
    symlink(&file, &link).unwrap();
    let fifo = tmp.path().join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600))
        .unwrap();
    // A socket of ours that others may use: not one this server made.
    let open_socket = tmp.path().join("open.sock");
    let made = bounded(
        "python3 bind",
        Command::new("python3")
            .args([
                "-c",
                "import os, socket, sys; s = socket.socket(socket.AF_UNIX); \
                 s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)",
            ])
            .arg(&open_socket),
    );
    assert!(made.status.success(), "{}", made.stderr);
    for (path, reason) in [
        (&file, "a regular file, not a socket"),
        (&link, "a symbolic link, not a socket"),
        (&fifo, "a FIFO, not a socket"),
        (
            &open_socket,
            "its mode is 0666: group may read and write, others may read \
             and write",
        ),
    ] {
        let done = bounded(
            "server",
            color_never(Command::new(SERVER).arg("--path").arg(path)),
        );
        assert_one_line(&done, reason);
        assert!(done.stderr.contains("; untouched"), "{}", done.stderr);
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"keep me\n");
    assert_eq!(std::fs::read_link(&link).unwrap(), file);
    assert!(fifo.exists() && open_socket.exists());
}

#[test]
fn ctrl_c_sigterm_and_sighup_remove_the_socket_and_its_directory() {
    let signals =
        [(Signal::SIGINT, 2), (Signal::SIGTERM, 15), (Signal::SIGHUP, 1)];
    for (signal, number) in signals {
        let tmp = tempfile::tempdir().unwrap();
        let mut server = background(color_never(
            Command::new(SERVER).env("TMPDIR", tmp.path()),
        ));
        server.wait_for("listening on");
        assert_eq!(entries(tmp.path()).len(), 1);
        server.signal(signal);
        let (status, out, _) = server.finish();
        assert_eq!(status.signal(), Some(number), "{out}");
        assert!(
            entries(tmp.path()).is_empty(),
            "after {signal}: {:?}",
            entries(tmp.path())
        );
    }
}

#[test]
fn an_abstract_socket_has_no_file_and_still_takes_clients() {
    let tmp = tempfile::tempdir().unwrap();
    let name = abstract_name("abstract");
    let mut server = background(color_never(
        Command::new(SERVER)
            .args(["--abstract", &name])
            .env("TMPDIR", tmp.path()),
    ));
    server.wait_for(&format!("listening on @{name}"));
    let table = std::fs::read_to_string("/proc/net/unix").unwrap();
    assert!(table.contains(&format!("@{name}")), "the kernel lists it");
    let mut client = Command::new(CLIENT);
    client.args(["--abstract", &name]);
    let done = bounded("client", color_never(&mut client));
    assert!(done.status.success(), "{}", done.stderr);
    assert!(server.finish().0.success());
    assert!(entries(tmp.path()).is_empty(), "no file, no directory");
}

#[test]
fn every_bad_input_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain");
    std::fs::write(&file, "x").unwrap();
    let missing = tmp.path().join("nothing-here");
    let no_dir = tmp.path().join("no-such-dir").join("s");
    let cases: Vec<(&str, Command, &str)> = vec![
        ("client, no socket", client_at(&missing, &[]), "(ENOENT)"),
        (
            "client, not a socket",
            client_at(&file, &[]),
            "a regular file, not a socket",
        ),
        ("client, no --path", Command::new(CLIENT), "--path"),
        (
            "client, missing file",
            client_at(&missing, &["--send-file", "/no/such"]),
            "(ENOENT)",
        ),
        (
            "server, no directory",
            {
                let mut c = Command::new(SERVER);
                c.arg("--path").arg(&no_dir);
                c
            },
            "bind",
        ),
        (
            "server, --clients 0",
            {
                let mut c = Command::new(SERVER);
                c.args(["--clients", "0"]);
                c
            },
            "--clients",
        ),
        (
            "server, a path longer than sun_path",
            {
                let mut c = Command::new(SERVER);
                c.arg("--path").arg(tmp.path().join("s".repeat(120)));
                c
            },
            "(ENAMETOOLONG)",
        ),
        (
            "socketpair, bad act",
            {
                let mut c = Command::new(SOCKETPAIR);
                c.args(["--act", "sideways"]);
                c
            },
            "--act",
        ),
    ];
    for (what, mut command, words) in cases {
        let done = bounded(what, &mut command);
        assert_one_line(&done, words);
    }
    assert!(!no_dir.parent().unwrap().exists());
}

#[test]
fn the_demo_shows_both_directions_two_clients_and_a_passed_descriptor() {
    let done = bounded("socket-demo", color_never(&mut Command::new(DEMO)));
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    let out = &done.stdout;
    assert!(out.contains(r#" child | read "hello from the parent""#), "{out}");
    // Each client's pid, as the demo started it, is the one the server
    // learned from the kernel.
    for number in 1..=2 {
        let line = out
            .lines()
            .find(|line| line.contains(&format!("client {number} (pid ")))
            .unwrap_or_else(|| panic!("no client {number} in:\n{out}"));
        let pid =
            line.split("(pid ").nth(1).unwrap().split(')').next().unwrap();
        assert!(
            out.contains(&format!(": pid {pid}, uid {}", geteuid())),
            "client {number} (pid {pid}) not seen by SO_PEERCRED:\n{out}"
        );
    }
    assert_eq!(out.matches("my offset is now 16:").count(), 2, "{out}");
    assert_eq!(out.matches("myself: ENOENT").count(), 2, "{out}");
    assert!(out.contains("a stale socket of mine"), "{out}");
}

#[test]
fn a_silent_client_is_dropped_and_the_next_one_served() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s");
    // 5 s to connect, and then to speak: python3 starts well within it
    // (a slow start would fail the test with "no client came").
    let mut server = server_at(&path, &["--clients", "2", "--wait", "5"]);
    // python3 connects and says nothing for longer than the server waits.
    let script = r#"
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
print(s.recv(100).decode().strip())
"#;
    let silent = bounded(
        "silent python3 client",
        Command::new("python3").args(["-c", script]).arg(&path),
    );
    assert_eq!(silent.stdout.trim(), "refused: nothing said in time");
    server.wait_for("client 1 said nothing for 5 s");
    let done = bounded("client", &mut client_at(&path, &[]));
    assert!(done.status.success(), "{}", done.stderr);
    assert!(server.finish().0.success());
}

#[test]
fn trace_shows_each_system_call_with_its_result() {
    let done = bounded(
        "socketpair --trace",
        color_never(Command::new(SOCKETPAIR).args([
            "--act",
            "both-ways",
            "--trace",
        ])),
    );
    assert!(done.status.success(), "{}", done.stderr);
    for call in [
        "socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [",
        "shutdown(",
        ", SHUT_WR) = 0",
        "read(",
    ] {
        assert!(done.stdout.contains(call), "no {call:?} in:\n{}", done.stdout);
    }
}
