//! One timed run of each mechanism: the system calls being measured.
//!
//! Every two-process run has the same shape. This program is the reader
//! and keeps the clock; a peer process (this same program started again
//! with the hidden `--peer` flag, or the C twin) writes. The clock starts
//! when the first read returns, so the peer's start-up is never timed; the
//! reader looks at the clock after every read and stops after the run's
//! duration; then it closes its end, and the peer's next write fails with
//! EPIPE (Rust ignores SIGPIPE, so the write fails instead of killing it).

use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use labkit::Speaker::Kernel;
use labkit::cli::failed;
use labkit::fifo::{self, Access, Fifo};
use labkit::trace;
use nix::fcntl::{FcntlArg, SpliceFFlags, fcntl, splice, vmsplice};

/// What one run counted (bytes, round trips or messages) and how long that
/// took.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Run {
    pub count: u64,
    pub seconds: f64,
}

impl Run {
    /// Count per second.
    pub fn rate(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

/// What a run failed on: the call, named.
pub type Result<T> = std::result::Result<T, String>;

/// The pipe capacity the fast variants ask for: 1 MiB, the default
/// /proc/sys/fs/pipe-max-size, which any user may ask for.
pub const BIG_PIPE: usize = 1 << 20;

/// How long a peer may take to appear (a FIFO open waits for it).
const PATIENCE: Duration = Duration::from_secs(10);

// ANCHOR: pipe
/// A pipe, with its capacity set to `capacity` if given. Returns the ends
/// and the capacity the kernel reports (F_GETPIPE_SZ), which is what the
/// measurement is then labelled with: a request is not a grant.
pub fn pipe(capacity: Option<usize>) -> Result<(OwnedFd, OwnedFd, usize)> {
    let (read_end, write_end) = std::io::pipe().map_err(failed("pipe2"))?;
    let (read_end, write_end) = (OwnedFd::from(read_end), write_end.into());
    if let Some(bytes) = capacity {
        let asked = i32::try_from(bytes).map_err(failed("F_SETPIPE_SZ"))?;
        let set = fcntl(&write_end, FcntlArg::F_SETPIPE_SZ(asked));
        trace!(Kernel, &set, "fcntl(w, F_SETPIPE_SZ, {asked})");
        set.map_err(failed("fcntl(F_SETPIPE_SZ)"))?;
    }
    let granted = fcntl(&write_end, FcntlArg::F_GETPIPE_SZ)
        .map_err(failed("fcntl(F_GETPIPE_SZ)"))?;
    Ok((read_end, write_end, granted as usize))
}
// ANCHOR_END: pipe

/// Starts a peer: this program again, in the role `role`, with `stdin` and
/// `stdout` as its standard input and output.
fn peer(
    role: &str,
    size: usize,
    stdin: Stdio,
    stdout: Stdio,
    fifos: &[&Path],
) -> Result<Child> {
    let me = std::env::current_exe().map_err(failed("current_exe"))?;
    let mut command = Command::new(me);
    command.args(["--peer", role, "--peer-size", &size.to_string()]);
    for path in fifos {
        command.arg("--peer-fifo").arg(path);
    }
    // spawn() hands the descriptors to the child; `command` holds copies
    // until it is dropped, which is at the end of this function: after
    // that the peer holds the only copies of its ends.
    command.stdin(stdin).stdout(stdout).spawn().map_err(failed("spawn peer"))
}

/// Waits for a peer that has been told to stop (its write failed with
/// EPIPE, or its read returned end of file), for at most [`PATIENCE`]: a
/// peer still running then is stuck, and is killed rather than waited for.
fn reap(mut child: Child, what: &str) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().map_err(failed("waitpid"))? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("the {what} peer failed: {status}"))
            };
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the {what} peer did not stop: killed"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

