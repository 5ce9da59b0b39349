//! The first line a client sends: who it says it is, and what it passes.
//!
//! `hello pid=123 uid=1000 gid=1000 fd=3 dev=2049 ino=77 path=/tmp/x`
//!
//! The server compares pid, uid and gid with what the kernel says
//! (`SO_PEERCRED`); fd, dev and ino describe the descriptor the client
//! sends with the line, and path names the file it opened (the server
//! tries to open that path itself, and fails).

use std::fmt;

/// What a client says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hello {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
    /// The number of the descriptor the client sends, in the client.
    pub fd: Option<i32>,
    /// The device and inode of the open file behind that descriptor.
    pub dev: Option<u64>,
    pub ino: Option<u64>,
    /// The path the client opened (last: it may hold spaces).
    pub path: Option<String>,
}

impl fmt::Display for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hello pid={} uid={} gid={}", self.pid, self.uid, self.gid)?;
        if let Some(fd) = self.fd {
            write!(f, " fd={fd}")?;
        }
        if let Some(dev) = self.dev {
            write!(f, " dev={dev}")?;
        }
        if let Some(ino) = self.ino {
            write!(f, " ino={ino}")?;
        }
        if let Some(path) = &self.path {
            write!(f, " path={path}")?;
        }
        Ok(())
    }
}

impl Hello {
    /// Reads a hello line (without its newline).
    pub fn parse(line: &str) -> Result<Hello, String> {
        let rest = line
            .strip_prefix("hello ")
            .ok_or_else(|| format!("expected \"hello ...\", got {line:?}"))?;
        let (rest, path) = match rest.split_once(" path=") {
            Some((rest, path)) => (rest, Some(path.to_string())),
            None => (rest, None),
        };
        let mut hello = Hello { path, ..Hello::default() };
        let mut seen = (false, false, false);
        for field in rest.split(' ') {
            let (key, value) = field
                .split_once('=')
                .ok_or_else(|| format!("not key=value: {field:?}"))?;
            let bad = |_| format!("{key}={value:?} is not a number");
            match key {
                "pid" => {
                    (hello.pid, seen.0) = (value.parse().map_err(bad)?, true)
                }
                "uid" => {
                    (hello.uid, seen.1) = (value.parse().map_err(bad)?, true)
                }
                "gid" => {
                    (hello.gid, seen.2) = (value.parse().map_err(bad)?, true)
                }
                "fd" => hello.fd = Some(value.parse().map_err(bad)?),
                "dev" => hello.dev = Some(value.parse().map_err(bad)?),
                "ino" => hello.ino = Some(value.parse().map_err(bad)?),
                _ => return Err(format!("unknown field {key:?}")),
            }
        }
        if seen != (true, true, true) {
            return Err(format!("pid, uid and gid are all needed: {line:?}"));
        }
        Ok(hello)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_reads_back_as_it_was_written() {
        let hello = Hello {
            pid: 12,
            uid: 1000,
            gid: 100,
            fd: Some(3),
            dev: Some(2049),
            ino: Some(77),
            path: Some("/tmp/a b".into()),
        };
        let line = hello.to_string();
        assert_eq!(
            line,
            "hello pid=12 uid=1000 gid=100 fd=3 dev=2049 ino=77 path=/tmp/a b"
        );
        assert_eq!(Hello::parse(&line), Ok(hello));
    }

    #[test]
    fn a_hello_without_its_ids_is_refused() {
        assert!(Hello::parse("hello pid=1 uid=2").is_err());
        assert!(Hello::parse("hi pid=1 uid=2 gid=3").is_err());
        assert!(Hello::parse("hello pid=x uid=2 gid=3").is_err());
    }
}
