//! Grading a student's copy as a cheating student would try it: each trick
//! scores what the honest code under it scores, and never full marks.
//!
//! The lab's course is the instructor's; each test makes a student's copy
//! of it, changes it as the trick needs, and grades it with
//! `cargo lab grade --submission`. In the tiny course the stub earns 1 of
//! 2 points (`the_crate_builds` passes), the solution 2 of 2.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const LIB: &str = "exercises/01-alpha/src/lib.rs";

fn put(dir: &Path, relative: &str, text: &str) {
    write(&dir.join(relative), text);
}

/// (score, max, status of exercise 1, exit code).
fn outcome(
    lab: &Lab,
    submission: &Path,
) -> (u64, u64, String, Option<i32>, serde_json::Value) {
    let (done, report) = lab.grade(submission);
    (
        report["score"].as_u64().unwrap(),
        report["max_score"].as_u64().unwrap(),
        report["exercises"][0]["status"].as_str().unwrap().to_string(),
        done.status.code(),
        report,
    )
}

#[test]
fn points_in_the_students_course_toml_count_for_nothing() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // Zero points everywhere, and the exercise's lesson removed from the
    // course (only lesson 2 is left), with its pristine copy.
    let course = fs::read_to_string(student.join("course.toml")).unwrap();
    let second = course.rfind("[[lessons]]").unwrap();
    put(
        &student,
        "course.toml",
        &format!("title = \"x\"\npoints_per_test = 0\n{}", &course[second..])
            .replace("number = 2", "number = 2\npoints = 0"),
    );
    assert!(
        !fs::read_to_string(student.join("course.toml"))
            .unwrap()
            .contains("number = 1")
    );
    fs::remove_dir_all(student.join("crates/pipelab/pristine/01-alpha"))
        .unwrap();
    let (score, max, status, code, report) = outcome(&lab, &student);
    assert_eq!((score, max, status.as_str()), (1, 2, "failed"));
    assert_eq!(code, Some(1));
    let flags = report["flags"].to_string();
    assert!(flags.contains("course.toml differs"), "{flags}");
}

#[test]
fn a_course_with_nothing_to_earn_never_exits_0() {
    let lab = Lab::tiny();
    let course = fs::read_to_string(lab.path("course.toml")).unwrap();
    fs::write(
        lab.path("course.toml"),
        course.replace(
            "title = \"Tiny course\"",
            "title = \"T\"\npoints_per_test = 0",
        ),
    )
    .unwrap();
    let (_dir, student) = lab.submission();
    put(&student, LIB, SOLVED);
    let (score, max, _, code, _) = outcome(&lab, &student);
    assert_eq!((score, max), (0, 0));
    assert_eq!(code, Some(1), "0/0 is not full marks");
}

#[test]
fn printed_test_lines_and_same_named_tests_in_the_library_score_nothing() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // libtest's own words, on stderr, on stdout and straight into the test
    // program's standard output, then a panic; and tests of the same names
    // in the library, one in a `mod` as libtest would name it.
    put(
        &student,
        LIB,
        "pub fn answer() -> u32 {\n\
         let line = \"test the_answer_is_42 ... ok\\ntest result: ok. 2 passed; 0 failed\\n\";\n\
         eprint!(\"{line}\");\n    print!(\"{line}\");\n\
         let _ = std::fs::write(\"/proc/self/fd/1\", line);\n\
         let _ = std::fs::write(format!(\"/proc/{}/fd/1\", std::os::unix::process::parent_id()), line);\n\
         panic!(\"no answer\")\n}\n\
         #[cfg(test)]\nmod tests {\n    #[test]\n    fn the_answer_is_42() {}\n}\n\
         pub mod a {\n    #[test]\n    fn the_answer_is_42() {}\n}\n",
    );
    let (score, max, status, code, _) = outcome(&lab, &student);
    assert_eq!((score, max, status.as_str(), code), (1, 2, "failed", Some(1)));
}

