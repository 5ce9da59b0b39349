//! What the runner's tests share: a course in a private temporary
//! directory (the tiny one made here, or a handout of the real one) and the
//! built runner pointed at it.
#![allow(dead_code)] // each test program uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use labkit::watchdog::{Finished, run};
use tempfile::TempDir;

pub const PIPELAB: &str = env!("CARGO_BIN_EXE_pipelab");

/// A limit for commands that build nothing.
pub const QUICK: Duration = Duration::from_secs(20);
/// A limit for commands that build a tiny crate, or grade.
pub const BUILDS: Duration = Duration::from_secs(240);

/// A course to run the runner against, and a state directory of its own.
pub struct Lab {
    pub root: PathBuf,
    pub state: TempDir,
    pub target: PathBuf,
    pub _dir: Option<TempDir>,
}

impl Lab {
    /// The tiny course, fresh.
    pub fn tiny() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("course");
        write_tiny_course(&root);
        let target = dir.path().join("target");
        Lab {
            root,
            state: tempfile::tempdir().unwrap(),
            target,
            _dir: Some(dir),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(PIPELAB);
        command.args(args);
        self.environment(&mut command);
        command
    }

    /// Points `command` (the runner, or a shell that starts it) at this lab.
    pub fn environment(&self, command: &mut Command) {
        command
            .env("PIPELAB_ROOT", &self.root)
            .env("PIPELAB_STATE_DIR", self.state.path())
            .env("CARGO_TARGET_DIR", &self.target)
            .env_remove("NO_COLOR");
    }

    /// Runs `cargo lab ARGS`, failing the test if it outlives `limit`.
    pub fn run_within(&self, limit: Duration, args: &[&str]) -> Finished {
        match run(&mut self.command(args), limit) {
            Ok(done) => done,
            Err(error) => panic!("`cargo lab {}`: {error}", args.join(" ")),
        }
    }

    pub fn lab(&self, args: &[&str]) -> Finished {
        self.run_within(QUICK, args)
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

pub const STUB: &str = "//! The tiny exercise.\n\n\
/// Returns the answer.\n\
pub fn answer() -> u32 {\n    // TODO: return 42.\n    todo!(\"answer\")\n}\n";
pub const SOLVED: &str =
    "//! The tiny exercise, solved.\n\npub fn answer() -> u32 {\n    42\n}\n";
pub const TESTS: &str = "#[test]\nfn the_answer_is_42() {\n    assert_eq!(ex01_alpha::answer(), 42, \"answer() must return 42\");\n}\n\n\
#[test]\nfn the_crate_builds() {}\n";

/// One lesson (alpha) with two programs, an exercise, a solution and its
/// pristine copy; a second lesson (beta) that is coming soon.
pub fn write_tiny_course(root: &Path) {
    write(
        &root.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\n\
         members = [\"lessons/*\", \"exercises/*\", \"solutions/*\"]\n\
         default-members = [\"lessons/*\", \"solutions/*\"]\n",
    );
    write(
        &root.join("course.toml"),
        "title = \"Tiny course\"\n\n\
         [[lessons]]\nnumber = 1\nslug = \"alpha\"\ntitle = \"Alpha\"\ncrate = \"lesson01-alpha\"\n\
         programs = [\"alpha-demo\", \"alpha-server\"]\ndemo = \"alpha-demo\"\n\
         exercise = \"ex01-alpha\"\nsolution = \"sol01-alpha\"\n\
         hints = [\"first, vague\", \"second, closer\", \"third, precise\"]\n\n\
         [[lessons]]\nnumber = 2\nslug = \"beta\"\ntitle = \"Beta\"\ncrate = \"lesson02-beta\"\n\
         exercise = \"ex02-beta\"\nsolution = \"sol02-beta\"\nhints = []\n",
    );
    let lesson = root.join("lessons/01-alpha");
    write(
        &lesson.join("Cargo.toml"),
        "[package]\nname = \"lesson01-alpha\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [[bin]]\nname = \"alpha-demo\"\npath = \"src/demo.rs\"\n\n\
         [[bin]]\nname = \"alpha-server\"\npath = \"src/server.rs\"\n",
    );
    // The demo ends as its first argument says: an exit code, or a signal.
    write(
        &lesson.join("src/demo.rs"),
        "fn main() {\n    match std::env::args().nth(1).as_deref() {\n        \
         Some(\"abort\") => std::process::abort(),\n        \
         _ => { println!(\"alpha demo\"); std::process::exit(3) }\n    }\n}\n",
    );
    write(
        &lesson.join("src/server.rs"),
        "fn main() {\n    let args: Vec<String> = std::env::args().skip(1).collect();\n    \
         println!(\"server got {args:?}\");\n}\n",
    );
    let exercise = root.join("exercises/01-alpha");
    write(
        &exercise.join("Cargo.toml"),
        "[package]\nname = \"ex01-alpha\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\nname = \"ex01_alpha\"\n",
    );
    write(&exercise.join("src/lib.rs"), STUB);
    write(&exercise.join("tests/exercise.rs"), TESTS);
    let solution = root.join("solutions/01-alpha");
    write(
        &solution.join("Cargo.toml"),
        "[package]\nname = \"sol01-alpha\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\nname = \"ex01_alpha\"\npath = \"src/lib.rs\"\n\n\
         [[test]]\nname = \"exercise\"\npath = \"../../exercises/01-alpha/tests/exercise.rs\"\n",
    );
    write(&solution.join("src/lib.rs"), SOLVED);
    let pristine = root.join("crates/pipelab/pristine/01-alpha");
    write(
        &pristine.join("Cargo.toml"),
        &fs::read_to_string(exercise.join("Cargo.toml")).unwrap(),
    );
    write(&pristine.join("src/lib.rs"), STUB);
    write(&pristine.join("tests/exercise.rs"), TESTS);
}

/// Parses `grade --format json` and returns (score, max, exercise 1's status).
pub fn grade_json(done: &Finished) -> (u64, u64, String) {
    let report: serde_json::Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|error| panic!("grade JSON: {error}\n{}", done.stdout));
    let exercise = &report["exercises"][0];
    assert_eq!(
        exercise["tests"].as_array().map(Vec::len),
        exercise["tests_total"].as_u64().map(|n| n as usize)
    );
    (
        report["score"].as_u64().unwrap(),
        report["max_score"].as_u64().unwrap(),
        exercise["status"].as_str().unwrap().to_string(),
    )
}

/// Copies the tree at `from` to `to` (files and directories only).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Lab {
    /// A student's copy of this lab's course, in a directory of its own.
    pub fn submission(&self) -> (TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("student");
        copy_tree(&self.root, &copy);
        (dir, copy)
    }

    /// `cargo lab grade --submission DIR --format json --out FILE`, and its
    /// report. The file, as an autograder should: a student's code can
    /// write into the grader's standard output (/proc/PPID/fd/1), but the
    /// report file is opened only once every test has ended.
    pub fn grade(&self, submission: &Path) -> (Finished, serde_json::Value) {
        let out = self.state.path().join("grade.json");
        let _ = fs::remove_file(&out);
        let done = self.run_within(
            BUILDS,
            &[
                "grade",
                "--format",
                "json",
                "--submission",
                submission.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let text = fs::read_to_string(&out).unwrap_or_else(|e| {
            panic!("no report ({e}): {}\n{}", done.stdout, done.stderr)
        });
        let report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("grade JSON: {e}\n{text}"));
        (done, report)
    }
}
