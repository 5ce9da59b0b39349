//! How much CPU a process has used: the measure that tells a busy loop
//! (the CPU time grows with the wall time) from a real wait (it does not).

use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;

/// The CPU time this process has used so far: user plus system time.
pub fn cpu_time() -> nix::Result<Duration> {
    let usage = getrusage(UsageWho::RUSAGE_SELF)?;
    Ok(duration(usage.user_time()) + duration(usage.system_time()))
}

fn duration(time: TimeVal) -> Duration {
    let seconds = u64::try_from(time.tv_sec()).unwrap_or(0);
    let micros = u64::try_from(time.tv_usec()).unwrap_or(0);
    Duration::from_secs(seconds) + Duration::from_micros(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_while_the_cpu_works() {
        let before = cpu_time().unwrap();
        let mut x = 0u64;
        while cpu_time().unwrap() < before + Duration::from_millis(20) {
            x = x.wrapping_add(1);
        }
        assert!(x > 0);
    }
}
