//! Grading one submission against the course: what `cargo lab grade` and
//! `cargo lab grade-class` share.
//!
//! The course (the copy the runner is started in) is the instructor's and
//! is trusted; a submission is only a directory to take each exercise's
//! `student_files` from ([`tree`]). Each exercise is built alone in a
//! worker's tree ([`build`]), and each of its tests runs in a process of
//! its own, judged by its exit status ([`run`]).

pub mod build;
pub mod run;
pub mod tree;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::course::{Lesson, Workspace, target_dir};
use crate::grade::{ExerciseReport, Report, TestReport, test_names};
use crate::{Problem, fingerprint};
use build::{Built, Package};
use tree::{Taken, Tree};

/// A place to build submissions in, held by one grader at a time: a tree
/// and a target directory kept warm from one submission to the next.
pub struct Worker {
    tree: Tree,
    target: PathBuf,
    _lock: Flock<File>,
}

impl Worker {
    /// The first free worker directory under the course's target directory.
    pub fn claim(workspace: &Workspace) -> Result<Worker, Problem> {
        let base = target_dir(&workspace.root).join("pipelab-grade");
        Worker::claim_in(workspace, &base)
    }

    pub fn claim_in(
        workspace: &Workspace,
        base: &Path,
    ) -> Result<Worker, Problem> {
        fs::create_dir_all(base)?;
        for index in 0..64 {
            let dir = base.join(format!("w{index}"));
            let file = File::create(base.join(format!("w{index}.lock")))?;
            let Ok(lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            else {
                continue; // another grader holds this one
            };
            return Ok(Worker {
                tree: Tree::prepare(workspace, &dir.join("tree"))?,
                target: dir.join("target"),
                _lock: lock,
            });
        }
        Err(Problem::fail(format!(
            "every grading directory under {} is in use",
            base.display()
        )))
    }
}

/// The lessons that have an exercise in the course: all of them count,
/// whatever the submission holds.
pub fn exercises<'a>(
    workspace: &'a Workspace,
    args: &[String],
) -> Result<Vec<&'a Lesson>, Problem> {
    Ok(workspace
        .lessons_named(args)?
        .into_iter()
        .filter(|lesson| {
            lesson.exercise.is_some()
                && tree::shipped_dir(workspace, lesson)
                    .join("Cargo.toml")
                    .is_file()
        })
        .collect())
}

/// Grades `submission` (a course directory) on `lessons`, each exercise's
/// tests bounded by `limit` in all.
pub fn grade(
    workspace: &Workspace,
    worker: &Worker,
    submission: &Path,
    lessons: &[&Lesson],
    limit: Duration,
) -> Result<Report, Problem> {
    let mut exercises = lessons
        .iter()
        .map(|lesson| blank(workspace, lesson, submission))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = grade_all(
        workspace,
        worker,
        submission,
        lessons,
        limit,
        &mut exercises,
    );
    // The next submission must never find this one's files.
    for lesson in lessons {
        worker.tree.clear(lesson)?;
    }
    outcome?;
    for (lesson, report) in lessons.iter().zip(&mut exercises) {
        score(lesson, report);
    }
    let mut flags = Vec::new();
    // Only what the submission holds and changed: a folder of exercises
    // alone has no course.toml to flag.
    let changed = |relative: &str| {
        fs::read(submission.join(relative)).is_ok_and(|theirs| {
            fs::read(workspace.root.join(relative)).ok() != Some(theirs)
        })
    };
    if changed("course.toml") {
        flags.push("course.toml differs from the course's (ignored)".into());
    }
    for lesson in lessons {
        let theirs =
            submission.join("crates/pipelab/pristine").join(lesson.dir_name());
        if theirs.is_dir()
            && fingerprint::tree(&theirs)?
                != fingerprint::tree(&workspace.pristine_dir(lesson))?
        {
            flags.push(format!(
                "pristine copy of exercise {} differs (ignored)",
                lesson.number
            ));
        }
    }
    Ok(Report {
        course: workspace.course.title.clone(),
        score: exercises.iter().map(|e| e.score).sum(),
        max_score: exercises.iter().map(|e| e.max_score).sum(),
        flags,
        exercises,
    })
}

