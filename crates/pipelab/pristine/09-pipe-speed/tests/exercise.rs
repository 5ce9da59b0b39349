//! The tests of exercise 09 (the one copy: the reference solution runs this
//! same file). They check the method, never a speed: a figure is compared
//! only with a reference measured in the same run, within a generous ratio,
//! because this machine may be busy with anything else while they run.

use std::process::Command;
use std::time::Duration;

use ex09_pipe_speed::{REPETITIONS, median};
use labkit::exercise::{Report, run_scenario};

/// The exercise's runner program (src/main.rs), built by cargo for it.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// How long each counted run lasts in these tests.
const RUN_MS: u64 = 100;

/// Runs one measurement scenario and returns its report.
fn scenario(mechanism: &str, size: usize) -> Report {
    let report = run_scenario(
        Command::new(RUNNER).args([
            "measure",
            mechanism,
            &size.to_string(),
            &RUN_MS.to_string(),
        ]),
        Duration::from_secs(60),
        "A measurement of a few runs of 0.1 s each never takes this long: \
         does measure() call one_run() in a loop that never ends?",
    );
    let reports = report.all("pid").len();
    assert_eq!(reports, 1, "measure returned in {reports} processes");
    report
}

/// "BYTES SECONDS" as (bytes, seconds).
fn run_of(text: &str) -> (f64, f64) {
    let mut words = text.split(' ').map(|w| w.parse::<f64>().unwrap());
    (words.next().unwrap(), words.next().unwrap())
}

fn number(report: &Report, key: &str) -> f64 {
    report[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}: not a number: {:?}", report[key]))
}

#[test]
fn the_median_is_the_middle_value_not_the_mean() {
    assert_eq!(
        median(&[10.0, 1000.0, 12.0, 11.0, 9.0]),
        11.0,
        "sort the rates and take the middle one: the mean (208.4) lets one \
         disturbed run decide the figure"
    );
    assert_eq!(median(&[7.0]), 7.0);
    assert_eq!(
        median(&[4.0, 1.0, 3.0, 2.0]),
        2.5,
        "with an even count, the median is the mean of the middle two"
    );
}

#[test]
fn the_warmup_is_kept_apart_from_the_counted_runs() {
    let report = scenario("pipe", 65536);
    let run = Duration::from_millis(RUN_MS).as_secs_f64();
    let (bytes, seconds) = run_of(&report["warmup"]);
    assert!(
        bytes > 0.0 && seconds >= run / 2.0,
        "the warm-up must be a real run of warmup_duration(duration): \
         it reported {bytes} bytes in {seconds} s"
    );
    assert!(
        seconds < run,
        "the warm-up lasted {seconds} s, as long as a counted run: run it \
         for warmup_duration(duration), not duration"
    );
    for text in report.all("run") {
        let (bytes, seconds) = run_of(text);
        assert!(
            bytes > 0.0 && seconds >= run,
            "a counted run lasted {seconds} s, less than the {run} s asked: \
             is the warm-up among the counted runs?"
        );
    }
}

#[test]
fn the_figure_is_the_median_of_several_counted_runs() {
    let report = scenario("pipe", 4096);
    let runs = report.all("run");
    assert_eq!(
        runs.len(),
        REPETITIONS,
        "one run is not a measurement: take REPETITIONS counted runs and \
         list every one of them in `runs`"
    );
    let rates: Vec<f64> = runs
        .iter()
        .map(|text| run_of(text))
        .map(|(bytes, seconds)| bytes / seconds)
        .collect();
    let expected = median(&rates);
    let reported = number(&report, "median");
    assert!(
        (reported - expected).abs() <= expected * 1e-9,
        "the reported figure {reported} is not the median {expected} of the \
         counted runs' rates: a mean, or a figure that includes the warm-up?"
    );
    let lowest = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = rates.iter().copied().fold(0.0, f64::max);
    assert_eq!(
        (number(&report, "min"), number(&report, "max")),
        (lowest, highest),
        "min and max are the lowest and highest rate of the counted runs \
         (never the warm-up's)"
    );
}

#[test]
fn its_figures_agree_with_a_reference_meter_in_the_same_run() {
    for (mechanism, size) in [("pipe", 65536), ("socketpair", 1024)] {
        let report = scenario(mechanism, size);
        let median = number(&report, "median");
        assert!(median.is_finite() && median > 0.0, "median: {median}");
        // Measured before and after yours. Generous (a factor of 10 either
        // way of the nearer one): the tests share a busy machine, and what
        // this catches is a wrong unit (milliseconds for seconds, a rate
        // per run instead of per second), which is off by 1000 or more.
        let references: Vec<f64> = report
            .all("reference")
            .iter()
            .map(|r| r.parse().unwrap())
            .collect();
        let nearest = references
            .iter()
            .map(|r| (median / r).ln().abs())
            .fold(f64::INFINITY, f64::min);
        assert!(
            nearest <= 10f64.ln(),
            "{mechanism}, {size} B: your meter says {median:.3e} B/s, the \
             references {references:?} B/s in the same run: is each rate \
             the bytes of one run divided by its seconds?"
        );
    }
}

#[test]
fn it_leaves_no_descriptor_open() {
    let report = scenario("socketpair", 65536);
    assert_eq!(report["leaked-fds"], "", "every descriptor is closed");
}
