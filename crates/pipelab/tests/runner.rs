//! The runner, run as a learner and an instructor would: the built
//! `pipelab` binary as a subprocess, bounded by a time limit, pointed at a
//! course in a private temporary directory (PIPELAB_ROOT) with its state in
//! another (PIPELAB_STATE_DIR), so that no test touches the real course,
//! another test, or a student's progress.
//!
//! Most tests use a tiny course made here: one lesson whose crates have no
//! dependencies, so cargo builds them in a second. One test grades the real
//! exercise 01 in a handout of this course. Nested cargo builds go to their
//! own target directory, never the one the outer `cargo test` holds locked.

mod common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use labkit::watchdog::{Finished, run};

/// Asserts a usage error: nothing on stdout, one line on stderr, status 2.
fn assert_one_line_usage_error(done: &Finished, what: &str) -> String {
    assert_eq!(done.status.code(), Some(2), "{what}: {done:?}");
    assert_eq!(done.stdout, "", "{what}: nothing on stdout");
    let lines: Vec<&str> = done.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one line on stderr, got {:?}",
        done.stderr
    );
    lines[0].to_string()
}

/// The exercise column of the overview's row for the lesson titled `title`.
fn state_of<'a>(table: &'a str, title: &str) -> &'a str {
    table
        .lines()
        .find_map(|line| {
            let mut columns = line.split_whitespace();
            columns.next()?.parse::<u32>().ok()?;
            line.trim_start()
                .split_once(' ')?
                .1
                .trim_start()
                .strip_prefix(title)
                .map(str::trim)
        })
        .unwrap_or_else(|| panic!("no row for {title} in:\n{table}"))
}

#[test]
fn the_overview_shows_the_table_and_one_next_step_without_escape_codes() {
    let lab = Lab::tiny();
    let done = lab.lab(&[]);
    assert!(done.status.success(), "{done:?}");
    let out = &done.stdout;
    assert!(out.starts_with("Tiny course\n"), "{out}");
    assert_eq!(state_of(out, "Alpha"), "not started");
    assert_eq!(state_of(out, "Beta"), "coming soon");
    assert_eq!(out.matches("Next:").count(), 1, "{out}");
    assert!(
        out.contains("Next: start lesson 1, Alpha: `cargo lab run 1`"),
        "{out}"
    );
    assert!(!out.contains('\x1b'), "escape codes in piped output: {out:?}");
    assert!(
        lab.state.path().join("state.json").is_file(),
        "the state goes to PIPELAB_STATE_DIR"
    );

    // The same facts, coloured only when asked, and never under NO_COLOR.
    let coloured = lab.lab(&["--color", "always"]);
    assert!(coloured.stdout.contains('\x1b'), "{:?}", coloured.stdout);
    let plain = run(lab.command(&[]).env("NO_COLOR", "1"), QUICK).unwrap();
    assert!(!plain.stdout.contains('\x1b'));

    let list = lab.lab(&["list"]);
    assert!(list.status.success());
    assert!(!list.stdout.contains("Next:"), "{}", list.stdout);
    assert_eq!(state_of(&list.stdout, "Alpha"), "not started");
}

#[test]
fn unknown_lessons_and_bad_arguments_are_one_line_and_status_2() {
    let lab = Lab::tiny();
    for args in [
        &["run", "99"][..],
        &["check", "abc"],
        &["hint", "7"],
        &["reset", "gamma", "--yes"],
        &["solution", "0"],
    ] {
        let line = assert_one_line_usage_error(&lab.lab(args), &args.join(" "));
        assert!(
            line.contains(&format!("unknown lesson '{}'", args[1]))
                && line.contains("1 (alpha), 2 (beta)"),
            "{args:?}: {line}"
        );
    }
    let line = assert_one_line_usage_error(
        &lab.lab(&["run", "1", "nosuch"]),
        "run 1 nosuch",
    );
    assert!(line.contains("alpha-demo, alpha-server"), "{line}");
    let line = assert_one_line_usage_error(
        &lab.lab(&["grade", "--format", "yaml"]),
        "grade --format yaml",
    );
    assert!(line.contains("yaml"), "{line}");
    assert_one_line_usage_error(
        &lab.lab(&["frobnicate"]),
        "an unknown command",
    );
    let line = assert_one_line_usage_error(
        &lab.lab(&["grade", "--submission", "/no/such/copy"]),
        "grade --submission /no/such/copy",
    );
    assert!(line.contains("/no/such/copy"), "{line}");
    let line = assert_one_line_usage_error(
        &lab.lab(&["grade-class", "/no/such/class"]),
        "grade-class /no/such/class",
    );
    assert!(line.contains("/no/such/class"), "{line}");
}

