//! What every exercise's tests share.
//!
//! Student code forks, and a fork is only safe in a single-threaded process,
//! so an exercise's tests never call it directly. Each exercise has a small
//! runner program (its `src/main.rs`) that calls the student's code for one
//! scenario and prints what came back as `key: value` lines. A test runs
//! that program with [`run_scenario`], under a time limit, and checks the
//! [`Report`]. A hang, a crash or a forgotten child becomes a failed test
//! with a message for the student, never a stuck harness.

use std::ops::Index;
use std::process::Command;
use std::time::Duration;

use crate::status::explain_exit_status;
use crate::watchdog::{RunError, run};

/// The `key: value` lines a runner printed, in order. A key may repeat.
#[derive(Debug, Default)]
pub struct Report {
    pairs: Vec<(String, String)>,
}

impl Report {
    /// Reads `key: value` lines; other lines are ignored.
    pub fn parse(stdout: &str) -> Report {
        let pairs = stdout
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Report { pairs }
    }

    /// The first value reported under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.all(key).first().copied()
    }

    /// Every value reported under `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    /// The value of `key` as a number; a failure shows what came instead.
    #[track_caller]
    pub fn number(&self, key: &str) -> usize {
        let value = &self[key];
        value.parse().unwrap_or_else(|_| {
            panic!("{key:?} should be a number, the runner said {value:?}")
        })
    }
}

impl Index<&str> for Report {
    type Output = String;

    /// The first value reported under `key`.
    #[track_caller]
    fn index(&self, key: &str) -> &String {
        match self.pairs.iter().find(|(name, _)| name == key) {
            Some((_, value)) => value,
            None => panic!(
                "the runner reported no {key:?}; it said: {:?}",
                self.pairs
            ),
        }
    }
}

/// The file descriptors this process has open right now, sorted: a runner
/// compares the list before and after the student's code to find a leak.
pub fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    fds.sort();
    fds
}

/// Runs one scenario of an exercise's runner and returns its report.
///
/// Panics, with a message meant for the student, when the runner is still
/// running after `limit` (`if_it_hangs` names the likely cause), when it
/// fails (its status and its stderr, which holds the student's panic), or
/// when it leaves a process running behind it (a child never reaped).
#[track_caller]
pub fn run_scenario(
    command: &mut Command,
    limit: Duration,
    if_it_hangs: &str,
) -> Report {
    let scenario: Vec<String> = command
        .get_args()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    // The student's panic message is what matters, not a backtrace.
    command.env("RUST_BACKTRACE", "0");
    let done = match run(command, limit) {
        Ok(done) => done,
        Err(RunError::TimedOut { .. }) => panic!(
            "scenario {scenario:?} did not finish within {} s. {if_it_hangs}",
            limit.as_secs()
        ),
        Err(error) => panic!("scenario {scenario:?}: {error}"),
    };
    assert!(
        done.status.success(),
        "scenario {scenario:?}: the runner {}.\n{}",
        explain_exit_status(done.status),
        done.stderr.trim_end()
    );
    assert!(
        !done.left_running,
        "scenario {scenario:?}: a process was still running after the runner \
         ended. Reap every child with waitpid before returning."
    );
    Report::parse(&done.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_keeps_repeated_keys_in_order() {
        let report =
            Report::parse("pid: 7\nmessage: a\nnoise\nmessage: b\ncount: 2\n");
        assert_eq!(report.all("message"), ["a", "b"]);
        assert_eq!(report["pid"], "7");
        assert_eq!(report.number("count"), 2);
        assert!(report.all("missing").is_empty());
        assert_eq!(report.get("message"), Some("a"));
        assert_eq!(report.get("missing"), None);
    }

    #[test]
    #[should_panic(expected = "the runner reported no \"missing\"")]
    fn a_missing_key_fails_with_what_was_said() {
        let _ = &Report::parse("pid: 7\n")["missing"];
    }

    #[test]
    fn an_open_descriptor_shows_in_open_fds() {
        // Other tests open and close descriptors on other threads, so only
        // what this test holds open is certain.
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file).to_string();
        assert!(open_fds().contains(&fd));
        assert!(open_fds().contains(&"0".to_string()), "stdin is always there");
    }

    #[test]
    fn a_scenario_report_comes_from_stdout() {
        let report = run_scenario(
            Command::new("sh").args(["-c", "echo 'answer: 42'"]),
            Duration::from_secs(10),
            "unused",
        );
        assert_eq!(report.number("answer"), 42);
    }

    #[test]
    #[should_panic(
        expected = "did not finish within 1 s. The parent never read"
    )]
    fn a_hung_scenario_names_the_likely_cause() {
        run_scenario(
            Command::new("sleep").arg("30"),
            Duration::from_secs(1),
            "The parent never read.",
        );
    }

    #[test]
    #[should_panic(expected = "the runner exited with code 3.\nboom")]
    fn a_failed_scenario_shows_the_runners_stderr() {
        run_scenario(
            Command::new("sh").args(["-c", "echo boom >&2; exit 3"]),
            Duration::from_secs(10),
            "unused",
        );
    }
}
