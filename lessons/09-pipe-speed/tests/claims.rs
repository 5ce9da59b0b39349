//! The claims of lesson 09, checked by running `pipe-speed` as a subprocess
//! with a time limit, in its tiny-duration mode (runs of a few
//! milliseconds: the tests share two cores with everything else in CI).
//!
//! Only the method and what physics guarantees on any Linux machine are
//! asserted: every figure positive and finite, within its own min-max;
//! every mechanism and size measured; the 1 MiB pipe granted before it is
//! measured; one CPU handled by skipping, and saying so. No speed is ever
//! asserted: a timed assertion would test the machine's load, not the code.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::Finished;
use serde_json::Value;

const PROGRAM: &str = env!("CARGO_BIN_EXE_pipe-speed");

/// Generous: CI runs the tests on two busy cores.
const LIMIT: Duration = Duration::from_secs(120);

/// The tiny-duration mode: 1 ms warm-ups, 2 runs of 2 ms.
const TINY: [&str; 6] =
    ["--warmup-ms", "1", "--run-ms", "2", "--repetitions", "2"];

const SIZES: [u64; 5] = [64, 1024, 4096, 65536, 1 << 20];

fn lesson(command: &mut Command) -> Finished {
    command.env("RUST_BACKTRACE", "0");
    match run_clean(command, LIMIT) {
        Ok(done) => {
            assert!(!done.left_running, "pipe-speed left a peer running");
            done
        }
        Err(error) => panic!("pipe-speed did not finish: {error}"),
    }
}

/// Runs a tiny measurement (under `prefix`, e.g. taskset) and returns its
/// output and JSON.
fn measured(prefix: &[&str]) -> (Finished, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let svg = dir.path().join("r.svg");
    let mut command = match prefix.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(PROGRAM);
            c
        }
        None => Command::new(PROGRAM),
    };
    command.args(TINY).arg("--json").arg(&json).arg("--svg").arg(&svg);
    let done = lesson(&mut command);
    assert!(
        done.status.success(),
        "pipe-speed failed: {}\n{}",
        done.status,
        done.stderr
    );
    let text = std::fs::read_to_string(&json).expect("the JSON file");
    let value = serde_json::from_str(&text).expect("valid JSON");
    let chart = std::fs::read_to_string(&svg).expect("the SVG file");
    (done, value, chart)
}

/// What one tiny run printed, kept for every test that reads it: one run
/// instead of three keeps the suite quick on two cores.
struct Shared {
    stdout: String,
    stderr: String,
    json: Value,
    chart: String,
}

fn shared() -> &'static Shared {
    static RUN: OnceLock<Shared> = OnceLock::new();
    RUN.get_or_init(|| {
        let (done, json, chart) = measured(&[]);
        Shared { stdout: done.stdout, stderr: done.stderr, json, chart }
    })
}

fn results(json: &Value) -> &Vec<Value> {
    json["results"].as_array().expect("a results array")
}

fn has(json: &Value, test: &str, mechanism: &str, placement: &str) -> bool {
    results(json).iter().any(|r| {
        r["test"] == test
            && r["mechanism"] == mechanism
            && r["placement"] == placement
    })
}

