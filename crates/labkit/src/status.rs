//! A wait status, explained in words.
//!
//! `waitpid` reports how a child ended in one integer, the status word. Its
//! low 7 bits hold the number of the signal that killed the child (0 if none
//! did); otherwise bits 8-15 hold the exit code. A shell folds both into one
//! number, `$?`: the exit code, or 128 + the signal number. So a process
//! killed by SIGPIPE (13) shows as 141.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;
use nix::sys::wait::WaitStatus;

/// The name of signal `number`, such as "SIGPIPE", or "signal 99".
pub fn signal_name(number: i32) -> String {
    match Signal::try_from(number) {
        Ok(signal) => signal.as_str().to_string(),
        Err(_) => format!("signal {number}"),
    }
}

/// "exited with code 3" or "killed by signal 13 (SIGPIPE); a shell would show
/// 141".
pub fn explain(status: &WaitStatus) -> String {
    match *status {
        WaitStatus::Exited(_, code) => exited(code),
        WaitStatus::Signaled(_, signal, core_dumped) => {
            killed(signal as i32, core_dumped)
        }
        WaitStatus::Stopped(_, signal) => {
            format!("stopped by signal {} ({})", signal as i32, signal.as_str())
        }
        WaitStatus::Continued(_) => "continued by SIGCONT".to_string(),
        WaitStatus::StillAlive => "still running".to_string(),
        // Linux-only ptrace stops: the course never traces its children.
        #[cfg(any(target_os = "linux", target_os = "android"))]
        WaitStatus::PtraceEvent(..) | WaitStatus::PtraceSyscall(..) => {
            "stopped under ptrace".to_string()
        }
    }
}

/// Explains a raw status word as `waitpid(2)` stores it.
pub fn explain_raw(raw: i32) -> String {
    explain_exit_status(ExitStatus::from_raw(raw))
}

/// Explains the status of a `std::process::Child`.
pub fn explain_exit_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => exited(code),
        (None, Some(signal)) => killed(signal, status.core_dumped()),
        (None, None) => {
            format!("ended with status word {:#x}", status.into_raw())
        }
    }
}

/// What `$?` would hold in a shell for this status.
pub fn shell_status(status: ExitStatus) -> Option<i32> {
    status.code().or_else(|| status.signal().map(|signal| 128 + signal))
}

fn exited(code: i32) -> String {
    format!("exited with code {code}")
}

fn killed(signal: i32, core_dumped: bool) -> String {
    let core = if core_dumped { ", core dumped" } else { "" };
    format!(
        "killed by signal {signal} ({}{core}); a shell would show {}",
        signal_name(signal),
        128 + signal
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::Pid;

    #[test]
    fn an_exit_code_is_reported_as_such() {
        let status = WaitStatus::Exited(Pid::from_raw(42), 3);
        assert_eq!(explain(&status), "exited with code 3");
    }

    #[test]
    fn a_signal_death_names_the_signal_and_the_shell_status() {
        let status =
            WaitStatus::Signaled(Pid::from_raw(42), Signal::SIGPIPE, false);
        assert_eq!(
            explain(&status),
            "killed by signal 13 (SIGPIPE); a shell would show 141"
        );
    }

    #[test]
    fn raw_status_words_decode_like_the_c_macros() {
        // WIFEXITED: exit code in bits 8-15, low 7 bits zero.
        assert_eq!(explain_raw(3 << 8), "exited with code 3");
        // WIFSIGNALED: signal number in the low 7 bits; 0x80 is the core flag.
        assert_eq!(
            explain_raw(13),
            "killed by signal 13 (SIGPIPE); a shell would show 141"
        );
        assert_eq!(
            explain_raw(0x80 | 11),
            "killed by signal 11 (SIGSEGV, core dumped); a shell would show 139"
        );
    }

    #[test]
    fn the_shell_adds_128_to_a_signal_number() {
        assert_eq!(shell_status(ExitStatus::from_raw(13)), Some(141));
        assert_eq!(shell_status(ExitStatus::from_raw(7 << 8)), Some(7));
    }

    #[test]
    fn unknown_signals_still_get_a_name() {
        assert_eq!(signal_name(13), "SIGPIPE");
        assert_eq!(signal_name(99), "signal 99");
    }
}