// ANCHOR: read-timed
/// Reads `size` bytes at a time for `duration`, from the moment the first
/// read returns. Returns the bytes read after that first read, and the time.
fn read_timed(
    mut reader: impl Read,
    size: usize,
    duration: Duration,
) -> Result<Run> {
    let mut buffer = vec![0u8; size];
    if reader.read(&mut buffer).map_err(failed("read"))? == 0 {
        return Err("read: end of file before any data".into());
    }
    let start = Instant::now();
    let mut bytes = 0u64;
    loop {
        let n = reader.read(&mut buffer).map_err(failed("read"))?;
        if n == 0 {
            return Err("read: end of file: the writer stopped early".into());
        }
        bytes += n as u64;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            return Ok(Run { count: bytes, seconds: elapsed.as_secs_f64() });
        }
    }
}
// ANCHOR_END: read-timed

/// Streams through a pipe (of `capacity`, if given) for `duration`: a peer
/// writes `size`-byte chunks, we read them.
pub fn stream_pipe(
    size: usize,
    duration: Duration,
    capacity: Option<usize>,
    zero_copy: bool,
) -> Result<(Run, usize)> {
    let (read_end, write_end, granted) = pipe(capacity)?;
    let role = if zero_copy { "vmsplice" } else { "write" };
    let child = peer(role, size, Stdio::null(), write_end.into(), &[])?;
    // The peer now holds the only write end (`peer` dropped our copy), so
    // if it dies, our read returns end of file instead of waiting forever.
    let run = if zero_copy {
        let run = splice_timed(&read_end, size, duration);
        drop(read_end); // done reading: the peer's next write gets EPIPE
        run
    } else {
        read_timed(File::from(read_end), size, duration)
    };
    // Our read end is closed now (dropped, above or inside read_timed): the
    // peer's next write fails with EPIPE, and it exits.
    reap(child, role)?;
    Ok((run?, granted))
}

// ANCHOR: splice
/// Like [`read_timed`], but splice(2) moves each chunk from the pipe to
/// /dev/null: the bytes never come into this process's memory.
fn splice_timed(
    read_end: &OwnedFd,
    size: usize,
    duration: Duration,
) -> Result<Run> {
    let null = File::create("/dev/null").map_err(failed("open /dev/null"))?;
    let out = |n| {
        splice(read_end, None, &null, None, n, SpliceFFlags::SPLICE_F_MOVE)
            .map_err(failed("splice"))
    };
    if out(size)? == 0 {
        return Err("splice: end of file before any data".into());
    }
    let start = Instant::now();
    let mut bytes = 0u64;
    loop {
        let n = out(size)?;
        if n == 0 {
            return Err("splice: end of file: the writer stopped".into());
        }
        bytes += n as u64;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let seconds = elapsed.as_secs_f64();
            return Ok(Run { count: bytes, seconds });
        }
    }
}
// ANCHOR_END: splice

/// Streams through a FIFO for `duration`: the peer opens it to write.
pub fn stream_fifo(size: usize, duration: Duration) -> Result<Run> {
    let fifo = Fifo::create_private("stream").map_err(failed("mkfifo"))?;
    let child =
        peer("fifo-write", size, Stdio::null(), Stdio::null(), &[fifo.path()])?;
    // open(O_RDONLY) waits for the writer: bounded, in case it never comes.
    let read_end = fifo::open_within(fifo.path(), Access::Read, PATIENCE)
        .map_err(failed("open fifo"))?;
    let run = read_timed(File::from(read_end), size, duration);
    reap(child, "fifo-write")?;
    run
}

/// Streams through a socketpair (AF_UNIX, SOCK_STREAM) for `duration`.
pub fn stream_socketpair(size: usize, duration: Duration) -> Result<Run> {
    let (ours, theirs) = UnixStream::pair().map_err(failed("socketpair"))?;
    let child =
        peer("write", size, Stdio::null(), OwnedFd::from(theirs).into(), &[])?;
    let run = read_timed(ours, size, duration);
    reap(child, "write")?;
    run
}

// ANCHOR: ping-pong
/// Sends `size` bytes and waits for them to come back, for `duration`,
/// after one untimed round trip. Returns the round trips.
fn ping_pong(
    mut there: impl Write,
    mut back: impl Read,
    size: usize,
    duration: Duration,
) -> Result<Run> {
    let mut buffer = vec![b'x'; size];
    there.write_all(&buffer).map_err(failed("write"))?;
    back.read_exact(&mut buffer).map_err(failed("read"))?;
    let start = Instant::now();
    let mut trips = 0u64;
    loop {
        there.write_all(&buffer).map_err(failed("write"))?;
        back.read_exact(&mut buffer).map_err(failed("read"))?;
        trips += 1;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let seconds = elapsed.as_secs_f64();
            return Ok(Run { count: trips, seconds });
        }
    }
}
// ANCHOR_END: ping-pong

