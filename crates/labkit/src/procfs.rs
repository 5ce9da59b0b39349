//! One process's line of `/proc/PID/stat`, read once for everyone who asks
//! "is it still running, who is its parent, which group is it in".
//!
//! The line is `pid (comm) state ppid pgrp ...`. The command name may hold
//! spaces and parentheses, so the fields after it are read from the last
//! `)`, never by splitting the whole line.

/// The fields of `/proc/PID/stat` the course uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    /// The command name, at most 15 bytes (`comm`): `sleep`, `sh`.
    pub name: String,
    /// `R` running, `S` sleeping, `D` waiting on I/O, `Z` zombie, ...
    pub state: char,
    pub parent: i32,
    pub group: i32,
}

impl Stat {
    /// Parses one stat line; `None` if it is not one.
    pub fn parse(line: &str) -> Option<Stat> {
        let (pid, rest) = line.split_once(" (")?;
        let (name, rest) = rest.rsplit_once(") ")?;
        let mut fields = rest.split_whitespace();
        Some(Stat {
            pid: pid.trim().parse().ok()?,
            name: name.to_string(),
            state: fields.next()?.chars().next()?,
            parent: fields.next()?.parse().ok()?,
            group: fields.next()?.parse().ok()?,
        })
    }

    /// A zombie has exited and waits for its parent to reap it.
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// The process `pid` now, or `None` if it is gone (or /proc is not Linux's).
pub fn stat(pid: i32) -> Option<Stat> {
    Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process this user can see, as /proc lists them.
pub fn all() -> Vec<Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter_map(stat)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_spaces_and_parentheses_is_read_whole() {
        let line = "42 (a) b (c) S 7 42 42 0 -1 4194560";
        let stat = Stat::parse(line).unwrap();
        assert_eq!(stat.name, "a) b (c");
        assert_eq!(
            (stat.pid, stat.state, stat.parent, stat.group),
            (42, 'S', 7, 42)
        );
    }

    #[test]
    fn this_process_is_found_with_its_parent() {
        let me = stat(std::process::id() as i32).expect("our own stat");
        assert_eq!(me.parent, std::os::unix::process::parent_id() as i32);
        assert!(!me.is_zombie());
        assert!(all().iter().any(|other| other.pid == me.pid));
    }

    #[test]
    fn a_line_that_is_not_a_stat_line_is_none() {
        assert_eq!(Stat::parse("not a stat line"), None);
        assert_eq!(Stat::parse("7 (sh) S 1"), None);
    }
}
