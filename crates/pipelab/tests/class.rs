//! `cargo lab grade-class` on a class made here, graded against a handout
//! of this very course: a solved submission, the stubs, each cheat kept in
//! tests/cheats/, a clone graded at its last commit before a deadline, and
//! a student of the roster who handed nothing in.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;

/// The course this test runs in, and a handout of it to grade against.
fn instructor() -> (tempfile::TempDir, Lab, PathBuf) {
    let course = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let handout = out.path().join("handout");
    let maker = Lab {
        root: course.clone(),
        state: tempfile::tempdir().unwrap(),
        target: PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("nested-target"),
        _dir: None,
    };
    let made = maker.lab(&["handout", handout.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    keep_first_lessons(&handout, EXERCISES.len());
    let lab = Lab {
        root: handout,
        state: tempfile::tempdir().unwrap(),
        target: maker.target.clone(),
        _dir: None,
    };
    (out, lab, course)
}

/// A submission: the stubs of `handout`, with `files` (exercise directory,
/// source file) put in as each exercise's src/lib.rs.
fn submission(handout: &Path, dir: &Path, files: &[(&str, PathBuf)]) {
    copy_tree(&handout.join("crates/pipelab/pristine"), &dir.join("exercises"));
    for (exercise, source) in files {
        fs::copy(
            source,
            dir.join("exercises").join(exercise).join("src/lib.rs"),
        )
        .unwrap();
    }
}

fn git(dir: &Path, date: &str, args: &[&str]) {
    let done = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=s", "-c", "user.email=s@example.org"])
        .args(args)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(done.status.success(), "git {args:?}: {done:?}");
}

/// Makes the handout's course the lessons numbered 1 to `last`: the class
/// is graded on the five exercises that have a cheat each, as an
/// instructor grading part of a course would.
fn keep_first_lessons(handout: &Path, last: usize) {
    let manifest = handout.join("course.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let mut blocks = text.split("\n[[lessons]]\n");
    let mut kept = blocks.next().unwrap().to_string();
    for block in blocks {
        let number: usize = block
            .lines()
            .find_map(|line| line.strip_prefix("number = "))
            .and_then(|n| n.trim().parse().ok())
            .expect("each lesson has a number");
        if number <= last {
            kept += "\n[[lessons]]\n";
            kept += block;
        }
    }
    fs::write(&manifest, kept).unwrap();
}

const EXERCISES: [&str; 5] = [
    "01-pipe-fork",
    "02-pipe-capacity",
    "03-sigpipe",
    "04-fifo-client-server",
    "05-fifo-rdwr-pitfall",
];

#[test]
fn a_class_is_graded_into_one_csv_with_each_cheat_scoring_what_it_earns() {
    let (out, lab, course) = instructor();
    let class = out.path().join("class");
    let solution = |n: usize| {
        course.join("solutions").join(EXERCISES[n]).join("src/lib.rs")
    };
    let cheat =
        |name: &str| course.join("crates/pipelab/tests/cheats").join(name);
    let solved: Vec<(&str, PathBuf)> =
        (0..5).map(|n| (EXERCISES[n], solution(n))).collect();
    let make = |name: &str, files: Vec<(&str, PathBuf)>| {
        submission(&lab.root, &class.join(name), &files);
    };
    make("solved", solved.clone());
    make("stub", Vec::new());
    make("fake-delivery", vec![(EXERCISES[0], cheat("ex01-fake-delivery.rs"))]);
    make("exit-0", vec![(EXERCISES[2], cheat("ex03-exit-0.rs"))]);
    make("no-request", vec![(EXERCISES[4], cheat("ex05-no-request.rs"))]);
    // A clone: exercise 01 solved before the deadline, the rest after.
    let late = class.join("late");
    make("late", vec![(EXERCISES[0], solution(0))]);
    git(&late, "2026-01-01T00:00:00Z", &["init", "-q"]);
    git(&late, "2026-01-01T00:00:00Z", &["add", "."]);
    git(&late, "2026-01-01T00:00:00Z", &["commit", "-q", "-m", "01"]);
    submission(&lab.root, &late, &solved);
    git(&late, "2026-01-03T00:00:00Z", &["commit", "-q", "-a", "-m", "all"]);

    let roster = out.path().join("roster.txt");
    fs::write(
        &roster,
        "solved\nstub\nfake-delivery\nexit-0\nno-request\nlate\nabsent\n",
    )
    .unwrap();
    let grades = out.path().join("grades");
    let done = lab.run_within(
        Duration::from_secs(1800),
        &[
            "grade-class",
            class.to_str().unwrap(),
            "--deadline",
            "2026-01-02T00:00:00Z",
            "--roster",
            roster.to_str().unwrap(),
            "--out",
            grades.to_str().unwrap(),
            "--jobs",
            "2",
        ],
    );
    assert!(done.status.success(), "{done:?}");
    let csv = fs::read_to_string(grades.join("grades.csv")).unwrap();
    let rows: Vec<Vec<&str>> =
        csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0],
        [
            "student",
            "commit",
            "score",
            "max",
            "01-pipe-fork",
            "02-pipe-capacity",
            "03-sigpipe",
            "04-fifo-client-server",
            "05-fifo-rdwr-pitfall",
            "flags",
            "seconds"
        ]
    );
    let row = |name: &str| -> Vec<&str> {
        rows.iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no row for {name}:\n{csv}"))
            .clone()
    };
    // student: (score, per exercise)
    let max = row("solved")[3].to_string();
    assert_eq!(max, "35", "{csv}");
    for (name, score, per) in [
        ("solved", "35", ["6", "7", "8", "8", "6"]),
        ("stub", "0", ["0"; 5]),
        ("fake-delivery", "0", ["0"; 5]),
        ("exit-0", "0", ["0"; 5]),
        // Opening and closing both FIFOs earns what it earns honestly: the
        // peer sees end of file, nothing leaks. No reply is counted.
        ("no-request", "2", ["0", "0", "0", "0", "2"]),
        ("late", "6", ["6", "0", "0", "0", "0"]),
    ] {
        let r = row(name);
        assert_eq!((r[2], &r[4..9]), (score, &per[..]), "{name}:\n{csv}");
    }
    assert_eq!(row("late")[1].len(), 40, "the commit graded: {csv}");
    assert!(row("absent")[9].contains("missing"), "{csv}");
    let json: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(grades.join("grades.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(7));
}
