//! Lesson 04's claims, checked by running fifo-server, fifo-client,
//! fifo-demo and the shell as separate processes, each with a time limit.

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use labkit::nobody::{NobodyCopy, nobody_or_skip};
use nix::sys::signal::Signal;
use nix::unistd::geteuid;

#[test]
fn the_printed_command_delivers_100_pings_and_then_everything_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    // A space in the path: the printed command must quote it.
    let temp_dir = tmp.path().join("a b");
    std::fs::create_dir(&temp_dir).unwrap();
    let mut server = background(Command::new(SERVER).env("TMPDIR", &temp_dir));
    let command = server.wait_for("cargo lab run 4 client -- ");
    let printed = command.split_once(" -- ").unwrap().1;
    // Run exactly what was printed, through a shell, with our client binary
    // in place of `cargo lab run 4 client --`.
    let sent = bounded(
        "the printed client command",
        Command::new("sh").args(["-c", &format!("\"$0\" {printed}"), CLIENT]),
    );
    assert!(sent.status.success(), "client: {}", sent.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert_eq!(count(&out, "received \"ping\""), 100, "{out}");
    assert!(out.contains("received \"end\""), "{out}");
    assert!(out.contains("100 × \"ping\""), "{out}");
    assert!(
        entries(&temp_dir).is_empty(),
        "the FIFO and its directory must be gone: {:?}",
        entries(&temp_dir)
    );
}

#[test]
fn the_default_fifo_is_0600_in_a_0700_directory() {
    let tmp = tempfile::tempdir().unwrap();
    // Under umask 0 nothing is taken away: the modes seen are those asked.
    let mut server = background(
        Command::new("sh")
            .args(["-c", r#"umask 0; exec "$0""#, SERVER])
            .env("TMPDIR", tmp.path()),
    );
    server.wait_for("open(O_RDONLY)");
    let dir = entries(tmp.path()).pop().expect("the private directory");
    let fifo = dir.join("fifo");
    let mode = |path: &Path| {
        std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&fifo), 0o600, "nobody but the owner may use the FIFO");
    bounded("client", &mut client(&fifo, &["--count", "1"]));
    assert!(server.finish().0.success());
}

#[test]
fn echo_from_a_shell_is_a_client_and_the_server_reopens_after_eof() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    let echoed = bounded("echo hi", &mut shell(r#"echo hi > "$1""#, &[&fifo]));
    assert!(echoed.status.success(), "{}", echoed.stderr);
    server.wait_for("received \"hi\"");
    // echo has closed its write end, the only one: end of file, and reopen.
    server.wait_for("every writer has closed the FIFO");
    server.wait_for("open(O_RDONLY|O_NONBLOCK) again");
    let echoed =
        bounded("echo end", &mut shell(r#"echo end > "$1""#, &[&fifo]));
    assert!(echoed.status.success(), "{}", echoed.stderr);
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("received \"end\""), "{out}");
    assert!(!fifo.exists());
}

#[test]
fn cat_reads_what_the_client_sends() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let done = bounded(
        "cat and fifo-client",
        &mut shell(
            r#"cat "$1" & "$2" --path "$1" --count 3 > /dev/null; wait"#,
            &[&fifo, Path::new(CLIENT)],
        ),
    );
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(done.stdout, "ping\nping\nping\nend\n");
}

#[test]
fn every_framing_gets_messages_through_whole() {
    // Not `read`: it keeps messages whole only when the reader keeps up
    // (tests/classic.rs shows where it does not).
    for framing in
        [["--framing", "line"], ["--framing", "fixed"], ["--framing", "length"]]
    {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let size = ["--size", "8"];
        let mut server = server(&fifo, &[&framing[..], &size[..]].concat());
        server.wait_for("open(O_RDONLY)");
        let sent = bounded(
            "client",
            &mut client(
                &fifo,
                &[
                    &framing[..],
                    &size[..],
                    &["--count", "5", "--message", "hello"],
                ]
                .concat(),
            ),
        );
        assert!(sent.status.success(), "{framing:?}: {}", sent.stderr);
        let (status, out, _) = server.finish();
        assert!(status.success(), "{framing:?}: {out}");
        assert!(out.contains("5 × \"hello\" (5 bytes)"), "{framing:?}: {out}");
    }
}

#[test]
fn the_demo_shows_who_waits_in_open() {
    let done =
        bounded("fifo-demo", Command::new(DEMO).args(["--color", "never"]));
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    let out = &done.stdout;
    for claim in [
        "open(O_WRONLY|O_NONBLOCK) = ENXIO",
        "open(O_RDONLY) is still waiting",
        "open(O_WRONLY|O_NONBLOCK) now succeeds",
        "woke the waiting open(O_RDONLY)",
        "open(O_RDONLY|O_NONBLOCK) returns at once",
        "read() = 0",
    ] {
        assert!(out.contains(claim), "missing {claim:?} in:\n{out}");
    }
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn eight_clients_at_once_lose_nothing_and_mix_nothing() {
    let done = bounded(
        "fifo-demo --clients 8",
        Command::new(DEMO).args(["--clients", "8", "--color", "never"]),
    );
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    for number in 1..=8 {
        let line = format!("client {number}: 20 sent, 20 received whole");
        assert!(
            done.stdout.contains(&line),
            "missing {line:?}:\n{}",
            done.stdout
        );
    }
    assert!(done.stdout.contains("nothing lost, nothing interleaved"));
}

#[test]
fn a_regular_file_at_the_path_is_refused_and_left_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("precious");
    let bytes = b"an important file\n\x00\x01\x02".to_vec();
    std::fs::write(&precious, &bytes).unwrap();
    for (name, mut command) in [
        ("fifo-server", Command::new(SERVER)),
        ("fifo-client", Command::new(CLIENT)),
    ] {
        let done = bounded(name, command.arg("--path").arg(&precious));
        assert_eq!(done.status.code(), Some(1), "{name}");
        assert_one_line(&done.stderr, "a regular file, not a FIFO");
        assert_eq!(
            std::fs::read(&precious).unwrap(),
            bytes,
            "{name} changed the file"
        );
    }
    assert_eq!(entries(tmp.path()), [precious]);
}

#[test]
fn a_symlink_at_the_path_is_refused_and_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("target");
    std::fs::write(&target, b"target bytes").unwrap();
    let link = tmp.path().join("link");
    symlink(&target, &link).unwrap();
    for (name, mut command) in [
        ("fifo-server", Command::new(SERVER)),
        ("fifo-client", Command::new(CLIENT)),
    ] {
        let done = bounded(name, command.arg("--path").arg(&link));
        assert_eq!(done.status.code(), Some(1), "{name}");
        assert_one_line(&done.stderr, "a symbolic link");
        assert_eq!(std::fs::read_link(&link).unwrap(), target);
        assert_eq!(std::fs::read(&target).unwrap(), b"target bytes");
    }
}

#[test]
fn a_missing_directory_is_one_line_and_nothing_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("no-such-dir").join("fifo");
    let done =
        bounded("fifo-server", Command::new(SERVER).arg("--path").arg(&fifo));
    assert_eq!(done.status.code(), Some(1));
    assert_one_line(&done.stderr, "does not exist");
    let done = bounded("fifo-client", &mut client(&fifo, &[]));
    assert_eq!(done.status.code(), Some(1));
    assert_one_line(&done.stderr, "no FIFO at");
    assert!(entries(tmp.path()).is_empty());
}