#[test]
fn a_lesson_that_does_not_exist_yet_is_coming_soon_not_an_error_of_usage() {
    let lab = Lab::tiny();
    let done = lab.lab(&["run", "2"]);
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert!(done.stderr.contains("lesson 2 is coming soon"), "{}", done.stderr);
    let done = lab.lab(&["check", "beta"]);
    assert_eq!(done.status.code(), Some(1));
    assert!(done.stderr.contains("coming soon"), "{}", done.stderr);

    // The book builder is a package of its own; without it, one line.
    let book = lab.lab(&["book", "--open"]);
    assert_eq!(book.status.code(), Some(1));
    assert_eq!(book.stderr.lines().count(), 1, "{}", book.stderr);
    assert!(book.stderr.contains("crates/pipelab-book"), "{}", book.stderr);
}

#[test]
fn each_hint_call_reveals_one_more_whatever_the_lesson_is_called() {
    let lab = Lab::tiny();
    let first = lab.lab(&["hint", "1"]);
    assert!(first.status.success());
    assert!(
        first.stdout.contains("Hint 1 of 3: first, vague"),
        "{}",
        first.stdout
    );
    assert!(!first.stdout.contains("second"), "{}", first.stdout);

    let second = lab.lab(&["hint", "01"]);
    assert!(
        second.stdout.contains("Hint 2 of 3: second, closer"),
        "{}",
        second.stdout
    );
    assert!(!second.stdout.contains("third"));

    let third = lab.lab(&["hint", "alpha"]);
    assert!(
        third.stdout.contains("Hint 3 of 3: third, precise"),
        "{}",
        third.stdout
    );
    assert!(third.stdout.contains("last hint"), "{}", third.stdout);
    // No fourth tier: it stays on the last.
    let again = lab.lab(&["hint", "01-alpha"]);
    assert!(again.stdout.contains("Hint 3 of 3"));

    let fresh = Lab::tiny();
    let all = fresh.lab(&["hint", "1", "--all"]);
    for text in ["first, vague", "second, closer", "third, precise"] {
        assert!(all.stdout.contains(text), "{}", all.stdout);
    }
}

