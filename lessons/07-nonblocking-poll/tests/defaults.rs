//! The default the chapter gives for poll-server's `--wait`: 600 s without
//! a word from any FIFO, as the program itself reports it.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

const SERVER: &str = env!("CARGO_BIN_EXE_poll-server");

#[test]
fn poll_server_waits_600_seconds_by_default() {
    let done =
        run_clean(Command::new(SERVER).arg("--help"), Duration::from_secs(20))
            .unwrap_or_else(|error| panic!("poll-server --help: {error}"));
    assert!(done.status.success(), "{}", done.stderr);
    let wait = done
        .stdout
        .split("--wait <SECS>")
        .nth(1)
        .unwrap_or_else(|| panic!("no --wait in:\n{}", done.stdout));
    let default =
        wait.split("[default: ").nth(1).and_then(|rest| rest.split(']').next());
    assert_eq!(default, Some("600"), "--wait's default:\n{wait}");
}
