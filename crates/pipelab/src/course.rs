//! The course: course.toml read into types, and where everything lives.
//!
//! A lesson NN with slug S has its program in lessons/NN-S, its exercise in
//! exercises/NN-S, its reference solution in solutions/NN-S, and the
//! pristine copy of its exercise (what `reset` restores) in
//! crates/pipelab/pristine/NN-S.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Problem;

/// course.toml, the one list of lessons.
#[derive(Debug, Deserialize)]
pub struct Course {
    pub title: String,
    /// Points for each passing test, unless a lesson sets `points` for its
    /// whole exercise. Default 1.
    pub points_per_test: Option<u32>,
    pub lessons: Vec<Lesson>,
}

/// One `[[lessons]]` block.
#[derive(Debug, Clone, Deserialize)]
pub struct Lesson {
    pub number: u32,
    pub slug: String,
    pub title: String,
    #[serde(rename = "crate")]
    pub package: String,
    #[serde(default)]
    pub programs: Vec<String>,
    pub demo: Option<String>,
    pub exercise: Option<String>,
    pub solution: Option<String>,
    #[serde(default)]
    pub hints: Vec<String>,
    /// Points for the whole exercise, awarded when every test passes.
    pub points: Option<u32>,
    /// The files of the exercise a student completes, relative to its
    /// directory. Grading takes only these from a submission; everything
    /// else (Cargo.toml, tests, the runner) comes from the course's copy.
    #[serde(default = "default_student_files")]
    pub student_files: Vec<String>,
}

fn default_student_files() -> Vec<String> {
    vec!["src/lib.rs".to_string()]
}

impl Lesson {
    /// "01-pipe-fork": the directory name under lessons/, exercises/, solutions/.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// `student_files` as paths, each checked to stay inside the exercise:
    /// a declared `../../course.toml` would hand the student a trusted file.
    pub fn student_paths(&self) -> Result<Vec<PathBuf>, Problem> {
        self.student_files
            .iter()
            .map(|file| {
                let path = PathBuf::from(file);
                let inside = path.components().all(|part| {
                    matches!(part, std::path::Component::Normal(_))
                });
                if inside && !file.is_empty() {
                    Ok(path)
                } else {
                    Err(Problem::fail(format!(
                        "course.toml: lesson {}'s student_files entry {file:?} \
                         must be a path inside the exercise",
                        self.number
                    )))
                }
            })
            .collect()
    }
}

/// The course on disk: its root, its manifest, and where the runner keeps
/// its state.
pub struct Workspace {
    pub root: PathBuf,
    pub course: Course,
    pub state_dir: PathBuf,
}

/// The environment variable that points the runner at a course (tests, and
/// a course kept somewhere other than the current directory).
pub const ROOT_VAR: &str = "PIPELAB_ROOT";
/// The environment variable that moves the runner's state (tests use a
/// private directory each).
pub const STATE_VAR: &str = "PIPELAB_STATE_DIR";
/// The file a handout carries at its root.
pub const HANDOUT_MARKER: &str = "HANDOUT.md";

impl Workspace {
    /// The course around the current directory (or at $PIPELAB_ROOT).
    pub fn find() -> Result<Workspace, Problem> {
        let root = match std::env::var_os(ROOT_VAR) {
            Some(root) => PathBuf::from(root),
            None => find_root().ok_or_else(|| {
                Problem::fail(
                    "no course.toml here or in any parent directory: run cargo lab inside the course",
                )
            })?,
        };
        let root = root.canonicalize().map_err(|error| {
            Problem::fail(format!(
                "cannot open the course at {}: {error}",
                root.display()
            ))
        })?;
        let manifest = root.join("course.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|error| {
            Problem::fail(format!(
                "cannot read {}: {error}",
                manifest.display()
            ))
        })?;
        let course: Course = toml::from_str(&text).map_err(|error| {
            let first = error.to_string();
            let first =
                first.lines().next().unwrap_or("invalid TOML").to_string();
            Problem::fail(format!(
                "{} is not a valid course manifest: {first}",
                manifest.display()
            ))
        })?;
        let state_dir = match std::env::var_os(STATE_VAR) {
            Some(dir) => PathBuf::from(dir),
            None => target_dir(&root).join("pipelab"),
        };
        Ok(Workspace { root, course, state_dir })
    }

    pub fn lesson_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("lessons").join(lesson.dir_name())
    }

    pub fn exercise_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("exercises").join(lesson.dir_name())
    }

    pub fn solution_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("solutions").join(lesson.dir_name())
    }

    pub fn pristine_dir(&self, lesson: &Lesson) -> PathBuf {
        self.root.join("crates/pipelab/pristine").join(lesson.dir_name())
    }

    /// True when the lesson's crate exists (otherwise it is "coming soon").
    pub fn lesson_exists(&self, lesson: &Lesson) -> bool {
        self.lesson_dir(lesson).join("Cargo.toml").is_file()
    }

    /// The lesson's exercise package, if it has one and it exists yet.
    pub fn exercise_of<'a>(&self, lesson: &'a Lesson) -> Option<&'a str> {
        let name = lesson.exercise.as_deref()?;
        self.exercise_dir(lesson).join("Cargo.toml").is_file().then_some(name)
    }

    /// True in a student copy made by `cargo lab handout`.
    pub fn is_handout(&self) -> bool {
        self.root.join(HANDOUT_MARKER).is_file()
            || !self.root.join("solutions").is_dir()
    }

    /// Lesson `arg` given as `1`, `01`, `pipe-fork` or `01-pipe-fork`; an
    /// unknown one is a usage error that lists the valid ones.
    pub fn lesson(&self, arg: &str) -> Result<&Lesson, Problem> {
        let wanted = arg.trim();
        let by_number = wanted.parse::<u32>().ok();
        self.course
            .lessons
            .iter()
            .find(|lesson| {
                Some(lesson.number) == by_number
                    || lesson.slug == wanted
                    || lesson.dir_name() == wanted
            })
            .ok_or_else(|| {
                Problem::usage(format!(
                    "unknown lesson '{arg}': choose one of {}",
                    self.valid_lessons()
                ))
            })
    }

    /// The lessons named in `args`, or every lesson when there are none.
    pub fn lessons_named(
        &self,
        args: &[String],
    ) -> Result<Vec<&Lesson>, Problem> {
        if args.is_empty() {
            return Ok(self.course.lessons.iter().collect());
        }
        args.iter().map(|arg| self.lesson(arg)).collect()
    }

    /// "1 (pipe-fork), 2 (pipe-capacity), ...".
    pub fn valid_lessons(&self) -> String {
        self.course
            .lessons
            .iter()
            .map(|lesson| format!("{} ({})", lesson.number, lesson.slug))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The path a learner would type, relative to the course root.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// The lesson after `lesson` in course order.
    pub fn next_lesson(&self, lesson: &Lesson) -> Option<&Lesson> {
        let lessons = &self.course.lessons;
        let index = lessons.iter().position(|l| l.number == lesson.number)?;
        lessons.get(index + 1)
    }
}

/// The nearest directory, from here up, that holds course.toml.
fn find_root() -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .find(|dir| {
            dir.join("course.toml").is_file()
                && dir.join("Cargo.toml").is_file()
        })
        .map(Path::to_path_buf)
}

/// Where cargo builds: $CARGO_TARGET_DIR, or target/ in the course.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The cargo that runs us (cargo sets $CARGO), or the one on the PATH.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