/// A temporary directory an unprivileged user can enter but not write to.
fn read_only_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let mode = if geteuid().is_root() { 0o755 } else { 0o555 };
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
        .unwrap();
    tmp
}

/// Root ignores file permissions: when we are root, run a copy as nobody
/// (keep the copy alive while the command runs); None, said on stderr,
/// when root cannot become nobody.
fn unprivileged(program: &str) -> Option<(Command, Option<NobodyCopy>)> {
    if !geteuid().is_root() {
        return Some((Command::new(program), None));
    }
    if !nobody_or_skip("the run as an ordinary user") {
        return None;
    }
    let copy = NobodyCopy::new(program).expect("a copy nobody can run");
    Some((copy.command(), Some(copy)))
}

#[test]
fn permission_denied_is_one_line_and_nothing_is_left() {
    let tmp = read_only_dir();
    let fifo = tmp.path().join("fifo");
    let Some((mut command, _copy)) = unprivileged(SERVER) else { return };
    let done = bounded("fifo-server", command.arg("--path").arg(&fifo));
    assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
    assert_one_line(&done.stderr, "permission denied");
    assert!(entries(tmp.path()).is_empty());
    // Let the TempDir remove itself.
    std::fs::set_permissions(
        tmp.path(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
}

#[test]
fn a_fifo_owned_by_another_user_is_refused() {
    // A directory everyone may enter: the unprivileged run must reach the FIFO.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    // Anyone may read and write it: only the owner check can refuse it.
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o666))
        .unwrap();
    let Some((mut command, _copy)) = unprivileged(CLIENT) else { return };
    let done = bounded(
        "fifo-client",
        command.arg("--path").arg(&fifo).args(["--wait", "1"]),
    );
    if geteuid().is_root() {
        assert_eq!(done.status.code(), Some(1));
        assert_one_line(
            &done.stderr,
            "the FIFO belongs to uid 0, not to you (uid 65534)",
        );
    } else {
        // The same user made it: it is refused for its mode alone.
        assert_one_line(&done.stderr, "its mode is 0666");
    }
    assert!(fifo.exists(), "a FIFO we did not make is never removed");
}

