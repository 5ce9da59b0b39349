//! `cargo lab grade-class DIR`: every submission of a class graded as
//! `cargo lab grade --submission` grades one, into one CSV and one JSON.
//!
//! Each submission is graded by a `pipelab grade` process of its own: the
//! runner reaps and kills everything a test leaves behind by looking at its
//! own descendants, which would be the other submissions' tests too if they
//! shared a process. Those processes claim the grading directories in turn
//! (`w0`, `w1`, ...), so `--jobs 2` keeps two trees and two target
//! directories warm and no two submissions ever build in the same one at
//! once. A clone is graded at its last commit before `--deadline`, taken
//! out with `git archive` so that the student's clone is never changed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::course::{ROOT_VAR, STATE_VAR, Workspace};
use crate::{Outcome, Problem, grading, ui};

pub struct Options {
    pub submissions: PathBuf,
    pub deadline: Option<String>,
    pub roster: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub limit: u64,
    pub jobs: Option<usize>,
}

/// One student's line of the class's grades.
#[derive(Serialize)]
struct Row {
    student: String,
    commit: String,
    score: u64,
    max_score: u64,
    /// Points per exercise, in course order ("01-pipe-fork" → points).
    exercises: Vec<(String, u64)>,
    flags: Vec<String>,
    seconds: f64,
    /// The full `grade --format json` report, when there is one.
    report: Option<Value>,
}