#[test]
fn every_figure_is_positive_finite_and_within_its_own_spread() {
    let json = &shared().json;
    assert!(!results(json).is_empty());
    for r in results(json) {
        let f = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
        let (median, min, max) = (f("median"), f("min"), f("max"));
        assert!(
            median.is_finite() && median > 0.0,
            "{}: median {median}",
            r["mechanism"]
        );
        assert!(min <= median && median <= max, "{r}");
        // The method: the warm-up apart, every counted run listed.
        let runs = r["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 2, "{}: two repetitions", r["mechanism"]);
        for run in runs.iter().chain([&r["warmup"]]) {
            assert!(run["count"].as_u64().unwrap() > 0, "{r}");
            assert!(run["seconds"].as_f64().unwrap() > 0.0, "{r}");
        }
        assert!(r["unit"].is_string(), "every figure has its unit");
    }
}

#[test]
fn every_mechanism_is_measured_at_every_size_in_every_placement() {
    let Shared { stdout, stderr, json, chart } = shared();
    let usable = json["machine"]["cpus_usable"].as_array().unwrap().len();
    let placements: &[&str] =
        if usable >= 2 { &["unpinned", "one-cpu"] } else { &["one-cpu"] };
    let skipped = json["skipped"].to_string();
    let mut streaming = vec![
        "memcpy",
        "write+read",
        "pipe",
        "fifo",
        "socketpair",
        "c-pipe",
        "c-socketpair",
    ];
    // The zero-copy path, wherever the kernel has it; where it does not,
    // the run says so.
    if skipped.contains("vmsplice") {
        assert!(stdout.contains("skipped: vmsplice"));
    } else {
        streaming.push("vmsplice+splice");
    }
    for &placement in placements {
        for mechanism in &streaming {
            let sizes: BTreeSet<u64> = results(json)
                .iter()
                .filter(|r| {
                    r["test"] == "stream"
                        && r["mechanism"] == *mechanism
                        && r["placement"] == placement
                })
                .map(|r| r["size"].as_u64().unwrap())
                .collect();
            assert_eq!(
                sizes,
                BTreeSet::from(SIZES),
                "{mechanism}, {placement}: every write size"
            );
        }
        for mechanism in [
            "two-pipes",
            "two-fifos",
            "socketpair",
            "c-two-pipes",
            "c-socketpair",
        ] {
            assert!(
                has(json, "ping-pong", mechanism, placement),
                "{mechanism}"
            );
        }
        for mechanism in ["ipc-bench-fifo", "ipc-bench-pipe"] {
            assert!(
                has(json, "ipc-bench", mechanism, placement),
                "{mechanism}"
            );
        }
    }
    // The machine is named beside the results.
    for key in ["cpu_model", "kernel", "cpus_online"] {
        assert!(!json["machine"][key].is_null(), "machine.{key}");
    }
    assert!(stdout.contains("machine: "));
    // The chart: an SVG with a line per streaming mechanism.
    assert!(chart.trim_start().starts_with("<svg"), "an SVG document");
    for label in ["memcpy*", "pipe, 1 MiB", "socketpair", "C pipe"] {
        assert!(chart.contains(label), "the chart's legend has {label:?}");
    }
    // A progress bar is for a terminal: none here, where stderr is a pipe.
    assert_eq!(stderr, "", "nothing on stderr when it is not a terminal");
}

#[test]
fn a_1_mib_pipe_is_granted_before_it_is_measured() {
    let Shared { stdout, json, .. } = shared();
    let max: u64 = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let big: Vec<&Value> = results(json)
        .iter()
        .filter(|r| r["mechanism"] == "pipe-1MiB")
        .collect();
    if max >= 1 << 20 {
        // 1 MiB is at most pipe-max-size: any user may ask for it.
        assert!(!big.is_empty(), "pipe-1MiB is measured");
        for r in big {
            assert!(
                r["pipe_capacity"].as_u64().unwrap() >= 1 << 20,
                "measured only at the capacity F_GETPIPE_SZ reported: {r}"
            );
        }
        assert!(stdout.contains("F_GETPIPE_SZ now says"));
    } else {
        assert!(big.is_empty(), "not measured when not granted");
        assert!(stdout.contains("skipped: pipe, 1 MiB"));
    }
    // The default pipe is labelled with its real capacity too.
    let pipe = results(json)
        .iter()
        .find(|r| r["mechanism"] == "pipe")
        .expect("a pipe figure");
    assert_eq!(
        pipe["pipe_capacity"], json["method"]["default_pipe_capacity"],
        "the default pipe's capacity is the one measured"
    );
}

#[test]
fn the_c_twin_runs_ipc_benchs_method_with_1024_byte_messages() {
    // The size handed to the C program is the size the run records: each
    // of ipc-bench's two methods, in every placement, at 1024 bytes.
    let json = &shared().json;
    for mechanism in ["ipc-bench-fifo", "ipc-bench-pipe"] {
        let sizes: BTreeSet<u64> = results(json)
            .iter()
            .filter(|r| r["mechanism"] == mechanism)
            .map(|r| r["size"].as_u64().expect("a size"))
            .collect();
        assert_eq!(
            sizes,
            BTreeSet::from([1024]),
            "{mechanism}: the message sizes measured"
        );
    }
}

#[test]
fn on_one_cpu_what_needs_two_is_skipped_and_said() {
    // taskset: the real tool, allowing this run CPU 0 only.
    let (done, json, _) = measured(&["taskset", "-c", "0"]);
    assert_eq!(json["machine"]["cpus_usable"], serde_json::json!([0]));
    assert!(
        results(&json).iter().all(|r| r["placement"] == "one-cpu"),
        "nothing measured unpinned with one usable CPU"
    );
    assert!(done.stdout.contains("skipped: unpinned"), "{}", done.stdout);
    assert!(has(&json, "stream", "pipe", "one-cpu"));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for args in [&["--run-ms", "0"][..], &["--repetitions", "lots"]] {
        let done = lesson(Command::new(PROGRAM).args(args));
        assert_eq!(done.status.code(), Some(2), "{args:?}");
        assert_eq!(done.stderr.trim_end().lines().count(), 1, "{args:?}");
    }
}

#[test]
fn an_unwritable_json_path_fails_before_measuring() {
    let done = lesson(Command::new(PROGRAM).args([
        "--json",
        "/nonexistent-dir/r.json",
        "--quick",
    ]));
    assert_eq!(done.status.code(), Some(1));
    assert!(done.stderr.contains("/nonexistent-dir/r.json"), "{done:?}");
    assert_eq!(done.stderr.trim_end().lines().count(), 1);
    assert!(!done.stdout.contains("streaming"), "nothing was measured");
}