/// The inode, mode and type of `path`: what "left untouched" means.
fn identity(path: &Path) -> (u64, u32) {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.ino(), meta.mode())
}

#[test]
fn our_own_fifo_open_to_other_users_is_refused_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o666))
        .unwrap();
    let before = identity(&fifo);
    for (name, mut command) in [
        ("fifo-server", Command::new(SERVER)),
        ("fifo-client", Command::new(CLIENT)),
    ] {
        command.arg("--path").arg(&fifo).args(["--wait", "1"]);
        let done = bounded(name, &mut command);
        assert_eq!(done.status.code(), Some(1), "{name}: {}", done.stderr);
        assert_one_line(
            &done.stderr,
            "its mode is 0666: group may read and write, others may read \
             and write",
        );
        assert!(done.stderr.contains("`chmod 600`"), "{}", done.stderr);
        assert_eq!(identity(&fifo), before, "{name} changed the FIFO");
    }
}

#[test]
fn allow_shared_accepts_a_shared_fifo_and_says_who_else_may_use_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    // What `mkfifo -m 666` gives under the usual umask 022.
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o644))
        .unwrap();
    let who = "mode 0644: group may read, others may read";
    exchange_allowing_shared(&fifo, who);
    assert_eq!(identity(&fifo).1 & 0o777, 0o644, "the mode is the user's");
}

/// Sends `signal` to a server waiting in open() on its private FIFO:
/// the FIFO and its directory are removed, and the signal still ends the
/// server, as it would have without the cleanup.
fn a_signal_on_a_waiting_server_removes_its_fifo_and_directory(signal: Signal) {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = background(Command::new(SERVER).env("TMPDIR", tmp.path()));
    server.wait_for("open(O_RDONLY)");
    assert_eq!(entries(tmp.path()).len(), 1, "the private directory exists");
    server.signal(signal);
    let (status, out, _) = server.finish();
    assert_eq!(status.signal(), Some(signal as i32), "{signal}: {out}");
    assert!(
        entries(tmp.path()).is_empty(),
        "{signal} left behind: {:?}",
        entries(tmp.path())
    );
}

#[test]
fn ctrl_c_on_a_waiting_server_removes_its_fifo_and_directory() {
    a_signal_on_a_waiting_server_removes_its_fifo_and_directory(Signal::SIGINT);
}

#[test]
fn a_shell_shows_status_130_for_a_server_ended_by_ctrl_c() {
    for shell in ["sh", "bash"] {
        let tmp = tempfile::tempdir().unwrap();
        let script =
            r#""$1" & echo "server pid $!"; wait $!; echo "status $?""#;
        let mut run = background(
            Command::new(shell)
                .args(["-c", script, shell, SERVER])
                .env("TMPDIR", tmp.path()),
        );
        let line = run.wait_for("server pid ");
        let pid: i32 = line.rsplit(' ').next().unwrap().parse().unwrap();
        // The shell's line and the server's race to the same pipe: the
        // server may already be waiting in open when the pid comes.
        if !run.seen().iter().any(|seen| seen.contains("open(O_RDONLY)")) {
            run.wait_for("open(O_RDONLY)");
        }
        // What Ctrl-C does: SIGINT to the server.
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGINT)
            .unwrap();
        run.wait_for(&format!("status {}", 128 + libc::SIGINT));
        let (status, ..) = run.finish();
        assert!(status.success(), "{shell}");
        assert!(entries(tmp.path()).is_empty(), "{shell}: the FIFO is gone");
    }
}

#[test]
fn sighup_on_a_waiting_server_removes_its_fifo_and_directory() {
    // What a closed terminal window sends.
    a_signal_on_a_waiting_server_removes_its_fifo_and_directory(Signal::SIGHUP);
}

#[test]
fn sigterm_on_a_waiting_server_removes_its_fifo() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    assert!(fifo.exists());
    server.signal(Signal::SIGTERM);
    let (status, ..) = server.finish();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    assert!(!fifo.exists());
}

#[test]
fn a_server_gone_mid_stream_is_one_epipe_line_from_the_client() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &[]);
    server.wait_for("open(O_RDONLY)");
    let mut sender =
        client(&fifo, &["--count", "100000", "--interval-ms", "2", "--quiet"]);
    let writer = background(&mut sender);
    server.wait_for("received \"ping\"");
    server.signal(Signal::SIGTERM);
    server.finish();
    let (status, out, stderr) = writer.finish();
    assert_eq!(status.code(), Some(1), "{out}");
    assert_one_line(&stderr, "EPIPE: the server has gone");
    assert!(
        out.contains("write() = EPIPE: no process has the FIFO open"),
        "{out}"
    );
    assert!(!fifo.exists());
}