/// An exercise's report before anything ran: every test of the course's
/// copy, failed, and the most it can earn.
fn blank(
    workspace: &Workspace,
    lesson: &Lesson,
    submission: &Path,
) -> Result<ExerciseReport, Problem> {
    let shipped = tree::shipped_dir(workspace, lesson);
    let names = test_names(&shipped.join("tests"))?;
    let per_test = workspace.course.points_per_test.unwrap_or(1);
    let ignored_changes = ignored_changes(lesson, &shipped, submission)?;
    Ok(ExerciseReport {
        number: lesson.number,
        slug: lesson.slug.clone(),
        package: lesson.exercise.clone().unwrap_or_default(),
        status: "failed",
        score: 0,
        max_score: lesson.points.unwrap_or(per_test * names.len() as u32),
        tests_passed: 0,
        tests_total: names.len(),
        tests_modified: ignored_changes.iter().any(|f| f.starts_with("tests/")),
        ignored_changes,
        detail: None,
        seconds: 0.0,
        tests: names
            .iter()
            .map(|name| TestReport {
                name: name.clone(),
                passed: false,
                score: 0,
                message: None,
                seconds: 0.0,
            })
            .collect(),
    })
}

/// The points: per test, or all or nothing with `points`; nothing at all
/// for an exercise that is missing, did not compile or tampered.
fn score(lesson: &Lesson, report: &mut ExerciseReport) {
    report.tests_passed = report.tests.iter().filter(|t| t.passed).count();
    let all_pass =
        !report.tests.is_empty() && report.tests_passed == report.tests.len();
    if all_pass && report.status == "failed" {
        report.status = "passed";
    }
    report.score = match (report.status, lesson.points) {
        ("passed", Some(points)) => points,
        ("passed" | "failed" | "timed-out", None) => {
            report.tests.iter().map(|t| t.score).sum()
        }
        _ => 0,
    };
    if report.score == 0 {
        for test in &mut report.tests {
            test.score = 0;
        }
    }
}

/// Takes, builds and runs every exercise. A status other than "failed"
/// set here is final.
fn grade_all(
    workspace: &Workspace,
    worker: &Worker,
    submission: &Path,
    lessons: &[&Lesson],
    limit: Duration,
    reports: &mut [ExerciseReport],
) -> Result<(), Problem> {
    // Exercises with the same test targets build in one cargo run.
    let mut groups: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (index, lesson) in lessons.iter().enumerate() {
        if let Taken::Missing(why) =
            worker.tree.take(workspace, lesson, submission)?
        {
            reports[index].status = "missing";
            reports[index].detail = Some(why);
            continue;
        }
        let tests = worker.tree.exercise_dir(lesson).join("tests");
        let targets = test_targets(&tests)?;
        match groups.iter_mut().find(|(t, _)| *t == targets) {
            Some((_, members)) => members.push(index),
            None => groups.push((targets, vec![index])),
        }
    }
    let mut built = Vec::new();
    for (targets, members) in groups {
        let started = Instant::now();
        let packages: Vec<Package> = members
            .iter()
            .map(|&index| Package {
                name: reports[index].package.clone(),
                dir: worker.tree.exercise_dir(lessons[index]),
            })
            .collect();
        let outcome = build::build(
            &worker.tree.root,
            &worker.target,
            &packages,
            &targets,
        )?;
        let share = started.elapsed().as_secs_f64() / members.len() as f64;
        for (index, outcome) in members.into_iter().zip(outcome) {
            let report = &mut reports[index];
            report.seconds += share;
            match outcome {
                Built::Programs(programs) => {
                    let dir = worker.tree.exercise_dir(lessons[index]);
                    match outside(&worker.tree.root, &dir, &programs) {
                        Some(file) => {
                            report.status = "tampered";
                            report.detail = Some(format!(
                                "the exercise's code reads {}, outside the \
                                 exercise (include! or #[path]): not graded",
                                file.display()
                            ));
                        }
                        None => built.push((index, programs)),
                    }
                }
                Built::Failed(error) => {
                    report.status = "does-not-compile";
                    report.detail = Some(error);
                    for test in &mut report.tests {
                        test.message =
                            Some("the exercise does not compile".into());
                    }
                }
            }
        }
    }
    // Any exercise's code could rewrite any program built here.
    let every: Vec<build::Identity> = built
        .iter()
        .flat_map(|(_, programs)| programs.all.iter().cloned())
        .collect();
    for (index, programs) in &built {
        let started = Instant::now();
        let dir = worker.tree.exercise_dir(lessons[*index]);
        run_tests(
            &programs.tests,
            &every,
            &dir,
            limit,
            lessons[*index],
            workspace,
            &mut reports[*index],
        )?;
        reports[*index].seconds += started.elapsed().as_secs_f64();
    }
    Ok(())
}

