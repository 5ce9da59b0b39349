//! The rules of opening a FIFO and of its buffer, as the chapter states
//! them, each seen on this machine's kernel: the client started first on a
//! FIFO made by the `mkfifo` command, a reader blocked in open() that
//! already counts as a reader (Linux), which end may be opened first in
//! one thread, and how much a FIFO holds with nothing read.

mod common;

use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use labkit::fifo::{Access, open_within};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::stat::Mode;
use nix::unistd::{SysconfVar, sysconf, write};

/// A plain `open(2)` of the FIFO, as any program makes it.
fn open_fifo(path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    nix::fcntl::open(path, flags | OFlag::O_CLOEXEC, Mode::empty())
}

/// Asserts the process `pid` has not ended: it is still waiting.
fn assert_still_waiting(pid: nix::unistd::Pid, what: &str) {
    let stat = labkit::procfs::stat(pid.as_raw());
    assert!(
        stat.is_some_and(|stat| !stat.is_zombie()),
        "{what} should still be waiting in open(), but it has ended"
    );
}

#[test]
fn a_client_started_first_on_a_mkfifo_m_600_fifo_gets_enxio_waits_and_delivers()
{
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("myfifo");
    let made =
        bounded("mkfifo -m 600", &mut shell(r#"mkfifo -m 600 "$1""#, &[&fifo]));
    assert!(made.status.success(), "{}", made.stderr);
    let mode = std::fs::metadata(&fifo).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    let mut early = background(&mut client(&fifo, &["--count", "3"]));
    early.wait_for(
        "open(O_WRONLY|O_NONBLOCK) failed with ENXIO: the FIFO has no reader",
    );
    early.wait_for("so a blocking open(O_WRONLY): it waits for a reader");
    let held = Duration::from_millis(300);
    std::thread::sleep(held);
    assert_still_waiting(early.pid(), "fifo-client");

    let server = server(&fifo, &[]);
    let returned = early.wait_for("a reader opened the FIFO");
    let seconds: f64 = returned
        .rsplit_once("returned after ")
        .and_then(|(_, rest)| rest.strip_suffix(" s"))
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {returned:?}"));
    assert!(
        seconds >= held.as_secs_f64(),
        "the blocking open returned after {seconds} s, before the reader came"
    );
    let (status, out, stderr) = early.finish();
    assert!(status.success(), "{out}\n{stderr}");
    let (status, out, _) = server.finish();
    assert!(status.success(), "{out}");
    assert!(out.contains("3 × \"ping\""), "{out}");
    assert!(out.contains("received \"end\""), "{out}");
    assert!(fifo.exists(), "the server leaves a FIFO it did not make");
}

#[test]
fn a_reader_still_waiting_in_open_already_counts_as_a_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    let nonblocking_writer = OFlag::O_WRONLY | OFlag::O_NONBLOCK;
    assert_eq!(
        open_fifo(&fifo, nonblocking_writer).err(),
        Some(Errno::ENXIO),
        "no reader yet"
    );
    // cat's open(O_RDONLY) cannot return before a writer opens the FIFO,
    // and we are the only writer: when our non-blocking open succeeds, the
    // reader it found is cat, still inside its open.
    let reader = background(&mut shell(r#"exec cat "$1""#, &[&fifo]));
    let deadline = Instant::now() + LIMIT;
    let writer = loop {
        match open_fifo(&fifo, nonblocking_writer) {
            Ok(writer) => break writer,
            Err(Errno::ENXIO) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(errno) => panic!(
                "open(O_WRONLY|O_NONBLOCK) while cat waits in open(): {errno}"
            ),
        }
    };
    write(&writer, b"found you\n").unwrap();
    drop(writer);
    let (status, out, stderr) = reader.finish();
    assert!(status.success(), "{stderr}");
    assert_eq!(out, "found you");
}

#[test]
fn in_one_thread_only_the_read_end_can_be_opened_first() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    // The write end first, without waiting: no reader, ENXIO.
    assert_eq!(
        open_fifo(&fifo, OFlag::O_WRONLY | OFlag::O_NONBLOCK).err(),
        Some(Errno::ENXIO)
    );
    // The read end first, without waiting: it returns at once, and then
    // the blocking open of the write end finds a reader.
    let started = Instant::now();
    let _reader = open_fifo(&fifo, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
        .expect("open(O_RDONLY|O_NONBLOCK) returns at once");
    assert!(started.elapsed() < LIMIT);
    let writer = open_within(&fifo, Access::Write, LIMIT);
    assert!(writer.is_ok(), "open(O_WRONLY) after the reader: {writer:?}");
}

#[test]
fn in_one_thread_a_blocking_open_of_the_read_end_waits_for_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    make_fifo(&fifo);
    // The shell opens the read end, then the write end: it never gets to
    // the second, until another process (this test) opens a write end.
    let script = r#"exec 3< "$1"; echo "past the first open"; exec 4> "$1""#;
    let mut both = background(&mut shell(script, &[&fifo]));
    std::thread::sleep(Duration::from_millis(300));
    assert_still_waiting(both.pid(), "the shell's open(O_RDONLY)");
    let partner = open_within(&fifo, Access::Write, LIMIT).unwrap();
    both.wait_for("past the first open");
    drop(partner);
    let (status, _, stderr) = both.finish();
    assert!(status.success(), "{stderr}");
}

/// A FIFO at `fifo` filled to the brim by a writer whose reader never
/// reads: both ends (kept open, or the buffer would go) and the bytes it
/// took.
fn filled(fifo: &Path) -> (OwnedFd, OwnedFd, usize) {
    make_fifo(fifo);
    let reader = open_fifo(fifo, OFlag::O_RDONLY | OFlag::O_NONBLOCK)
        .expect("a reader that never reads");
    let writer = open_fifo(fifo, OFlag::O_WRONLY | OFlag::O_NONBLOCK)
        .expect("the writer finds the reader");
    let mut held = 0;
    loop {
        match write(&writer, &[b'x'; 1024]) {
            Ok(n) => held += n,
            Err(Errno::EAGAIN) => break, // full
            Err(errno) => panic!("write into the FIFO: {errno}"),
        }
    }
    assert_eq!(write(&writer, b"x"), Err(Errno::EAGAIN), "not one byte more");
    (reader, writer, held)
}

#[test]
fn a_fifo_holds_65536_bytes_16_pages_with_nothing_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (_reader, writer, held) = filled(&tmp.path().join("fifo"));
    let page = sysconf(SysconfVar::PAGE_SIZE).unwrap().unwrap() as usize;
    assert_eq!(held, 16 * page, "16 pages of {page} bytes");
    if page == 4096 {
        assert_eq!(held, 65536);
    } else {
        eprintln!("skipped: 65536 holds for 4096-byte pages, here {page}");
    }
    let size = fcntl(&writer, FcntlArg::F_GETPIPE_SZ).unwrap() as usize;
    assert_eq!(held, size, "what the kernel reports for this FIFO");
}

#[test]
fn a_full_fifo_is_still_size_0_in_the_file_system() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    let (_reader, _writer, held) = filled(&fifo);
    assert!(held > 0);
    // What `ls -l` shows: the bytes are in the kernel's buffer, not the file.
    let listed = bounded("ls -l", &mut shell(r#"ls -l "$1""#, &[&fifo]));
    assert!(listed.status.success(), "{}", listed.stderr);
    let fields: Vec<&str> = listed.stdout.split_whitespace().collect();
    assert!(fields[0].starts_with('p'), "a FIFO: {}", listed.stdout);
    assert_eq!(fields[4], "0", "the size column: {}", listed.stdout);
}
