//! A process's descriptor table, read from /proc the way `ls -l
//! /proc/PID/fd` shows it, and the search `lsof` makes: which processes
//! hold the write end of a given pipe.
//!
//! Linux only: /proc/PID/fd/N is a symbolic link to what descriptor N
//! refers to (`pipe:[INODE]` for a pipe), and /proc/PID/fdinfo/N holds its
//! `flags` in octal: the access mode, and `O_CLOEXEC` when it is set.

use std::fmt::Write as _;
use std::fs;

/// One descriptor of a process.
#[derive(Debug, Clone)]
pub struct Entry {
    pub fd: i32,
    /// What the link /proc/PID/fd/N points to: `pipe:[123]`, `/dev/null`.
    pub target: String,
    /// The access mode: O_RDONLY (0), O_WRONLY (1) or O_RDWR (2).
    pub access: u32,
    /// Closed by the kernel when the process calls exec.
    pub cloexec: bool,
}

const O_CLOEXEC_IN_FDINFO: u32 = 0o2000000;

/// The open descriptors of `pid` ("self" for this process), sorted.
pub fn entries(pid: &str) -> std::io::Result<Vec<Entry>> {
    let dir = format!("/proc/{pid}/fd");
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let Ok(fd) = name.parse::<i32>() else {
            continue;
        };
        // The descriptor read_dir itself holds open on /proc/PID/fd shows
        // up in the listing, as it does in `ls`'s own: it is not the
        // process's, and it is closed by the time anyone execs.
        let Ok(target) = fs::read_link(format!("{dir}/{fd}")) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        if target.ends_with("/fd") && target.starts_with("/proc/") {
            continue;
        }
        let flags = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}"))
            .ok()
            .and_then(|info| {
                info.lines()
                    .find_map(|line| line.strip_prefix("flags:"))
                    .and_then(|octal| u32::from_str_radix(octal.trim(), 8).ok())
            })
            .unwrap_or(0);
        found.push(Entry {
            fd,
            target,
            access: flags & 0o3,
            cloexec: flags & O_CLOEXEC_IN_FDINFO != 0,
        });
    }
    found.sort_by_key(|entry| entry.fd);
    Ok(found)
}

/// The inode number in a `pipe:[123]` link.
pub fn pipe_inode(target: &str) -> Option<u64> {
    target.strip_prefix("pipe:[")?.strip_suffix(']')?.parse().ok()
}

/// The pipes this pipeline made, by inode, so that narration can say
/// "pipe #1" instead of a number that changes with every run.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// pipes[k] is the inode of pipe #(k + 1).
    pub pipes: Vec<u64>,
    /// Inodes of the small pipes that report exec failures to the shell.
    pub reports: Vec<u64>,
}

impl Names {
    /// "pipe #2, read end" for one of ours; the target itself otherwise.
    pub fn describe(&self, entry: &Entry) -> String {
        let end = match entry.access {
            0 => "read end",
            1 => "write end",
            _ => "read and write",
        };
        match pipe_inode(&entry.target) {
            Some(inode) => {
                if let Some(k) = self.pipes.iter().position(|&i| i == inode) {
                    format!("pipe #{}, {end}", k + 1)
                } else if self.reports.contains(&inode) {
                    format!("exec report, {end}")
                } else {
                    format!("pipe:[...], {end}, not one of ours (inherited)")
                }
            }
            None => entry.target.clone(),
        }
    }

    /// The table as `ls -l /proc/PID/fd` lays it out: mode, number, target.
    pub fn table(&self, entries: &[Entry]) -> String {
        let mut text = String::new();
        for entry in entries {
            let mode = match entry.access {
                0 => "lr-x------",
                1 => "l-wx------",
                _ => "lrwx------",
            };
            let cloexec =
                if entry.cloexec { "  (O_CLOEXEC: gone at exec)" } else { "" };
            let _ = writeln!(
                text,
                "  {mode} {:>2} -> {}{cloexec}",
                entry.fd,
                self.describe(entry)
            );
        }
        text
    }
}

/// A process that holds a pipe's write end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: i32,
    /// Its name, from /proc/PID/comm.
    pub name: String,
    pub fd: i32,
}

/// Every process (that we may look at) holding a write end of the pipe
/// with inode `inode`: what `lsof` would list, read straight from /proc.
pub fn write_end_holders(inode: u64) -> Vec<Holder> {
    let mut holders = Vec::new();
    let Ok(processes) = fs::read_dir("/proc") else {
        return holders;
    };
    let mut pids: Vec<i32> = processes
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for pid in pids {
        // Another user's process, or one that just ended: not readable.
        let Ok(table) = entries(&pid.to_string()) else {
            continue;
        };
        for entry in table {
            if pipe_inode(&entry.target) == Some(inode) && entry.access != 0 {
                let name = fs::read_to_string(format!("/proc/{pid}/comm"))
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                holders.push(Holder { pid, name, fd: entry.fd });
            }
        }
    }
    holders
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_pipe_of_ours_is_named_by_number_and_end() {
        let (reader, writer) = std::io::pipe().unwrap();
        let table = entries("self").unwrap();
        let find = |fd: i32| {
            table.iter().find(|entry| entry.fd == fd).cloned().unwrap()
        };
        let read_entry = find(reader.as_raw_fd());
        let write_entry = find(writer.as_raw_fd());
        let inode = pipe_inode(&read_entry.target).unwrap();
        assert_eq!(pipe_inode(&write_entry.target), Some(inode));
        // std::io::pipe makes both ends close-on-exec.
        assert!(read_entry.cloexec && write_entry.cloexec);
        let names = Names { pipes: vec![1, inode], reports: vec![] };
        assert_eq!(names.describe(&read_entry), "pipe #2, read end");
        assert_eq!(names.describe(&write_entry), "pipe #2, write end");
        assert!(names.table(&[write_entry]).contains("l-wx------"));
    }

    #[test]
    fn the_holder_of_a_write_end_is_found_in_proc() {
        let (reader, writer) = std::io::pipe().unwrap();
        let table = entries("self").unwrap();
        let inode = table
            .iter()
            .find(|entry| entry.fd == reader.as_raw_fd())
            .and_then(|entry| pipe_inode(&entry.target))
            .unwrap();
        let holders = write_end_holders(inode);
        assert_eq!(
            holders,
            [Holder {
                pid: std::process::id() as i32,
                name: holders[0].name.clone(),
                fd: writer.as_raw_fd(),
            }]
        );
    }
}