#[test]
fn edited_manifests_tests_and_pristine_copies_are_ignored_and_reported() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    let exercise = student.join("exercises/01-alpha");
    // A test target of their own, the course's tests emptied (in the
    // exercise and in its pristine copy), every test `#[should_panic]`.
    let manifest = fs::read_to_string(exercise.join("Cargo.toml")).unwrap();
    put(
        &exercise,
        "Cargo.toml",
        &format!("{manifest}\n[[test]]\nname = \"fake\"\npath = \"fake.rs\"\n"),
    );
    put(&exercise, "fake.rs", "#[test]\nfn the_answer_is_42() {}\n");
    // A runner of their own that prints the answers a runner-based test
    // reads.
    put(
        &exercise,
        "src/main.rs",
        "fn main() {\n    println!(\"answer: 42\");\n}\n",
    );
    let hollow = "#[test]\n#[should_panic]\nfn the_answer_is_42() { panic!() }\n\
                  #[test]\nfn the_crate_builds() {}\n";
    put(&exercise, "tests/exercise.rs", hollow);
    put(&student, "crates/pipelab/pristine/01-alpha/tests/exercise.rs", hollow);
    let (score, max, status, code, report) = outcome(&lab, &student);
    assert_eq!((score, max, status.as_str(), code), (1, 2, "failed", Some(1)));
    let ignored = report["exercises"][0]["ignored_changes"].to_string();
    for file in ["Cargo.toml", "fake.rs", "src/main.rs", "tests/exercise.rs"] {
        assert!(ignored.contains(file), "{file} not reported: {ignored}");
    }
    assert_eq!(report["exercises"][0]["tests_modified"], true);
    assert!(
        report["flags"].to_string().contains("pristine copy of exercise 1"),
        "{}",
        report["flags"]
    );
}

#[test]
fn code_before_main_does_not_compile_and_a_linked_file_is_not_taken() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // A constructor that would end the test program with status 0 before
    // any test runs: `unsafe` is forbidden in a graded exercise.
    put(
        &student,
        LIB,
        "#![allow(unsafe_code)]\n\
         extern \"C\" fn quit() { std::process::exit(0) }\n\
         #[used]\n#[unsafe(link_section = \".init_array\")]\n\
         static QUIT: extern \"C\" fn() = quit;\n\
         pub fn answer() -> u32 { 0 }\n",
    );
    let (score, max, status, code, report) = outcome(&lab, &student);
    assert_eq!(
        (score, max, status.as_str(), code),
        (0, 2, "does-not-compile", Some(1)),
        "{report}"
    );
    assert!(
        report["exercises"][0]["detail"].to_string().contains("unsafe"),
        "{report}"
    );

    // A symbolic link in place of the student's file is no work of theirs.
    let solved = student.join("solved.rs");
    fs::write(&solved, SOLVED).unwrap();
    fs::remove_file(student.join(LIB)).unwrap();
    std::os::unix::fs::symlink(&solved, student.join(LIB)).unwrap();
    let (score, _, status, _, _) = outcome(&lab, &student);
    assert_eq!((score, status.as_str()), (0, "missing"));
}

#[test]
fn code_that_rewrites_the_test_program_scores_0() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // The right answer, and the test program replaced by `true` for the
    // tests after this one.
    put(
        &student,
        LIB,
        "pub fn answer() -> u32 {\n\
         let me = std::env::current_exe().unwrap();\n\
         let new = me.with_extension(\"new\");\n\
         std::fs::copy(\"/bin/true\", &new).unwrap();\n\
         std::fs::rename(&new, &me).unwrap();\n    42\n}\n",
    );
    let (score, _, status, code, _) = outcome(&lab, &student);
    assert_eq!((score, status.as_str(), code), (0, "tampered", Some(1)));
}