#[test]
fn reset_asks_without_yes_then_restores_the_stub_and_names_the_backup() {
    let lab = Lab::tiny();
    let lib = lab.path("exercises/01-alpha/src/lib.rs");
    let mine = "pub fn answer() -> u32 { 41 }\n";
    fs::write(&lib, mine).unwrap();
    write(&lab.path("exercises/01-alpha/src/extra.rs"), "// mine too\n");

    // No terminal to ask on: refuse, and change nothing.
    let refused = lab.lab(&["reset", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(fs::read_to_string(&lib).unwrap(), mine);

    let done = lab.lab(&["reset", "1", "--yes"]);
    assert!(done.status.success(), "{done:?}");
    assert_eq!(fs::read_to_string(&lib).unwrap(), STUB);
    assert!(!lab.path("exercises/01-alpha/src/extra.rs").exists());
    let backup = done
        .stdout
        .split_whitespace()
        .find(|word| word.starts_with("backups/01-alpha-"))
        .unwrap_or_else(|| panic!("no backup named in {:?}", done.stdout));
    assert_eq!(
        fs::read_to_string(lab.path(backup).join("src/lib.rs")).unwrap(),
        mine
    );
    assert!(lab.path(backup).join("src/extra.rs").is_file());

    let overview = lab.lab(&[]);
    assert_eq!(state_of(&overview.stdout, "Alpha"), "not started");
    let again = lab.lab(&["reset", "1", "--yes"]);
    assert!(again.stdout.contains("nothing to reset"), "{}", again.stdout);
}

#[test]
fn watch_refuses_at_once_without_a_terminal() {
    let lab = Lab::tiny();
    let started = Instant::now();
    let done = lab.lab(&["watch"]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(done.status.code(), Some(1));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert!(done.stderr.contains("needs a terminal"), "{}", done.stderr);
}

#[test]
fn watch_rechecks_on_save_and_answers_its_keys_in_a_terminal() {
    let lab = Lab::tiny();
    let solved = lab.state.path().join("solved.rs");
    fs::write(&solved, SOLVED).unwrap();
    // `script` gives watch a terminal. The keys are typed only once the state
    // file shows what watch has done: its first verdict (failing), then the
    // verdict after the save (passing).
    let state = lab.state.path().join("state.json");
    let feeder = format!(
        "until grep -q '\"passing\": false' {state}; do sleep 0.1; done; \
         cp {solved} {lib}; \
         until grep -q '\"passing\": true' {state}; do sleep 0.1; done; \
         printf hq",
        state = state.display(),
        solved = solved.display(),
        lib = lab.path("exercises/01-alpha/src/lib.rs").display(),
    );
    let watch = format!(
        "({feeder}) | script -q -e -c '{PIPELAB} --color never watch' /dev/null"
    );
    let mut shell = Command::new("sh");
    shell.args(["-c", &watch]);
    lab.environment(&mut shell);
    let done = run(&mut shell, BUILDS)
        .unwrap_or_else(|error| panic!("watch: {error}"));
    assert!(done.status.success(), "{done:?}");
    let screen = &done.stdout;
    assert!(
        screen.contains("watching exercises/01-alpha (file events)"),
        "{screen}"
    );
    assert!(screen.contains("FAIL  the_answer_is_42"), "{screen}");
    assert!(screen.contains("All 2 tests pass"), "{screen}");
    assert!(screen.contains("1 of 1 exercises pass"), "{screen}");
    assert!(screen.contains("Hint 1 of 3:"), "{screen}");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definition() {
    let lab = Lab::tiny();
    let bash = lab.lab(&["completions", "bash"]);
    assert!(bash.status.success());
    for command in ["check", "hint", "grade", "handout", "watch"] {
        assert!(
            bash.stdout.contains(command),
            "bash completion lacks {command}"
        );
    }
    let man = lab.lab(&["man"]);
    assert!(man.status.success());
    assert!(
        man.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man.stdout[..80]
    );
    assert!(
        man.stdout.contains(".TH pipelab"),
        "not roff: {}",
        &man.stdout[..200]
    );
    assert_one_line_usage_error(
        &lab.lab(&["completions", "tcsh"]),
        "completions tcsh",
    );

    // A reader that has gone ends the runner quietly, killed by SIGPIPE as
    // `cat` would be: no panic, no error message.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // nobody will read: the first write meets a closed pipe
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by labkit's wait_for_child below"
    )]
    let mut child = lab
        .command(&["man"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let status = labkit::watchdog::wait_for_child(pid, QUICK)
        .unwrap()
        .expect("pipelab man did not end within 20 s with its reader gone");
    assert_eq!(
        status,
        nix::sys::wait::WaitStatus::Signaled(
            pid,
            nix::sys::signal::Signal::SIGPIPE,
            false
        )
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(
        &mut child.stderr.take().unwrap(),
        &mut stderr,
    )
    .unwrap();
    assert_eq!(stderr, "");
}

#[test]
fn doctor_reports_the_pipe_ceiling_the_umask_and_the_rust_version() {
    let lab = Lab::tiny();
    let done = lab.lab(&["doctor"]);
    assert!(done.status.success(), "{done:?}");
    let ceiling = fs::read_to_string("/proc/sys/fs/pipe-max-size").unwrap();
    assert!(
        done.stdout
            .contains(&format!("pipe-max-size is {} bytes", ceiling.trim())),
        "{}",
        done.stdout
    );
    assert!(done.stdout.contains("umask "), "{}", done.stdout);
    assert!(done.stdout.contains("Rust 1."), "{}", done.stdout);
}

#[test]
fn a_handout_has_no_solutions_builds_without_them_and_says_so() {
    let lab = Lab::tiny();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("handout");
    let done = lab.lab(&["handout", dir.to_str().unwrap()]);
    assert!(done.status.success(), "{done:?}");
    assert!(!dir.join("solutions").exists());
    assert!(dir.join("HANDOUT.md").is_file());
    assert!(dir.join("crates/pipelab/pristine/01-alpha/src/lib.rs").is_file());
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("solutions"), "{manifest}");
    assert!(
        manifest.contains("members = [\"lessons/*\", \"exercises/*\"]"),
        "{manifest}"
    );

    let student = Lab {
        root: dir.clone(),
        state: tempfile::tempdir().unwrap(),
        target: lab.target.clone(),
        _dir: None,
    };
    let solution = student.lab(&["solution", "1"]);
    assert_eq!(solution.status.code(), Some(1));
    assert!(solution.stdout.contains("not included"), "{}", solution.stdout);

    // An exercise deleted from a student's copy scores 0; it does not leave
    // the total.
    fs::remove_dir_all(dir.join("exercises/01-alpha")).unwrap();
    let graded = student.lab(&["grade", "--format", "json"]);
    assert_eq!(graded.status.code(), Some(1));
    assert_eq!(grade_json(&graded), (0, 2, "missing".to_string()));

    // Never over something that exists.
    let again = lab.lab(&["handout", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(again.stderr.contains("not empty"), "{}", again.stderr);

    // A solution's code that found its way into an exercise is caught,
    // a comment line added or not, and nothing is left on disk.
    let solution = "pub fn answer() -> u32 {\n    let tens = 4 * 10;\n    \
                    let units = 2;\n    let total = tens + units;\n    total\n}\n";
    fs::write(lab.path("solutions/01-alpha/src/lib.rs"), solution).unwrap();
    fs::write(
        lab.path("exercises/01-alpha/src/lib.rs"),
        format!("// my own work, honest\n{solution}"),
    )
    .unwrap();
    let refused = tempfile::tempdir().unwrap();
    let leaky = refused.path().join("leaky");
    let leaked = lab.lab(&["handout", leaky.to_str().unwrap()]);
    assert_eq!(leaked.status.code(), Some(1));
    assert!(
        leaked.stderr.contains("exercises/01-alpha/src/lib.rs")
            && leaked.stderr.contains("solutions/01-alpha/src/lib.rs"),
        "{}",
        leaked.stderr
    );
    assert_eq!(
        fs::read_dir(refused.path()).unwrap().count(),
        0,
        "a refused handout leaves nothing behind"
    );
}

#[test]
fn run_replaces_itself_with_the_lesson_so_its_status_is_the_commands() {
    let lab = Lab::tiny();
    let demo = lab.run_within(BUILDS, &["run", "1"]);
    assert_eq!(demo.status.code(), Some(3), "{demo:?}");
    assert_eq!(demo.stdout, "alpha demo\n");

    let aborted = lab.run_within(BUILDS, &["run", "1", "--", "abort"]);
    assert_eq!(
        aborted.status.signal(),
        Some(6),
        "killed by SIGABRT: {aborted:?}"
    );

    let server =
        lab.run_within(BUILDS, &["run", "01", "server", "--", "--port", "7"]);
    assert!(server.status.success(), "{server:?}");
    assert_eq!(server.stdout, "server got [\"--port\", \"7\"]\n");
}

#[test]
fn check_gives_a_verdict_then_passes_and_unlocks_the_solution() {
    let lab = Lab::tiny();
    let stub = lab.run_within(BUILDS, &["check", "1"]);
    assert_eq!(stub.status.code(), Some(1), "{stub:?}");
    let out = &stub.stdout;
    assert!(out.contains("pass  the_crate_builds"), "{out}");
    assert!(out.contains("FAIL  the_answer_is_42"), "{out}");
    assert!(out.contains("1 of 2 tests pass"), "{out}");
    assert!(out.contains("First failure: the_answer_is_42"), "{out}");
    assert!(out.contains("not yet implemented: answer"), "{out}");
    assert!(
        !out.contains("RUST_BACKTRACE"),
        "the backtrace note is trimmed: {out}"
    );
    assert!(
        out.contains("exercises/01-alpha/src/lib.rs"),
        "names the file to edit: {out}"
    );
    assert!(!out.contains('\x1b'));

    let refused = lab.lab(&["solution", "1"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        refused.stdout.contains("once your exercise passes"),
        "{}",
        refused.stdout
    );
    assert!(!refused.stdout.contains("42"), "{}", refused.stdout);

    fs::write(lab.path("exercises/01-alpha/src/lib.rs"), "this is not rust\n")
        .unwrap();
    let broken = lab.run_within(BUILDS, &["check", "1"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(broken.stdout.contains("does not compile"), "{}", broken.stdout);
    assert!(broken.stdout.contains("error"), "{}", broken.stdout);

    fs::write(lab.path("exercises/01-alpha/src/lib.rs"), SOLVED).unwrap();
    let solved = lab.run_within(BUILDS, &["check", "1"]);
    assert!(solved.status.success(), "{solved:?}");
    assert!(solved.stdout.contains("All 2 tests pass"), "{}", solved.stdout);
    // Nothing changed: the same verdict, from the test programs already built.
    let again = lab.lab(&["check", "1"]);
    assert!(again.status.success(), "{again:?}");

    let overview = lab.lab(&[]);
    assert_eq!(state_of(&overview.stdout, "Alpha"), "passing");
    assert!(
        overview.stdout.contains("Progress: 1 of 1"),
        "{}",
        overview.stdout
    );
    let solution = lab.lab(&["solution", "1"]);
    assert!(solution.status.success(), "{solution:?}");
    assert!(
        solution.stdout.contains("solutions/01-alpha/src/lib.rs"),
        "{}",
        solution.stdout
    );
    assert!(solution.stdout.contains(SOLVED.trim_end()));
}

#[test]
fn a_changed_exercise_is_rechecked_and_an_edited_state_file_proves_nothing() {
    let lab = Lab::tiny();
    fs::write(
        lab.path("exercises/01-alpha/src/lib.rs"),
        STUB.replace("TODO", "TODO (started)"),
    )
    .unwrap();
    let failing = lab.run_within(BUILDS, &["list"]);
    assert_eq!(state_of(&failing.stdout, "Alpha"), "failing");

    // A student who marks the exercise passing by hand gains nothing: the
    // verdict is tied to a fingerprint of the sources it came from.
    let state_file = lab.state.path().join("state.json");
    let forged = fs::read_to_string(&state_file)
        .unwrap()
        .replace("\"passing\": false", "\"passing\": true")
        .replace("\"fingerprint\": \"", "\"fingerprint\": \"0");
    fs::write(&state_file, forged).unwrap();
    let still = lab.run_within(BUILDS, &["list"]);
    assert_eq!(state_of(&still.stdout, "Alpha"), "failing");
}

#[test]
fn grade_scores_per_test_kills_a_hung_exercise_and_writes_junit() {
    let lab = Lab::tiny();
    let stub = lab.run_within(BUILDS, &["grade", "--format", "json"]);
    assert_eq!(stub.status.code(), Some(1));
    assert_eq!(grade_json(&stub), (1, 2, "failed".to_string()));

    fs::write(lab.path("exercises/01-alpha/src/lib.rs"), SOLVED).unwrap();
    let full = lab.run_within(BUILDS, &["grade", "1", "--format", "json"]);
    assert!(full.status.success(), "full marks exit 0: {full:?}");
    assert_eq!(grade_json(&full), (2, 2, "passed".to_string()));

    let text = lab.run_within(BUILDS, &["grade"]);
    assert!(text.stdout.contains("Score: 2/2"), "{}", text.stdout);

    // A test that never ends: killed at the limit, scored 0, and the grade
    // goes on to write its report.
    fs::write(
        lab.path("exercises/01-alpha/src/lib.rs"),
        "pub fn answer() -> u32 {\n    loop {\n        std::thread::sleep(std::time::Duration::from_secs(1));\n    }\n}\n",
    )
    .unwrap();
    let report = lab.state.path().join("report.xml");
    let started = Instant::now();
    let hung = lab.run_within(
        BUILDS,
        &[
            "grade",
            "--format",
            "junit",
            "--limit",
            "2",
            "--out",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(hung.status.code(), Some(1));
    assert!(hung.stdout.contains("Score: 0/2"), "{}", hung.stdout);
    assert!(started.elapsed() < Duration::from_secs(120));
    let xml = fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(
            "<testsuite name=\"ex01-alpha\" id=\"0\" tests=\"2\" failures=\"2\" errors=\"0\""
        ),
        "{xml}"
    );
    assert!(xml.contains("value=\"timed-out\""), "{xml}");
}

#[test]
fn verify_holds_for_a_sound_course_and_catches_a_stale_pristine_copy() {
    let lab = Lab::tiny();
    let done = lab.run_within(BUILDS, &["verify"]);
    assert!(done.status.success(), "{}", done.stdout);
    assert!(
        done.stdout
            .contains("the stub compiles and fails its tests (1 of 2 fail)"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("the solution passes all 2 tests"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout.contains("Exercises checked: 1. Problems: 0."),
        "{}",
        done.stdout
    );

    fs::write(
        lab.path("crates/pipelab/pristine/01-alpha/src/lib.rs"),
        "// stale\n",
    )
    .unwrap();
    let stale = lab.run_within(BUILDS, &["verify"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(stale.stdout.contains("differs from the stub"), "{}", stale.stdout);
    let pristine = lab.lab(&["pristine"]);
    assert_eq!(pristine.status.code(), Some(1));
    let updated = lab.lab(&["pristine", "--update", "1"]);
    assert!(updated.status.success());
    assert_eq!(
        fs::read_to_string(
            lab.path("crates/pipelab/pristine/01-alpha/src/lib.rs")
        )
        .unwrap(),
        STUB
    );
}

/// The real exercise 01, in a handout of this very course: the untouched
/// stub scores 0, the reference solution copied in scores full marks.
#[test]
fn the_real_exercise_01_scores_0_as_shipped_and_full_marks_solved() {
    let course = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tempfile::tempdir().unwrap();
    let handout = out.path().join("handout");
    let maker = Lab {
        root: course.canonicalize().unwrap(),
        state: tempfile::tempdir().unwrap(),
        target: PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("nested-target"),
        _dir: None,
    };
    let made = maker.lab(&["handout", handout.to_str().unwrap()]);
    assert!(made.status.success(), "{made:?}");
    let student = Lab {
        root: handout.clone(),
        state: tempfile::tempdir().unwrap(),
        target: maker.target.clone(),
        _dir: None,
    };
    // Start from the stub as shipped, whatever this working copy holds.
    let pristine = handout.join("crates/pipelab/pristine/01-pipe-fork");
    fs::copy(
        pristine.join("src/lib.rs"),
        handout.join("exercises/01-pipe-fork/src/lib.rs"),
    )
    .unwrap();

    let limit = Duration::from_secs(900);
    let stub = student.run_within(limit, &["grade", "1", "--format", "json"]);
    assert_eq!(stub.status.code(), Some(1), "{stub:?}");
    let (score, max, status) = grade_json(&stub);
    assert_eq!((score, status.as_str()), (0, "failed"));
    assert!(max >= 6, "exercise 01 has at least 6 tests: {max}");

    let solution = maker.root.join("solutions/01-pipe-fork/src/lib.rs");
    if solution.is_file() {
        fs::copy(&solution, handout.join("exercises/01-pipe-fork/src/lib.rs"))
            .unwrap();
        let solved =
            student.run_within(limit, &["grade", "1", "--format", "json"]);
        assert!(solved.status.success(), "{}", solved.stdout);
        assert_eq!(grade_json(&solved), (max, max, "passed".to_string()));
    }
    let refused = student.lab(&["solution", "1"]);
    assert!(refused.stdout.contains("not included"), "{}", refused.stdout);
}