/// Ping-pong over two pipes: one there, one back.
pub fn ping_pipes(size: usize, duration: Duration) -> Result<Run> {
    let (there_r, there_w, _) = pipe(None)?;
    let (back_r, back_w, _) = pipe(None)?;
    let child = peer("echo", size, there_r.into(), back_w.into(), &[])?;
    let run =
        ping_pong(File::from(there_w), File::from(back_r), size, duration);
    // Both our ends are closed now: the peer's read returns end of file.
    reap(child, "echo")?;
    run
}

/// Ping-pong over two FIFOs.
pub fn ping_fifos(size: usize, duration: Duration) -> Result<Run> {
    let there = Fifo::create_private("there").map_err(failed("mkfifo"))?;
    let back = Fifo::create_private("back").map_err(failed("mkfifo"))?;
    let paths = [there.path(), back.path()];
    let child = peer("fifo-echo", size, Stdio::null(), Stdio::null(), &paths)?;
    // The same order as the peer's (there, then back), or both would wait.
    let there_w = fifo::open_within(there.path(), Access::Write, PATIENCE)
        .map_err(failed("open fifo"))?;
    let back_r = fifo::open_within(back.path(), Access::Read, PATIENCE)
        .map_err(failed("open fifo"))?;
    let run =
        ping_pong(File::from(there_w), File::from(back_r), size, duration);
    reap(child, "fifo-echo")?;
    run
}

/// Ping-pong over one socketpair, both directions on one connection.
pub fn ping_socketpair(size: usize, duration: Duration) -> Result<Run> {
    let (ours, theirs) = UnixStream::pair().map_err(failed("socketpair"))?;
    let copy = theirs.try_clone().map_err(failed("dup"))?;
    let child = peer(
        "echo",
        size,
        OwnedFd::from(theirs).into(),
        OwnedFd::from(copy).into(),
        &[],
    )?;
    let back = ours.try_clone().map_err(failed("dup"))?;
    let run = ping_pong(ours, back, size, duration);
    reap(child, "echo")?;
    run
}

// ANCHOR: limits
/// The first physical limit: memcpy of `size` bytes, in one process, for
/// `duration`, the clock read about every 64 KiB copied.
pub fn memcpy(size: usize, duration: Duration) -> Result<Run> {
    let source = vec![b'x'; size];
    let mut target = vec![0u8; size];
    let per_look = (65536 / size).max(1);
    let start = Instant::now();
    let mut bytes = 0u64;
    loop {
        for _ in 0..per_look {
            target.copy_from_slice(std::hint::black_box(&source));
            std::hint::black_box(&mut target);
        }
        bytes += (per_look * size) as u64;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let seconds = elapsed.as_secs_f64();
            return Ok(Run { count: bytes, seconds });
        }
    }
}

/// The second: one process writes `size` bytes into a pipe and reads them
/// back, for `duration`: the two system calls and the two copies, with no
/// other process, no wake-up and no waiting.
pub fn write_read(size: usize, duration: Duration) -> Result<Run> {
    // 1 MiB if we may, so that even 1 MiB chunks fit; else the default.
    let (read_end, write_end, capacity) =
        pipe(Some(BIG_PIPE)).or_else(|_| pipe(None))?;
    let chunk = size.min(capacity);
    let (mut reader, mut writer) =
        (File::from(read_end), File::from(write_end));
    let mut buffer = vec![b'x'; chunk];
    let start = Instant::now();
    let mut bytes = 0u64;
    loop {
        // The pipe holds the whole chunk, so neither call ever waits.
        writer.write_all(&buffer).map_err(failed("write"))?;
        reader.read_exact(&mut buffer).map_err(failed("read"))?;
        bytes += chunk as u64;
        let elapsed = start.elapsed();
        if elapsed >= duration {
            let seconds = elapsed.as_secs_f64();
            return Ok(Run { count: bytes, seconds });
        }
    }
}
// ANCHOR_END: limits