pub fn grade_class(workspace: &Workspace, options: &Options) -> Outcome {
    let lessons = grading::exercises(workspace, &[])?;
    if lessons.is_empty() {
        return Err(Problem::fail("there is no exercise to grade"));
    }
    if !options.submissions.is_dir() {
        return Err(Problem::usage(format!(
            "{} is not a directory of submissions",
            options.submissions.display()
        )));
    }
    let dir = options.submissions.canonicalize()?;
    let students = student_dirs(&dir)?;
    let roster = match &options.roster {
        Some(path) => Some(read_roster(path)?),
        None => None,
    };
    let out = match &options.out {
        Some(out) => out.clone(),
        None => dir.parent().unwrap_or(&dir).to_path_buf(),
    };
    fs::create_dir_all(&out).map_err(|error| {
        Problem::fail(format!("cannot create {}: {error}", out.display()))
    })?;
    let scratch = tempfile_dir(workspace)?;
    let jobs = options
        .jobs
        .unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        })
        .max(1);
    let started = Instant::now();
    let queue =
        Mutex::new(students.iter().enumerate().rev().collect::<Vec<_>>());
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(students.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().map(|mut q| q.pop());
                    let Ok(Some((index, (name, path)))) = next else {
                        break;
                    };
                    let row = grade_student(
                        workspace, name, path, options, &scratch, index,
                    );
                    ui::progress(&format!(
                        "{name}: {}/{} ({:.1} s)",
                        row.score, row.max_score, row.seconds
                    ));
                    if let Ok(mut rows) = rows.lock() {
                        rows.push((index, row));
                    }
                }
            });
        }
    });
    let mut rows: Vec<Row> = {
        let mut indexed = rows.into_inner().unwrap_or_default();
        indexed.sort_by_key(|(index, _)| *index);
        indexed.into_iter().map(|(_, row)| row).collect()
    };
    let max = course_max(workspace, &lessons);
    if let Some(roster) = &roster {
        for row in &mut rows {
            if !roster.contains(&row.student) {
                row.flags.push("not on the roster".into());
            }
        }
        for name in roster {
            if !students.iter().any(|(student, _)| student == name) {
                rows.push(Row {
                    student: name.clone(),
                    commit: String::new(),
                    score: 0,
                    max_score: max,
                    exercises: lessons
                        .iter()
                        .map(|l| (l.dir_name(), 0))
                        .collect(),
                    flags: vec!["missing: no submission".into()],
                    seconds: 0.0,
                    report: None,
                });
            }
        }
    }
    let columns: Vec<String> = lessons.iter().map(|l| l.dir_name()).collect();
    let csv_path = out.join("grades.csv");
    let json_path = out.join("grades.json");
    let write = |path: &Path, text: String| {
        fs::write(path, text).map_err(|error| {
            Problem::fail(format!("cannot write {}: {error}", path.display()))
        })
    };
    write(&csv_path, csv(&columns, &rows))?;
    write(
        &json_path,
        serde_json::to_string_pretty(&rows)
            .map_err(|e| Problem::fail(e.to_string()))?
            + "\n",
    )?;
    let _ = fs::remove_dir_all(&scratch);
    println!(
        "Graded {} submissions in {:.1} s ({jobs} at a time): {} and {}",
        rows.iter().filter(|r| r.report.is_some()).count(),
        started.elapsed().as_secs_f64(),
        csv_path.display(),
        json_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The students: every directory in `dir` but hidden ones, by name.
fn student_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, Problem> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.file_type()?.is_dir() {
            found.push((name, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

fn read_roster(path: &Path) -> Result<Vec<String>, Problem> {
    let text = fs::read_to_string(path).map_err(|error| {
        Problem::usage(format!(
            "cannot read the roster {}: {error}",
            path.display()
        ))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// A private scratch directory for the commits taken out of clones.
fn tempfile_dir(workspace: &Workspace) -> Result<PathBuf, Problem> {
    let dir = crate::course::target_dir(&workspace.root)
        .join("pipelab-grade")
        .join(format!("class-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn course_max(
    workspace: &Workspace,
    lessons: &[&crate::course::Lesson],
) -> u64 {
    let per_test = workspace.course.points_per_test.unwrap_or(1);
    lessons
        .iter()
        .map(|lesson| {
            let tests =
                grading::tree::shipped_dir(workspace, lesson).join("tests");
            let count = crate::grade::test_names(&tests).map_or(0, |n| n.len());
            u64::from(lesson.points.unwrap_or(per_test * count as u32))
        })
        .sum()
}

/// Grades one student: picks the commit, grades it in a process of its own.
fn grade_student(
    workspace: &Workspace,
    name: &str,
    path: &Path,
    options: &Options,
    scratch: &Path,
    index: usize,
) -> Row {
    let started = Instant::now();
    let mut row = Row {
        student: name.to_string(),
        commit: String::new(),
        score: 0,
        max_score: course_max(
            workspace,
            &grading::exercises(workspace, &[]).unwrap_or_default(),
        ),
        exercises: Vec::new(),
        flags: Vec::new(),
        seconds: 0.0,
        report: None,
    };
    let own = scratch.join(format!("s{index}"));
    let graded = match snapshot(path, options.deadline.as_deref(), &own) {
        Ok((commit, dir)) => {
            row.commit = commit;
            grade_in_process(workspace, &dir, options.limit, &own)
        }
        Err(why) => Err(why),
    };
    match graded {
        Ok(report) => {
            row.score = report["score"].as_u64().unwrap_or(0);
            row.max_score =
                report["max_score"].as_u64().unwrap_or(row.max_score);
            for e in report["exercises"].as_array().into_iter().flatten() {
                let column = format!(
                    "{:02}-{}",
                    e["number"].as_u64().unwrap_or(0),
                    e["slug"].as_str().unwrap_or("")
                );
                row.exercises
                    .push((column.clone(), e["score"].as_u64().unwrap_or(0)));
                let status = e["status"].as_str().unwrap_or("");
                if status != "passed" && status != "failed" {
                    row.flags.push(format!("{column}: {status}"));
                }
                for file in
                    e["ignored_changes"].as_array().into_iter().flatten()
                {
                    row.flags.push(format!(
                        "{column}: changed {} (ignored)",
                        file.as_str().unwrap_or("?")
                    ));
                }
            }
            for flag in report["flags"].as_array().into_iter().flatten() {
                row.flags.push(flag.as_str().unwrap_or("").to_string());
            }
            row.report = Some(report);
        }
        Err(why) => row.flags.push(why),
    }
    let _ = fs::remove_dir_all(&own);
    row.seconds = started.elapsed().as_secs_f64();
    row
}

/// The files to grade: a clone's commit (the last before `deadline`, or
/// HEAD) written out under `own`, or a plain folder as it is.
fn snapshot(
    path: &Path,
    deadline: Option<&str>,
    own: &Path,
) -> Result<(String, PathBuf), String> {
    if !path.join(".git").exists() {
        return Ok((String::new(), path.to_path_buf()));
    }
    let git = |args: &[&str]| -> Result<String, String> {
        let done = Command::new("git")
            .arg("-C")
            .arg(path)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|error| format!("cannot run git: {error}"))?;
        if !done.status.success() {
            return Err(format!(
                "git {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&done.stderr)
                    .lines()
                    .next()
                    .unwrap_or("failed")
            ));
        }
        Ok(String::from_utf8_lossy(&done.stdout).trim().to_string())
    };
    let commit = match deadline {
        Some(time) => {
            let before = format!("--before={time}");
            git(&["rev-list", "-1", &before, "HEAD"])?
        }
        None => git(&["rev-parse", "HEAD"])?,
    };
    if commit.is_empty() {
        return Err("missing: no commit before the deadline".to_string());
    }
    let tree = own.join("tree");
    fs::create_dir_all(&tree).map_err(|e| e.to_string())?;
    let archive = own.join("commit.tar");
    git(&[
        "archive",
        "--format=tar",
        "-o",
        &archive.to_string_lossy(),
        &commit,
    ])?;
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&tree)
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run tar: {error}"))?;
    if !untar.status.success() {
        return Err(format!(
            "tar: {}",
            String::from_utf8_lossy(&untar.stderr).trim()
        ));
    }
    Ok((commit, tree))
}

/// `pipelab grade --submission DIR --format json`, in a process of its own,
/// bounded by the time every exercise's build and tests could take.
fn grade_in_process(
    workspace: &Workspace,
    submission: &Path,
    limit: u64,
    own: &Path,
) -> Result<Value, String> {
    fs::create_dir_all(own).map_err(|e| e.to_string())?;
    let out = own.join("grade.json");
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command
        .args(["--color", "never", "grade", "--format", "json", "--limit"])
        .arg(limit.to_string())
        .arg("--submission")
        .arg(submission)
        .arg("--out")
        .arg(&out)
        .env(ROOT_VAR, &workspace.root)
        .env(STATE_VAR, own.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let lessons =
        grading::exercises(workspace, &[]).map_or(1, |l| l.len()) as u64;
    let bound = Duration::from_secs(
        lessons * (limit + grading::build::BUILD_LIMIT.as_secs()),
    );
    let done = labkit::watchdog::run(&mut command, bound)
        .map_err(|error| format!("cannot run the grader: {error}"))?;
    match fs::read_to_string(&out) {
        Ok(text) => serde_json::from_str(&text)
            .map_err(|error| format!("unreadable report: {error}")),
        Err(_) => Err(format!(
            "not graded: {}",
            done.stderr.lines().last().unwrap_or("the grader stopped")
        )),
    }
}

/// The class as CSV: student, commit, score, max, one column per exercise,
/// flags, seconds.
fn csv(columns: &[String], rows: &[Row]) -> String {
    let mut out = String::new();
    let mut header = vec![
        "student".to_string(),
        "commit".into(),
        "score".into(),
        "max".into(),
    ];
    header.extend(columns.iter().cloned());
    header.extend(["flags".to_string(), "seconds".into()]);
    out += &line(&header);
    for row in rows {
        let mut fields = vec![
            row.student.clone(),
            row.commit.clone(),
            row.score.to_string(),
            row.max_score.to_string(),
        ];
        for column in columns {
            let points = row
                .exercises
                .iter()
                .find(|(c, _)| c == column)
                .map_or(0, |(_, p)| *p);
            fields.push(points.to_string());
        }
        fields.push(row.flags.join("; "));
        fields.push(format!("{:.1}", row.seconds));
        out += &line(&fields);
    }
    out
}

/// One CSV record (RFC 4180): a field with a comma, quote or line break is
/// quoted, its quotes doubled.
fn line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|field| {
            if field.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", field.replace('"', "\"\""))
            } else {
                field.clone()
            }
        })
        .collect();
    quoted.join(",") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(
            line(&["a".into(), "b, c".into(), "say \"hi\"".into()]),
            "a,\"b, c\",\"say \"\"hi\"\"\"\n"
        );
    }
}
