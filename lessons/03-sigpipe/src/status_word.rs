//! Lesson 03: the status word `waitpid` stores, read the way C's macros
//! read it, then as nix, std and a shell see it.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use labkit::Speaker::{Note, Parent};
use labkit::say;
use labkit::status::{shell_status, signal_name};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

// ANCHOR: status-word
/// Reads the status word the way glibc's macros do on Linux (POSIX defines
/// only the macros, not these bits), then shows what nix, std and a shell
/// make of it.
pub fn explain_status_word(child: Pid, raw: i32) {
    say!(Parent, "waitpid() stored the status word {raw:#06x}");
    if let Ok(decoded) = WaitStatus::from_raw(child, raw) {
        say!(Parent, "nix decodes it as {}", without_pid(&decoded));
    }
    let signal = raw & 0x7f;
    let high_byte = (raw >> 8) & 0xff;
    if signal != 0 {
        let name = signal_name(signal);
        say!(
            Note,
            "status & 0x7f = {signal}: a signal ended the child: {name}"
        );
        say!(Note, "(status >> 8) & 0xff = {high_byte}: no exit code,");
        say!(Note, "the child never called exit()");
    } else {
        say!(Note, "status & 0x7f = 0: no signal ended the child: it exited");
        say!(Note, "(status >> 8) & 0xff = {high_byte}: its exit code");
    }
    let status = ExitStatus::from_raw(raw);
    say!(
        Note,
        "std::process::ExitStatus: code() = {:?}, signal() = {:?}",
        status.code(),
        status.signal()
    );
    if let Some(shell) = shell_status(status) {
        let sum = if signal != 0 {
            format!(" (128 + {signal})")
        } else {
            String::new()
        };
        say!(Note, "a shell would put {shell}{sum} in $?");
    }
}
// ANCHOR_END: status-word

/// A `WaitStatus` as nix prints it, with the pid (which changes every run)
/// replaced by the word `child`.
fn without_pid(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("Exited(child, {code})"),
        WaitStatus::Signaled(_, signal, core_dumped) => {
            format!("Signaled(child, {signal:?}, {core_dumped})")
        }
        other => format!("{other:?}"),
    }
}
