//! The grading page's sample table is the real output of the command it
//! names: this test runs that command on a handout of this course, with a
//! student's copy beside it (exercise 01 solved, the others as shipped),
//! and fails when the page shows something else.
//! `PIPELAB_UPDATE_TRANSCRIPTS=1` rewrites the sample instead, as it does
//! the lessons' transcripts.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use labkit::transcript::UPDATE_VAR;
use labkit::watchdog::run;

const PAGE: &str = "book/src/grading.md";
/// The sample's first line, which names the command that made it.
const COMMAND: &str = "$ cargo lab grade 1 3 --submission ../alice";

/// Where the sample's body starts and ends in the page's text.
fn sample_span(page: &str) -> (usize, usize) {
    let at =
        page.find(&format!("```console\n{COMMAND}\n")).unwrap_or_else(|| {
            panic!("{PAGE} has no ```console block starting {COMMAND:?}")
        });
    let start = at + "```console\n".len() + COMMAND.len() + 1;
    let end = start
        + page[start..]
            .find("```\n")
            .unwrap_or_else(|| panic!("{PAGE}: the sample never ends"));
    (start, end)
}

#[test]
fn the_grading_pages_sample_is_what_its_command_prints() {
    let course = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let course = course.canonicalize().unwrap();
    let out = tempfile::tempdir().unwrap();
    let instructor = out.path().join("course");
    let maker = Lab {
        root: course.clone(),
        state: tempfile::tempdir().unwrap(),
        target: PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("nested-target"),
        _dir: None,
    };
    let made = maker.lab(&["handout", instructor.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    // The student's copy, beside the instructor's as `../alice`: exercise
    // 03 as shipped, whatever this working copy holds, and 01 solved.
    let alice = out.path().join("alice");
    copy_tree(&instructor, &alice);
    fs::copy(
        instructor.join("crates/pipelab/pristine/03-sigpipe/src/lib.rs"),
        alice.join("exercises/03-sigpipe/src/lib.rs"),
    )
    .unwrap();
    fs::copy(
        course.join("solutions/01-pipe-fork/src/lib.rs"),
        alice.join("exercises/01-pipe-fork/src/lib.rs"),
    )
    .unwrap();

    let grader = Lab {
        root: instructor.clone(),
        state: tempfile::tempdir().unwrap(),
        target: maker.target.clone(),
        _dir: None,
    };
    let words: Vec<&str> =
        COMMAND.trim_start_matches("$ cargo lab ").split(' ').collect();
    let mut command = grader.command(&words);
    command.current_dir(&instructor).env("NO_COLOR", "1");
    let done = run(&mut command, Duration::from_secs(900))
        .unwrap_or_else(|error| panic!("`{COMMAND}`: {error}"));
    assert_eq!(
        done.status.code(),
        Some(1),
        "not every test passes, so grade exits 1: {done:?}"
    );

    let page_path = course.join(PAGE);
    let page = fs::read_to_string(&page_path).unwrap();
    let (start, end) = sample_span(&page);
    if page[start..end] == done.stdout {
        return;
    }
    if std::env::var_os(UPDATE_VAR).is_some_and(|value| value != "0") {
        let updated =
            format!("{}{}{}", &page[..start], done.stdout, &page[end..]);
        fs::write(&page_path, updated).unwrap();
        eprintln!("wrote the sample of {PAGE}");
        return;
    }
    panic!(
        "{PAGE}: the sample under `{COMMAND}` is not what it prints.\n\
         The page:\n{}\nThe command:\n{}\n\
         If the command is right, regenerate the sample and review the \
         diff:\n    {UPDATE_VAR}=1 cargo test -p pipelab --test \
         grading_sample",
        &page[start..end],
        done.stdout
    );
}
