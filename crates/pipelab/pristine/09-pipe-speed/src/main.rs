//! The test runner for exercise 09: you do not need to edit this file.
//!
//! `cargo lab check 9` runs this program once per scenario, as a process of
//! its own, because `one_run` forks, and a fork is only safe in a process
//! with a single thread (the test harness has many). It measures with a
//! reference meter, then with your `measure`, then with the reference again
//! (so that a drift of the machine falls on both alike), and prints what
//! came back, one `key: value` line each, for tests/exercise.rs to check.
//!
//! Usage: ex09-pipe-speed measure pipe|socketpair SIZE MS

use std::process::ExitCode;
use std::time::Duration;

use ex09_pipe_speed::{Mechanism, REPETITIONS, Run, measure, one_run};
use labkit::exercise::open_fds;

/// The reference meter: the method as the lesson's benchmark applies it.
fn reference(mechanism: Mechanism, size: usize, duration: Duration) -> f64 {
    let _warmup = one_run(mechanism, size, duration / 2);
    let mut rates: Vec<f64> = (0..REPETITIONS)
        .filter_map(|_| one_run(mechanism, size, duration).ok())
        .map(|run| run.rate())
        .collect();
    rates.sort_by(f64::total_cmp);
    rates.get(rates.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [scenario, mechanism, size, ms] if scenario == "measure" => {
            let mechanism = match mechanism.as_str() {
                "pipe" => Some(Mechanism::Pipe),
                "socketpair" => Some(Mechanism::Socketpair),
                _ => None,
            };
            match (mechanism, size.parse::<usize>(), ms.parse::<u64>()) {
                (Some(m), Ok(size), Ok(ms)) if size > 0 && ms > 0 => {
                    Some((m, size, Duration::from_millis(ms)))
                }
                _ => None,
            }
        }
        _ => None,
    };
    let Some((mechanism, size, duration)) = parsed else {
        eprintln!("usage: ex09-pipe-speed measure pipe|socketpair SIZE MS");
        return ExitCode::from(2);
    };

    let fds_before = open_fds();
    let before = reference(mechanism, size, duration);
    let measured = match measure(mechanism, size, duration) {
        Ok(measured) => measured,
        Err(errno) => {
            eprintln!("measure returned an error: {errno}");
            return ExitCode::FAILURE;
        }
    };
    let after = reference(mechanism, size, duration);
    let leaked: Vec<String> =
        open_fds().into_iter().filter(|fd| !fds_before.contains(fd)).collect();

    let show = |run: &Run| format!("{} {}", run.bytes, run.seconds);
    println!("pid: {}", std::process::id());
    println!("warmup: {}", show(&measured.warmup));
    for run in &measured.runs {
        println!("run: {}", show(run));
    }
    println!("median: {}", measured.median);
    println!("min: {}", measured.min);
    println!("max: {}", measured.max);
    println!("reference: {before}");
    println!("reference: {after}");
    println!("leaked-fds: {}", leaked.join(" "));
    ExitCode::SUCCESS
}