#[test]
fn a_client_gone_mid_message_is_reported_and_the_server_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let mut server = server(&fifo, &["--framing", "fixed"]);
    server.wait_for("open(O_RDONLY)");
    // Half a 4-byte frame, then the writer is gone.
    bounded("half a message", &mut shell(r#"printf pi > "$1""#, &[&fifo]));
    server.wait_for("got 2 of 4 bytes, \"pi\"");
    server.wait_for("waiting for the next client");
    bounded(
        "the end message",
        &mut shell(r#"printf 'end\000' > "$1""#, &[&fifo]),
    );
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("received \"end\""), "{out}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let done = bounded(
        "fifo-client",
        &mut client(Path::new("x"), &["--count", "many"]),
    );
    assert_eq!(done.status.code(), Some(2));
    assert_one_line(&done.stderr, "invalid value 'many' for '--count");
    let done =
        bounded("fifo-server", Command::new(SERVER).args(["--clients", "0"]));
    assert_eq!(done.status.code(), Some(2));
    assert_one_line(&done.stderr, "--clients");
}

#[test]
fn the_umask_gives_0644_a_later_chmod_666_and_the_server_refuses_both() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    // mkfifo(3) with 0666, as os.mkfifo and a bare mkfifo(1) ask for it.
    let made = bounded(
        "mkfifo under umask 022",
        &mut shell(r#"umask 022; mkfifo "$1""#, &[&fifo]),
    );
    assert!(made.status.success(), "{}", made.stderr);
    for (mode, who) in [
        (0o644, "group may read, others may read"),
        (0o666, "group may read and write, others may read and write"),
    ] {
        if mode == 0o666 {
            let chmod =
                bounded("chmod", &mut shell(r#"chmod 666 "$1""#, &[&fifo]));
            assert!(chmod.status.success(), "{}", chmod.stderr);
        }
        assert_eq!(identity(&fifo).1 & 0o777, mode);
        let done = bounded(
            "fifo-server",
            Command::new(SERVER).arg("--path").arg(&fifo),
        );
        assert_eq!(done.status.code(), Some(1), "{}", done.stderr);
        assert_one_line(
            &done.stderr,
            &format!("its mode is {mode:04o}: {who}"),
        );
        assert_eq!(identity(&fifo).1 & 0o777, mode, "the FIFO is untouched");
    }
    // mkfifo(1) -m sets the mode it is given, whatever the umask.
    let exact = tmp.path().join("exact");
    let made = bounded(
        "mkfifo -m 666 under umask 022",
        &mut shell(r#"umask 022; mkfifo -m 666 "$1""#, &[&exact]),
    );
    assert!(made.status.success(), "{}", made.stderr);
    assert_eq!(identity(&exact).1 & 0o777, 0o666);
}

#[test]
fn a_client_that_found_a_reader_waits_for_room_instead_of_failing() {
    // The client's first open is O_NONBLOCK, which it must take off again:
    // left on, its writes into a full FIFO fail with EAGAIN. So: a reader
    // that is there (this test, its open non-blocking so that it returns
    // at once) but does not read until the client has filled the FIFO.
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let reader = nix::fcntl::open(
        &fifo,
        nix::fcntl::OFlag::O_RDONLY
            | nix::fcntl::OFlag::O_NONBLOCK
            | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .unwrap();
    let count = 30_000; // 30 000 × "ping\n": 150 000 bytes, over 65 536
    let mut sender = background(&mut client(
        &fifo,
        &["--count", &count.to_string(), "--quiet"],
    ));
    sender.wait_for("open(O_WRONLY|O_NONBLOCK) succeeded");
    sender.wait_for("sending \"ping\" (1 of");
    // Long enough for the client to fill the FIFO and sleep in write().
    std::thread::sleep(Duration::from_millis(300));
    let mut received = 0;
    let mut buffer = [0u8; 65536];
    loop {
        match nix::unistd::read(&reader, &mut buffer) {
            Ok(0) => break, // the client closed: end of file
            Ok(n) => received += n,
            Err(nix::errno::Errno::EAGAIN) => assert!(
                labkit::watchdog::readable_within(&reader, LIMIT).unwrap(),
                "the client wrote nothing for {} s after {received} bytes",
                LIMIT.as_secs()
            ),
            Err(errno) => panic!("read: {errno}"),
        }
    }
    let (status, stdout, stderr) = sender.finish();
    assert!(status.success(), "fifo-client failed: {stdout}\n{stderr}");
    assert_eq!(received, count * "ping\n".len() + "end\n".len());
}
