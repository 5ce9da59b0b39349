//! The chapter's longer run of the fix: `--requests 1000`, a thousand
//! requests in lock-step, each answered by the peer running at the same
//! time, and every reply the right one.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

const RDWR: &str = env!("CARGO_BIN_EXE_fifo-rdwr");

#[test]
fn a_thousand_lock_step_requests_get_a_thousand_correct_replies() {
    let done = run_clean(
        Command::new(RDWR).args(["--requests", "1000"]).env("NO_COLOR", "1"),
        Duration::from_secs(60),
    )
    .unwrap_or_else(|error| panic!("fifo-rdwr --requests 1000: {error}"));
    assert!(done.status.success(), "{}{}", done.stdout, done.stderr);
    assert!(!done.left_running, "the peer was left running");
    assert!(
        done.stdout.contains("1000 requests, 1000 correct replies"),
        "{}",
        done.stdout
    );
}
