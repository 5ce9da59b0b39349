//! A FIFO opened O_RDWR holds a writer of its own, so its reader never
//! sees end of file: checked with Python against a shell writer, beside an
//! O_RDONLY reader that does see it.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

const LIMIT: Duration = Duration::from_secs(20);

/// Opens the FIFO with `mode`, lets `echo` write a line and leave, reads
/// the line, then waits up to 500 ms for more: prints what the read after
/// the line would return, or `nothing` when no end of file came.
const READER: &str = "import os, select, subprocess, sys, tempfile\n\
d = tempfile.mkdtemp(); path = os.path.join(d, 'f'); os.mkfifo(path, 0o600)\n\
echo = subprocess.Popen(['bash', '-c', 'echo hello > \"$0\"', path])\n\
fd = os.open(path, getattr(os, sys.argv[1]))\n\
echo.wait(timeout=5)\n\
print(os.read(fd, 100))\n\
ready, _, _ = select.select([fd], [], [], 0.5)\n\
print(os.read(fd, 100) if ready else 'nothing')\n\
os.close(fd); os.unlink(path); os.rmdir(d)\n";

fn read_after_the_writer_left(mode: &str) -> String {
    let mut command = Command::new("python3");
    command.arg("-c").arg(READER).arg(mode);
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("python3 {mode} (opening or reading the FIFO) hung: {error}")
    });
    assert!(done.status.success(), "python3: {}", done.stderr);
    done.stdout
}

#[test]
fn an_rdonly_reader_sees_end_of_file_when_the_writer_leaves() {
    assert_eq!(read_after_the_writer_left("O_RDONLY"), "b'hello\\n'\nb''\n");
}

#[test]
fn an_rdwr_reader_never_sees_end_of_file() {
    assert_eq!(
        read_after_the_writer_left("O_RDWR"),
        "b'hello\\n'\nnothing\n",
        "its own write end keeps the FIFO open"
    );
}
