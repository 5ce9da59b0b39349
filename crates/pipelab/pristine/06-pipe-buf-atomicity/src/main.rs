//! The test runner for exercise 06: you do not need to edit this file.
//!
//! `cargo lab check 6` runs this program once per scenario, as a process of
//! its own, with a time limit. It makes one pipe, starts several writers
//! (this same program again, with `writer` as its first argument; each gets
//! the pipe's write end as its standard output), lets them all start at
//! once, and hands the read end to your `read_records`. Then it prints what
//! came back, one `key: value` line each, for tests/exercise.rs to check.
//!
//! Scenarios:
//!   small    6 writers × 30 records of 2000 bytes, each record one frame
//!   torn     8 writers × 10 records of 100000 bytes, each one frame, one
//!            write() far above PIPE_BUF: records tear
//!   framed   the same records, written with your `write_record`
//!   frames   one writer, records of several sizes through `write_record`;
//!            the runner walks the frames itself, without `read_records`
//!   empty    no writer at all

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use ex06_pipe_buf_atomicity::{
    FRAME_HEADER, FrameHeader, Record, frame, read_records, write_record,
};
use labkit::watchdog::{wait_for_child, wait_readable};
use nix::fcntl::OFlag;
use nix::unistd::{PathconfVar, Pid, fpathconf, pipe2, read, write};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The body sizes the `frames` scenario sends, given PIPE_BUF: empty, one
/// byte, exactly one frame's room, one byte more, and several frames.
fn frame_sizes(pipe_buf: usize) -> Vec<usize> {
    let room = pipe_buf - FRAME_HEADER;
    vec![0, 1, room, room + 1, 3 * room + 5, 10_000]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words.as_slice() {
        ["writer", id, records, body, how] => writer(id, records, body, how),
        ["sizes"] => sizes_writer(),
        ["small"] => many_writers(6, 30, 2000, "naive"),
        ["torn"] => many_writers(8, 10, 100_000, "naive"),
        ["framed"] => many_writers(8, 10, 100_000, "framed"),
        ["empty"] => many_writers(0, 0, 0, "naive"),
        ["frames"] => frames(),
        _ => {
            eprintln!(
                "usage: ex06-pipe-buf-atomicity SCENARIO (small, torn, \
                 framed, frames, empty)"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("ex06-pipe-buf-atomicity: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What writer `writer` puts in its record `seq`: `len` bytes in which
/// each is one more than the last (so MAGIC, `PBF1`, never appears).
fn body_of(writer: u16, seq: u32, len: usize) -> Vec<u8> {
    let start = (u32::from(writer) * 31 + seq * 7) as usize;
    (0..len).map(|i| ((start + i) % 251) as u8).collect()
}

/// PIPE_BUF for the pipe behind `fd`, as the system defines it.
fn pipe_buf_of(fd: BorrowedFd<'_>) -> Result<usize> {
    let value = fpathconf(fd, PathconfVar::PIPE_BUF)?
        .ok_or("fpathconf(_PC_PIPE_BUF): no limit")?;
    Ok(usize::try_from(value)?)
}

/// This program again, as a writer whose standard output is `out`.
fn start_writer(args: &[String], out: &OwnedFd, go: &OwnedFd) -> Result<Child> {
    Ok(Command::new(std::env::current_exe()?)
        .args(args)
        .stdin(Stdio::from(go.try_clone()?))
        .stdout(Stdio::from(out.try_clone()?))
        .spawn()?)
}

/// Reaps a writer within 20 s; an error if it failed or hung.
fn reap(child: &Child) -> Result<()> {
    let pid = Pid::from_raw(i32::try_from(child.id())?);
    match wait_for_child(pid, Duration::from_secs(20))? {
        Some(nix::sys::wait::WaitStatus::Exited(_, 0)) => Ok(()),
        Some(ended) => Err(format!("a writer ended: {ended:?}").into()),
        None => Err("a writer was still running after 20 s".into()),
    }
}

/// `writers` writers, each `records` records of `body` bytes, into one
/// pipe read by your `read_records`.
fn many_writers(
    writers: u16,
    records: u32,
    body: usize,
    how: &str,
) -> Result<ExitCode> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC)?;
    let mut children = Vec::new();
    for id in 1..=writers {
        let args = [
            "writer".to_string(),
            id.to_string(),
            records.to_string(),
            body.to_string(),
            how.to_string(),
        ];
        children.push(start_writer(&args, &write_end, &go_read)?);
    }
    // The writers hold the write ends now: end of file comes when the last
    // of them is done. Closing the start pipe lets them all begin at once.
    drop((write_end, go_read, go_write));
    let tally = read_records(&mut File::from(read_end));
    for child in &children {
        reap(child)?;
    }
    let tally = match tally {
        Ok(tally) => tally,
        Err(error) => {
            eprintln!("read_records returned an error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("sent: {}", u32::from(writers) * records);
    println!("whole: {}", tally.whole.len());
    println!("torn: {}", tally.torn.len());
    println!("skipped: {}", tally.skipped);
    let wrong = tally.whole.iter().find(|record| {
        record.body != body_of(record.writer, record.seq, body)
            || record.writer == 0
            || record.writer > writers
            || record.seq >= records
    });
    match wrong {
        None => println!("bodies: ok"),
        Some(record) => println!(
            "bodies: wrong: writer {} record {} ({} bytes)",
            record.writer,
            record.seq,
            record.body.len()
        ),
    }
    let mut ids: Vec<(u16, u32)> =
        tally.whole.iter().map(|r| (r.writer, r.seq)).collect();
    ids.extend(&tally.torn);
    let listed = ids.len();
    ids.sort_unstable();
    ids.dedup();
    println!("listed twice: {}", listed - ids.len());
    let in_order = (1..=writers).all(|id| {
        let seqs: Vec<u32> = tally
            .whole
            .iter()
            .filter(|r| r.writer == id)
            .map(|r| r.seq)
            .collect();
        seqs.windows(2).all(|pair| pair[0] < pair[1])
    });
    println!("in order: {}", if in_order { "yes" } else { "no" });
    Ok(ExitCode::SUCCESS)
}

/// Waits for the start: end of file on standard input.
fn wait_for_start() -> Result<()> {
    let stdin = std::io::stdin();
    if !wait_readable(stdin.as_fd(), Duration::from_secs(20))? {
        return Err("no start signal within 20 s".into());
    }
    let mut byte = [0u8; 1];
    read(stdin.as_fd(), &mut byte)?;
    Ok(())
}

/// A writer: `records` records of `body` bytes each to standard output,
/// as one frame per record (`naive`) or through your `write_record`.
fn writer(id: &str, records: &str, body: &str, how: &str) -> Result<ExitCode> {
    let (id, records, body): (u16, u32, usize) =
        (id.parse()?, records.parse()?, body.parse()?);
    wait_for_start()?;
    let stdout = std::io::stdout();
    let out = stdout.as_fd();
    let pipe_buf = pipe_buf_of(out)?;
    for seq in 0..records {
        let record = Record { writer: id, seq, body: body_of(id, seq, body) };
        if how == "framed" {
            write_record(out, &record, pipe_buf)
                .map_err(|e| format!("write_record: {e}"))?;
        } else {
            // One frame, one write(), however large.
            let bytes = frame(&record, 0, 1, &record.body);
            let mut done = 0;
            while done < bytes.len() {
                done += write(out, &bytes[done..])?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The `frames` scenario's writer: one record of each of frame_sizes().
fn sizes_writer() -> Result<ExitCode> {
    wait_for_start()?;
    let stdout = std::io::stdout();
    let out = stdout.as_fd();
    let pipe_buf = pipe_buf_of(out)?;
    for (seq, len) in (0..).zip(frame_sizes(pipe_buf)) {
        let record = Record { writer: 1, seq, body: body_of(1, seq, len) };
        write_record(out, &record, pipe_buf)
            .map_err(|e| format!("write_record: {e}"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One writer, records of several sizes; the frames are walked here, one
/// after the other, without your `read_records`.
fn frames() -> Result<ExitCode> {
    let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
    let (go_read, go_write) = pipe2(OFlag::O_CLOEXEC)?;
    let pipe_buf = pipe_buf_of(read_end.as_fd())?;
    let child = start_writer(&["sizes".to_string()], &write_end, &go_read)?;
    drop((write_end, go_read, go_write));
    let mut bytes = Vec::new();
    File::from(read_end).read_to_end(&mut bytes)?;
    reap(&child)?;

    let room = pipe_buf - FRAME_HEADER;
    let sizes = frame_sizes(pipe_buf);
    let expected: usize =
        sizes.iter().map(|&len| len.div_ceil(room).max(1)).sum();
    println!("pipe-buf: {pipe_buf}");
    println!("expected frames: {expected}");
    let (mut count, mut largest, mut at) = (0, 0, 0);
    let mut problem = None;
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new(); sizes.len()];
    let mut next_index = vec![0u16; sizes.len()];
    while at < bytes.len() && problem.is_none() {
        let Some(header) = FrameHeader::parse(&bytes[at..]) else {
            problem = Some(format!("no frame header at byte {at}"));
            break;
        };
        let end = at + FRAME_HEADER + header.len as usize;
        let seq = header.seq as usize;
        if end > bytes.len() || !header.holds(&bytes[at + FRAME_HEADER..end]) {
            problem =
                Some(format!("frame at byte {at}: bad checksum or length"));
        } else if seq >= sizes.len() || header.index != next_index[seq] {
            problem = Some(format!(
                "frame at byte {at}: record {seq}, index {} out of order",
                header.index
            ));
        } else {
            let expected = sizes[seq].div_ceil(room).max(1);
            if usize::from(header.count) != expected {
                problem = Some(format!(
                    "record {seq} ({} bytes) says it has {} frames, \
                     not {expected}",
                    sizes[seq], header.count
                ));
            }
            bodies[seq].extend_from_slice(&bytes[at + FRAME_HEADER..end]);
            next_index[seq] += 1;
        }
        count += 1;
        largest = largest.max(end - at);
        at = end;
    }
    let reassembled = (0..)
        .zip(&sizes)
        .all(|(seq, &len)| bodies[seq as usize] == body_of(1, seq, len));
    if problem.is_none() && !reassembled {
        problem =
            Some("the frames' bodies do not add up to the records".into());
    }
    println!("frames: {count}");
    println!("largest frame: {largest}");
    println!("walk: {}", problem.as_deref().unwrap_or("ok"));
    Ok(ExitCode::SUCCESS)
}