#[test]
fn two_submissions_in_one_build_directory_keep_their_own_scores() {
    let lab = Lab::tiny();
    let (_solved_dir, solved) = lab.submission();
    put(&solved, LIB, SOLVED);
    let (_stub_dir, stub) = lab.submission();
    // The stub's file is older than the solved build: timestamps must not
    // let cargo keep the solved build for it.
    let old = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(stub.join(LIB))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (score, max, status, code, _) = outcome(&lab, &solved);
    assert_eq!((score, max, status.as_str(), code), (2, 2, "passed", Some(0)));
    let (score, _, status, code, _) = outcome(&lab, &stub);
    assert_eq!((score, status.as_str(), code), (1, "failed", Some(1)));
    let (score, _, _, _, _) = outcome(&lab, &solved);
    assert_eq!(score, 2);
    let workers = fs::read_dir(lab.target.join("pipelab-grade"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert_eq!(workers, 1, "all three were built in the same directory");
}

/// Grades `submission` as JUnit into a file and parses it with a strict
/// XML 1.0 parser, checking what JUnit's schema requires: `tests`,
/// `failures` and `errors` on the root and on every suite, each equal to
/// what its test cases hold.
fn junit(lab: &Lab, submission: &Path) -> String {
    let out = lab.state.path().join("grade.xml");
    let done = lab.run_within(
        BUILDS,
        &[
            "grade",
            "--format",
            "junit",
            "--submission",
            submission.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(done.status.code(), Some(1), "{done:?}");
    let text = fs::read_to_string(&out).unwrap();
    let document = roxmltree::Document::parse(&text)
        .unwrap_or_else(|error| panic!("not well-formed XML: {error}\n{text}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let number = |node: roxmltree::Node, name: &str| -> usize {
        node.attribute(name)
            .unwrap_or_else(|| {
                panic!("<{}> has no {name}", node.tag_name().name())
            })
            .parse()
            .unwrap()
    };
    let mut totals = [0; 3];
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        assert!(suite.attribute("name").is_some());
        let cases: Vec<_> =
            suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
        };
        let counts = [cases.len(), with("failure"), with("error")];
        assert_eq!(
            [
                number(suite, "tests"),
                number(suite, "failures"),
                number(suite, "errors")
            ],
            counts
        );
        for case in &cases {
            assert!(case.attribute("name").is_some());
            assert!(case.attribute("classname").is_some());
        }
        for (total, count) in totals.iter_mut().zip(counts) {
            *total += count;
        }
    }
    assert_eq!(
        [
            number(root, "tests"),
            number(root, "failures"),
            number(root, "errors")
        ],
        totals
    );
    text
}

#[test]
fn junit_is_well_formed_with_control_characters_and_compile_errors() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // A panic message with a terminal's colour codes, a NUL and a form
    // feed: XML 1.0 cannot hold them even as character references.
    put(
        &student,
        LIB,
        "pub fn answer() -> u32 {\n    \
         panic!(\"\\x1b[31mred\\x1b[0m <&> \\0 \\x0c \\\"quoted\\\"\")\n}\n",
    );
    let text = junit(&lab, &student);
    assert!(text.contains("failures=\"1\" errors=\"0\""), "{text}");
    assert!(text.contains("\\u{1b}[31mred"), "{text}");

    // A compile error is an error, not a failure: no test ran.
    put(&student, LIB, "pub fn answer() -> u32 { \"not a number\" }\n");
    let text = junit(&lab, &student);
    assert!(text.contains("failures=\"0\" errors=\"2\""), "{text}");
    assert!(text.contains("<error message="), "{text}");
    assert!(text.contains("mismatched types"), "{text}");
}

#[test]
fn classroom_gets_the_points_of_every_passing_test() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    let out = lab.state.path().join("classroom.json");
    let done = lab.run_within(
        BUILDS,
        &[
            "grade",
            "--format",
            "classroom",
            "--submission",
            student.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(done.status.code(), Some(1));
    let result: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    // What GitHub Classroom's reporter adds up: max_score, and each test's
    // score. The stub passes one test of two: one point, not zero.
    assert_eq!(result["version"], 1);
    assert_eq!(result["status"], "fail");
    assert_eq!(result["max_score"], 2);
    let tests = result["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 2);
    let earned: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    assert_eq!(earned, 1, "{result}");
    assert!(
        tests.iter().any(|t| t["status"] == "pass")
            && tests.iter().any(|t| t["status"] == "fail"),
        "{result}"
    );
}

#[test]
fn a_file_included_from_outside_the_exercise_is_not_graded() {
    let lab = Lab::tiny();
    let (_dir, student) = lab.submission();
    // The course's own solution, on the grader's disk, compiled in as the
    // student's work; and a file read at compile time with include_str!.
    let solution = lab.path("solutions/01-alpha/src/lib.rs");
    put(
        &student,
        LIB,
        &format!(
            "#[path = {:?}]\nmod theirs;\npub use theirs::answer;\n",
            solution.display().to_string()
        ),
    );
    let (score, _, status, code, report) = outcome(&lab, &student);
    assert_eq!((score, status.as_str(), code), (0, "tampered", Some(1)));
    assert!(
        report["exercises"][0]["detail"]
            .to_string()
            .contains("solutions/01-alpha/src/lib.rs"),
        "{report}"
    );
    put(
        &student,
        LIB,
        "pub fn answer() -> u32 {\n    \
         include_str!(\"/etc/passwd\").len() as u32 * 0 + 42\n}\n",
    );
    let (score, _, status, _, _) = outcome(&lab, &student);
    assert_eq!((score, status.as_str()), (0, "tampered"));

    // A second file of theirs is not taken (student_files names only
    // src/lib.rs): the library that needs it does not compile.
    put(&student, LIB, "mod more;\npub use more::answer;\n");
    put(
        &student,
        "exercises/01-alpha/src/more.rs",
        "pub fn answer() -> u32 {\n    42\n}\n",
    );
    let (_, _, status, _, _) = outcome(&lab, &student);
    assert_eq!(status, "does-not-compile");
}
