//! The test runner for exercise 10: you do not need to edit this file.
//!
//! `cargo lab check 10` runs this program once per scenario, as a process
//! of its own, with a time limit. It listens on a socket in a private
//! directory and starts itself again as the client
//! (`ex10-unix-sockets client SOCKET SCENARIO FILE`), which calls your
//! `send_fd`; on the connection it accepts, it calls your `receive_fd`.
//! Then it prints what came back, one `key: value` line each (the client's
//! lines start with `client-`), for tests/exercise.rs to check.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::Duration;

use ex10_unix_sockets::{receive_fd, send_fd};
use labkit::exercise::open_fds;
use labkit::watchdog::{collect, wait_for_child, wait_readable};
use lesson10_unix_sockets::place::{SocketDir, bind_at};
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::sys::stat::fstat;
use nix::unistd::{Pid, Whence, getegid, geteuid, lseek, pipe2, read, write};

/// How long the runner and its client wait for any one thing.
const LIMIT: Duration = Duration::from_secs(10);

/// The file the client passes: its first 4 bytes, then "quick".
const CONTENT: &str = "the quick brown fox\n";

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [client, socket, name, file] if client == "client" => {
            run_client(Path::new(socket), name, Path::new(file))
        }
        [name] if SCENARIOS.contains(&name.as_str()) => run_server(name),
        _ => Err(format!(
            "usage: ex10-unix-sockets SCENARIO ({})",
            SCENARIOS.join(", ")
        )
        .into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ex10-unix-sockets: {error}");
            ExitCode::FAILURE
        }
    }
}

const SCENARIOS: [&str; 4] = ["file", "offset", "pipe", "no-fd"];

/// The server's side: accept the client, call receive_fd, report.
fn run_server(scenario: &str) -> Result<()> {
    let dir = SocketDir::new()?;
    let file = dir.path().join("data.txt");
    std::fs::write(&file, CONTENT)?;
    // Dropped before `dir`, even in a panic: the directory is left empty,
    // and SocketDir removes it.
    let _file_goes = RemoveOnDrop(&file);
    let listening = bind_at(&dir.path().join("s"))?;
    let socket = dir.path().join("s");
    let mut client = Command::new(std::env::current_exe()?)
        .arg("client")
        .arg(&socket)
        .arg(scenario)
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let client_out = collect(client.stdout.take());
    let client_err = collect(client.stderr.take());
    let client_pid = Pid::from_raw(i32::try_from(client.id())?);

    if !wait_readable(listening.listener.as_fd(), LIMIT)? {
        return Err("the client never connected".into());
    }
    let (stream, _) = listening.listener.accept()?;
    // A receive_fd that waits for a message that never comes gives up.
    stream.set_read_timeout(Some(LIMIT))?;
    let fds_before = open_fds();
    match receive_fd(stream.as_fd()) {
        Ok(received) => {
            let text = String::from_utf8_lossy(&received.message);
            println!("message: {text:?}");
            println!("pid-matches: {}", received.pid == client_pid.as_raw());
            println!("uid-matches: {}", received.uid == geteuid().as_raw());
            println!("gid-matches: {}", received.gid == getegid().as_raw());
            let flags = fcntl(&received.fd, FcntlArg::F_GETFD)?;
            let cloexec = FdFlag::from_bits_truncate(flags);
            println!("cloexec: {}", cloexec.contains(FdFlag::FD_CLOEXEC));
            let inode = fstat(&received.fd)?.st_ino;
            let same = inode == std::fs::metadata(&file)?.ino();
            println!("same-file: {same}");
            if scenario == "offset" {
                let mut five = [0u8; 5];
                let n = read(&received.fd, &mut five)?;
                println!("read: {:?}", String::from_utf8_lossy(&five[..n]));
            } else {
                let content = read_to_end(&received.fd)?;
                println!("content: {content:?}");
            }
        }
        Err(error) => println!("error: {error}"),
    }
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();
    println!("leaked-fds: {}", leaked.join(" "));
    // The client waits for this before it looks at its own offset.
    let _ = (&stream).write_all(b"done\n");
    drop(stream);

    let ended = match wait_for_child(client_pid, LIMIT)? {
        Some(ended) => labkit::status::explain(&ended),
        None => "still running after 10 s".to_string(),
    };
    let _ = client.wait(); // already reaped: this only updates `client`
    print!("{}", client_out.join().unwrap_or_default());
    println!("client: {ended}");
    let errors = client_err.join().unwrap_or_default();
    if !errors.trim().is_empty() {
        eprintln!("the client said:\n{}", errors.trim_end());
    }
    Ok(())
}

/// Removes a file of ours when dropped.
struct RemoveOnDrop<'a>(&'a Path);

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0);
    }
}

/// Everything until end of file, within LIMIT per read.
fn read_to_end(fd: &OwnedFd) -> Result<String> {
    let mut all = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        if !wait_readable(fd.as_fd(), LIMIT)? {
            return Err("the passed descriptor gave nothing for 10 s".into());
        }
        match read(fd, &mut buffer)? {
            0 => return Ok(String::from_utf8_lossy(&all).into_owned()),
            n => all.extend_from_slice(&buffer[..n]),
        }
    }
}

/// The client's side: connect, call send_fd, report, wait for "done".
fn run_client(socket: &Path, scenario: &str, file: &Path) -> Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    let opened = nix::fcntl::open(
        file,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    match scenario {
        "file" => {
            let before = open_fds();
            let sent = send_fd(stream.as_fd(), opened.as_fd(), b"here it is");
            report_sent(sent);
            let leaked: Vec<String> = open_fds()
                .into_iter()
                .filter(|fd| !before.contains(fd))
                .collect();
            println!("client-leaked-fds: {}", leaked.join(" "));
            let still_open = fcntl(&opened, FcntlArg::F_GETFD).is_ok();
            println!("client-fd-open: {still_open}");
        }
        "offset" => {
            // Read "the " first: the server's read starts where ours ended.
            let mut four = [0u8; 4];
            read(&opened, &mut four)?;
            report_sent(send_fd(stream.as_fd(), opened.as_fd(), b"offset"));
        }
        "pipe" => {
            let (reader, writer) = pipe2(OFlag::O_CLOEXEC)?;
            report_sent(send_fd(stream.as_fd(), reader.as_fd(), b"a pipe"));
            drop(reader); // the server has its own copy now, if it came
            write(&writer, b"through the pipe")?;
            drop(writer); // the last write end: the server reads end of file
        }
        _ => {
            // Bytes only, no descriptor.
            stream.write_all(b"just bytes")?;
            println!("client-sent: ok");
        }
    }
    let mut reply = String::new();
    let _ = stream.set_read_timeout(Some(LIMIT));
    let _ = stream.read_to_string(&mut reply);
    if scenario == "offset" {
        let offset = lseek(&opened, 0, Whence::SeekCur)?;
        println!("client-offset: {offset}");
    }
    Ok(())
}

fn report_sent(sent: nix::Result<()>) {
    match sent {
        Ok(()) => println!("client-sent: ok"),
        Err(errno) => println!("client-sent: {errno}"),
    }
}
