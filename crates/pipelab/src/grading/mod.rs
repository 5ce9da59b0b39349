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
use crate::{Problem, fingerprint, ui};
use build::Built;
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
    quiet: bool,
) -> Result<Report, Problem> {
    let mut exercises = Vec::new();
    for lesson in lessons {
        if !quiet {
            ui::progress(&format!("grading exercise {}...", lesson.number));
        }
        let result =
            grade_exercise(workspace, worker, submission, lesson, limit);
        // The next submission must never find this one's files.
        worker.tree.clear(lesson)?;
        exercises.push(result?);
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
        let theirs = submission
            .join("crates/pipelab/pristine")
            .join(lesson.dir_name());
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

fn grade_exercise(
    workspace: &Workspace,
    worker: &Worker,
    submission: &Path,
    lesson: &Lesson,
    limit: Duration,
) -> Result<ExerciseReport, Problem> {
    let shipped = tree::shipped_dir(workspace, lesson);
    let names = test_names(&shipped.join("tests"))?;
    let per_test = workspace.course.points_per_test.unwrap_or(1);
    let package = lesson.exercise.clone().unwrap_or_default();
    let mut report = ExerciseReport {
        number: lesson.number,
        slug: lesson.slug.clone(),
        package: package.clone(),
        status: "failed",
        score: 0,
        max_score: lesson.points.unwrap_or(per_test * names.len() as u32),
        tests_passed: 0,
        tests_total: names.len(),
        tests_modified: false,
        ignored_changes: ignored_changes(lesson, &shipped, submission)?,
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
    };
    report.tests_modified = report
        .ignored_changes
        .iter()
        .any(|file| file.starts_with("tests/"));
    let started = Instant::now();
    let outcome = build_and_run(
        workspace,
        worker,
        submission,
        lesson,
        limit,
        &mut report,
    );
    report.seconds = started.elapsed().as_secs_f64();
    outcome?;
    report.tests_passed = report.tests.iter().filter(|t| t.passed).count();
    let all_pass = !report.tests.is_empty()
        && report.tests_passed == report.tests.len()
        && report.status == "failed";
    if all_pass {
        report.status = "passed";
    }
    report.score = match lesson.points {
        _ if !matches!(report.status, "passed" | "failed" | "timed-out") => 0,
        Some(points) => {
            if all_pass {
                points
            } else {
                0
            }
        }
        None => report.tests.iter().map(|t| t.score).sum(),
    };
    if report.score == 0 {
        for test in &mut report.tests {
            test.score = 0;
        }
    }
    Ok(report)
}

/// Fills `report` in: takes, builds and runs. A status other than "failed"
/// set here is final.
fn build_and_run(
    workspace: &Workspace,
    worker: &Worker,
    submission: &Path,
    lesson: &Lesson,
    limit: Duration,
    report: &mut ExerciseReport,
) -> Result<(), Problem> {
    let per_test = if lesson.points.is_some() {
        0
    } else {
        workspace.course.points_per_test.unwrap_or(1)
    };
    if let Taken::Missing(why) =
        worker.tree.take(workspace, lesson, submission)?
    {
        report.status = "missing";
        report.detail = Some(why);
        return Ok(());
    }
    let dir = worker.tree.exercise_dir(lesson);
    let targets = test_targets(&dir.join("tests"))?;
    let built = build::build(
        &worker.tree.root,
        &worker.target,
        &report.package,
        &dir,
        &targets,
    )?;
    let programs = match built {
        Built::Programs(programs) => programs,
        Built::Failed(error) => {
            report.status = "does-not-compile";
            report.detail = Some(error);
            for test in &mut report.tests {
                test.message = Some("the exercise does not compile".into());
            }
            return Ok(());
        }
    };
    let mut listed = Vec::new();
    for program in &programs.tests {
        for name in run::list(program)? {
            listed.push((program.clone(), name));
        }
    }
    let deadline = Instant::now() + limit;
    let untouched = || programs.all.iter().all(build::Identity::unchanged);
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
        let ran =
            run::run_one(program, full_name, &dir, &report.package, left)?;
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