/// The first source file the build read from outside the exercise's own
/// directory, if any.
fn outside(
    tree: &Path,
    dir: &Path,
    programs: &build::Programs,
) -> Option<PathBuf> {
    let dir = dir.canonicalize().ok()?;
    build::sources_read(tree, &programs.outputs).into_iter().find(|file| {
        !file.canonicalize().is_ok_and(|real| real.starts_with(&dir))
    })
}

/// Runs each of the report's tests alone, within one `limit` for all.
fn run_tests(
    programs: &[PathBuf],
    every: &[build::Identity],
    dir: &Path,
    limit: Duration,
    lesson: &Lesson,
    workspace: &Workspace,
    report: &mut ExerciseReport,
) -> Result<(), Problem> {
    let per_test = if lesson.points.is_some() {
        0
    } else {
        workspace.course.points_per_test.unwrap_or(1)
    };
    let mut listed = Vec::new();
    for program in programs {
        for name in run::list(program)? {
            listed.push((program.clone(), name));
        }
    }
    let deadline = Instant::now() + limit;
    let untouched = || every.iter().all(build::Identity::unchanged);
    for test in &mut report.tests {
        let Some((program, full_name)) =
            listed.iter().find(|(_, n)| same_test(n, &test.name))
        else {
            test.message =
                Some("this test is not in the built test program".into());
            continue;
        };
        if !untouched() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            report.status = "timed-out";
            test.message = Some(format!(
                "not run: the exercise's time limit ({} s) was used up",
                limit.as_secs()
            ));
            continue;
        }
        let ran = run::run_one(program, full_name, dir, &report.package, left)?;
        test.passed = ran.passed;
        test.score = if ran.passed { per_test } else { 0 };
        test.message = ran.message;
        test.seconds = ran.seconds;
        if ran.timed_out {
            report.status = "timed-out";
            report.detail = Some(format!(
                "the tests were still running after {} s and were stopped",
                limit.as_secs()
            ));
        }
    }
    if !untouched() {
        report.status = "tampered";
        report.detail = Some(
            "a built program was changed while the tests ran: the exercise's \
             code rewrote the runner or a test program"
                .into(),
        );
    }
    Ok(())
}

/// The submission's files of `lesson` that grading did not take: changed or
/// added outside `student_files`, shown to the instructor, never built.
fn ignored_changes(
    lesson: &Lesson,
    shipped: &Path,
    submission: &Path,
) -> Result<Vec<String>, Problem> {
    let theirs = submission.join("exercises").join(lesson.dir_name());
    let taken = lesson.student_paths()?;
    let mut changed = Vec::new();
    for relative in fingerprint::files(&theirs)? {
        if taken.contains(&relative) {
            continue;
        }
        if fs::read(theirs.join(&relative)).ok()
            != fs::read(shipped.join(&relative)).ok()
        {
            changed.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(changed)
}

/// The course's test targets: the stems of its tests/*.rs files.
fn test_targets(tests: &Path) -> Result<Vec<String>, Problem> {
    let mut targets: Vec<String> = fs::read_dir(tests)?
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "rs" && path.is_file())
                .then(|| path.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    targets.sort();
    Ok(targets)
}

/// libtest names a test by its module path; the source gives the bare name.
pub fn same_test(run_name: &str, source_name: &str) -> bool {
    run_name == source_name || run_name.ends_with(&format!("::{source_name}"))
}