/// The C twin: `pipespeed ARGS...`, which prints "COUNT NANOSECONDS".
pub fn c_program(args: &[String]) -> Result<Run> {
    let program = env!("PIPESPEED_C");
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(failed("run the C program"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the C program ({}) failed: {}: {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut words = text.split_whitespace().map(str::parse::<u64>);
    match (words.next(), words.next()) {
        (Some(Ok(count)), Some(Ok(nanos))) if nanos > 0 => {
            Ok(Run { count, seconds: nanos as f64 / 1e9 })
        }
        _ => Err(format!("the C program printed {text:?}")),
    }
}

/// ipc-bench's FIFO method, in the C twin: the FIFO is ours (private, 0600).
pub fn ipcbench_fifo(size: usize, count: u64) -> Result<Run> {
    let fifo =
        Fifo::create_private("ipc_bench_fifo").map_err(failed("mkfifo"))?;
    let path = fifo.path().display().to_string();
    let args = ["ipcbench", "fifo", &size.to_string(), &count.to_string()];
    let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    args.push(path);
    c_program(&args)
}

// ANCHOR: peers
/// The peer's side of every run (`--peer ROLE`). Its descriptors are its
/// standard input and output, or the FIFOs it is given.
pub fn run_peer(role: &str, size: usize, fifos: &[&Path]) -> Result<()> {
    let stdout = || std::io::stdout().as_fd().try_clone_to_owned();
    let stdin = || std::io::stdin().as_fd().try_clone_to_owned();
    let buffer = vec![b'x'; size];
    match role {
        "write" => write_until_epipe(
            File::from(stdout().map_err(failed("dup"))?),
            &buffer,
        ),
        "vmsplice" => {
            let out = stdout().map_err(failed("dup"))?;
            loop {
                let iov = [IoSlice::new(&buffer)];
                match vmsplice(&out, &iov, SpliceFFlags::empty()) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EPIPE) => return Ok(()),
                    Err(e) => return Err(format!("vmsplice: {e}")),
                }
            }
        }
        "fifo-write" => {
            let path = fifos.first().ok_or("fifo-write needs a FIFO")?;
            let fd = fifo::open(path, Access::Write, false)
                .map_err(failed("open fifo"))?;
            write_until_epipe(File::from(fd), &buffer)
        }
        "echo" => {
            let inp = File::from(stdin().map_err(failed("dup"))?);
            let out = File::from(stdout().map_err(failed("dup"))?);
            echo(inp, out, size)
        }
        "fifo-echo" => {
            let [there, back] = fifos else {
                return Err("fifo-echo needs two FIFOs".into());
            };
            let inp = fifo::open(there, Access::Read, false)
                .map_err(failed("open fifo"))?;
            let out = fifo::open(back, Access::Write, false)
                .map_err(failed("open fifo"))?;
            echo(File::from(inp), File::from(out), size)
        }
        other => Err(format!("unknown peer role {other:?}")),
    }
}

/// True for the errors a write gets once its reader has gone: EPIPE, and
/// for a socket whose peer closed with data unread, ECONNRESET.
fn reader_gone(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionReset};
    matches!(error.kind(), BrokenPipe | ConnectionReset)
}

/// Writes `buffer` again and again until the reader goes (EPIPE).
fn write_until_epipe(mut out: File, buffer: &[u8]) -> Result<()> {
    loop {
        match out.write(buffer) {
            Ok(_) => {}
            Err(e) if reader_gone(&e) => return Ok(()),
            Err(e) => return Err(format!("write: {e}")),
        }
    }
}

/// Sends back every `size` bytes it reads, until end of file.
fn echo(mut inp: File, mut out: File, size: usize) -> Result<()> {
    let mut buffer = vec![0u8; size];
    loop {
        match inp.read_exact(&mut buffer) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(());
            }
            Err(e) if reader_gone(&e) => return Ok(()),
            Err(e) => return Err(format!("read: {e}")),
        }
        match out.write_all(&buffer) {
            Ok(()) => {}
            Err(e) if reader_gone(&e) => return Ok(()),
            Err(e) => return Err(format!("write: {e}")),
        }
    }
}
// ANCHOR_END: peers
