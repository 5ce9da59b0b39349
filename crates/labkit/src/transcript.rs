//! Transcripts: the book's "what you will see" blocks, generated from the
//! real programs and checked so that they cannot drift.
//!
//! A lesson declares its transcripts in its `[[lessons]]` block of
//! course.toml:
//!
//! ```toml
//! [[lessons.transcripts]]
//! name = "keep-write-end"     # stored as
//! book/src/transcripts/01-pipe-fork-keep-write-end.txt
//! program = "pipe-fork"       # optional: the lesson's demo program by default
//! args = ["--keep-write-end"]
//! ```
//!
//! Two programs that talk, as in two terminals, are two transcripts, the
//! first naming the second in `beside`: both run in one fresh directory
//! (their working directory), with the FIFOs listed made there first (mode
//! 0600), and the second starts once the first has printed a line holding
//! `when`:
//!
//! ```toml
//! [[lessons.transcripts]]
//! name = "client"
//! program = "fifo-client"
//! args = ["--path", "myfifo"]
//! beside = { transcript = "server", when = "waits", fifos = ["myfifo"] }
//! ```
//!
//! and its `tests/transcripts.rs` makes the one call [`check_lesson`]. That
//! runs each program with `--color never` and the args, turns what varies
//! from run to run into placeholders ([`normalise`]), and compares the result
//! with the stored file. A difference fails the test with the command that
//! regenerates the files:
//! `PIPELAB_UPDATE_TRANSCRIPTS=1 cargo test -p <lesson crate> --test
//! transcripts`.
//!
//! What varies, and what it becomes:
//! - process ids after `pid`, `child`, `process` or in `Pid(...)`, and every
//!   later use of the same number: `<pid1>`, `<pid2>`, ... in order of
//!   appearance, so a reader still sees which process is which;
//! - durations, a number before `s`, `ms`, `us`, `µs` or `ns`: under 1 ms,
//!   `< 1 ms`; under 0.2 s, `< 0.2 s` (these only say "at once", and a
//!   loaded machine may double them); longer ones, the times a lesson is
//!   about, rounded to 0.1 s in the program's own unit (`t=1.072 s` shows
//!   as `t=1.1 s`, `200 ms` stays). A rerun agrees with the book when every
//!   such time is within 0.1 s plus a tenth of the book's, and every short
//!   one is short ([`agrees`]): a half-second sleep must still take about
//!   half a second, and a fork may take twice as long on a loaded machine;
//! - paths in the temporary directory (`/tmp/.tmpAbC123`): `<tmpdir>`;
//! - file descriptor numbers vary only with what the program inherits, so
//!   the program is started with every inherited descriptor above 2 closed:
//!   its pipes get the numbers a learner sees in a terminal (3, 4, ...).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use nix::sys::stat::Mode;
use serde::Deserialize;

use crate::watchdog::{self, Background};

/// The environment variable that turns a check into a regeneration.
pub const UPDATE_VAR: &str = "PIPELAB_UPDATE_TRANSCRIPTS";

/// How long one transcripted run may take before it counts as a hang.
const LIMIT: Duration = Duration::from_secs(60);

/// The parts of course.toml that transcripts need.
#[derive(Debug, Deserialize)]
pub struct Course {
    pub lessons: Vec<Lesson>,
}

/// One `[[lessons]]` block (the fields transcripts need).
#[derive(Debug, Deserialize)]
pub struct Lesson {
    pub number: u32,
    pub slug: String,
    #[serde(rename = "crate")]
    pub krate: String,
    #[serde(default)]
    pub programs: Vec<String>,
    pub demo: Option<String>,
    #[serde(default)]
    pub transcripts: Vec<Transcript>,
}

/// One `[[lessons.transcripts]]` entry.
#[derive(Debug, Deserialize)]
pub struct Transcript {
    pub name: String,
    pub program: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// The transcript whose program runs at the same time, started second.
    #[serde(default)]
    pub beside: Option<Beside>,
}

/// How two transcripts run together (see the module's documentation).
#[derive(Debug, Deserialize)]
pub struct Beside {
    /// The name of the transcript started second.
    pub transcript: String,
    /// What a line of the first program's output holds when the second
    /// may start.
    pub when: String,
    /// FIFOs made (mode 0600) in the shared directory before either starts.
    #[serde(default)]
    pub fifos: Vec<String>,
}

impl Lesson {
    /// `01-pipe-fork`: the lesson's directory, chapter and transcript prefix.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.slug)
    }

    /// The program a transcript runs: its own, or the lesson's demo.
    pub fn program_of<'a>(
        &'a self,
        transcript: &'a Transcript,
    ) -> Option<&'a str> {
        transcript
            .program
            .as_deref()
            .or(self.demo.as_deref())
            .or(self.programs.first().map(String::as_str))
    }

    /// Where the book keeps `transcript`, relative to the workspace.
    pub fn transcript_path(&self, transcript: &Transcript) -> PathBuf {
        PathBuf::from("book/src/transcripts").join(format!(
            "{}-{}.txt",
            self.dir_name(),
            transcript.name
        ))
    }

    /// The command a learner types to see what `transcript` shows.
    pub fn command_line(&self, transcript: &Transcript) -> String {
        self.command_words(transcript).join(" ")
    }

    /// The words of [`Lesson::command_line`], each quoted for the shell.
    fn command_words(&self, transcript: &Transcript) -> Vec<String> {
        let mut words = vec![format!("cargo lab run {}", self.number)];
        let program = self.program_of(transcript);
        if program.is_some() && program != self.demo.as_deref() {
            words.push(program.unwrap_or_default().to_string());
        }
        if !transcript.args.is_empty() {
            words.push("--".to_string());
            words.extend(transcript.args.iter().map(|arg| shell_quote(arg)));
        }
        words
    }

    /// The transcript's first line, `$ COMMAND`, continued on further
    /// lines with a backslash where it would pass 80 columns, as a shell
    /// would take it.
    pub fn shown_command(&self, transcript: &Transcript) -> String {
        let mut lines = vec!["$".to_string()];
        for word in self.command_words(transcript) {
            let last = lines.last_mut().expect("a line");
            if last.len() + 1 + word.len() + 2 > 80 && last.len() > 4 {
                last.push_str(" \\");
                lines.push(format!("    {word}"));
            } else {
                last.push(' ');
                last.push_str(&word);
            }
        }
        lines.join("\n")
    }
}

/// Reads course.toml from the workspace `root`.
pub fn read_course(root: &Path) -> Result<Course, String> {
    let path = root.join("course.toml");
    let text = fs::read_to_string(&path)
        .map_err(|error| format!("{}: {error}", path.display()))?;
    toml::from_str(&text)
        .map_err(|error| format!("{}: {error}", path.display()))
}

/// Checks (or, with `PIPELAB_UPDATE_TRANSCRIPTS=1`, rewrites) every
/// transcript of the lesson whose crate is in `lesson_dir`. Call it from the
/// lesson's `tests/transcripts.rs` with `env!("CARGO_MANIFEST_DIR")`.
///
/// Panics, as a failing test, with a message naming the lesson, each stale
/// transcript and the command that regenerates them.
pub fn check_lesson(lesson_dir: &str) {
    if let Err(message) =
        check_lesson_at(Path::new(lesson_dir), &programs_dir())
    {
        panic!("{message}");
    }
}

/// [`check_lesson`], with the directory holding the built programs given.
pub fn check_lesson_at(
    lesson_dir: &Path,
    programs: &Path,
) -> Result<(), String> {
    let root = lesson_dir.join("../..");
    let course = read_course(&root)?;
    let dir_name = lesson_dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lesson = course
        .lessons
        .iter()
        .find(|lesson| lesson.dir_name() == dir_name)
        .ok_or_else(|| {
            format!("course.toml has no lesson for lessons/{dir_name}")
        })?;
    let regenerate = format!(
        "{UPDATE_VAR}=1 cargo test -p {} --test transcripts",
        lesson.krate
    );
    if lesson.transcripts.is_empty() {
        return Err(format!(
            "lesson {:02} ({}) declares no [[lessons.transcripts]] in \
             course.toml: add one per \"what you will see\" block of its \
             chapter, then run `{regenerate}`",
            lesson.number, lesson.slug
        ));
    }
    let updating = std::env::var_os(UPDATE_VAR)
        .is_some_and(|value| !value.is_empty() && value != "0");

    let mut stale = Vec::new();
    let mut together = record_pairs(lesson, programs)?;
    for transcript in &lesson.transcripts {
        let program = lesson.program_of(transcript).ok_or_else(|| {
            format!(
                "lesson {:02}: transcript {:?} names no program",
                lesson.number, transcript.name
            )
        })?;
        let actual = match together.remove(&transcript.name) {
            Some(actual) => actual,
            None => record(lesson, transcript, &programs.join(program))?,
        };
        let path = root.join(lesson.transcript_path(transcript));
        let stored = fs::read_to_string(&path).unwrap_or_default();
        // A rerun on a loaded machine may round a time differently: it
        // still says what the book says, and the book is left as it is.
        if agrees(&stored, &actual) {
            continue;
        }
        if updating {
            fs::write(&path, &actual)
                .map_err(|error| format!("{}: {error}", path.display()))?;
            eprintln!("wrote {}", lesson.transcript_path(transcript).display());
        } else {
            stale.push(format!(
                "{} (`{}`):\n{}",
                lesson.transcript_path(transcript).display(),
                lesson.command_line(transcript),
                difference(&stored, &actual)
            ));
        }
    }
    stale.extend(orphans(&root, lesson, updating)?);
    if stale.is_empty() {
        return Ok(());
    }
    Err(format!(
        "lesson {:02} ({}): the book's transcripts no longer match the \
         program.\n\
         \n\
         {}\n\
         \n\
         If the new output is right, regenerate the transcripts and review the \
         diff:\n\
             {regenerate}",
        lesson.number,
        lesson.slug,
        stale.join("\n\n")
    ))
}

/// Stored transcripts of `lesson` that course.toml no longer declares; with
/// `updating`, they are removed instead.
fn orphans(
    root: &Path,
    lesson: &Lesson,
    updating: bool,
) -> Result<Vec<String>, String> {
    let dir = root.join("book/src/transcripts");
    let declared: Vec<PathBuf> = lesson
        .transcripts
        .iter()
        .map(|transcript| root.join(lesson.transcript_path(transcript)))
        .collect();
    let prefix = format!("{}-", lesson.dir_name());
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?
    {
        let path = entry.map_err(|error| error.to_string())?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with(&prefix)
            && name.ends_with(".txt")
            && !declared.contains(&path)
        {
            if updating {
                fs::remove_file(&path)
                    .map_err(|error| format!("{}: {error}", path.display()))?;
                eprintln!("removed {}", path.display());
            } else {
                found.push(format!(
                    "book/src/transcripts/{name}: not declared in course.toml \
                     any more"
                ));
            }
        }
    }
    Ok(found)
}

/// Runs one transcript's program and renders what a learner would see: the
/// command, the output (stdout, then stderr), and the status if not 0.
pub fn record(
    lesson: &Lesson,
    transcript: &Transcript,
    program: &Path,
) -> Result<String, String> {
    let mut command = command_for(lesson, transcript, program)?;
    let done = watchdog::run(&mut command, LIMIT).map_err(|error| {
        format!(
            "lesson {:02}, transcript {:?}: {error}",
            lesson.number, transcript.name
        )
    })?;
    Ok(render(lesson, transcript, &done.stdout, &done.stderr, done.status))
}

/// The command that runs `transcript`'s program as a learner would see it.
fn command_for(
    lesson: &Lesson,
    transcript: &Transcript,
    program: &Path,
) -> Result<Command, String> {
    if !program.is_file() {
        return Err(format!(
            "lesson {:02}: no program at {} (is {:?} a [[bin]] of {}?)",
            lesson.number,
            program.display(),
            program.file_name().unwrap_or_default(),
            lesson.krate
        ));
    }
    let mut command = Command::new(program);
    command
        .arg("--color")
        .arg("never")
        .args(&transcript.args)
        .env("NO_COLOR", "1");
    inherit_only_standard_descriptors(&mut command);
    Ok(command)
}

/// Records each pair of transcripts that run together (`beside`): what
/// each shows, by name.
fn record_pairs(
    lesson: &Lesson,
    programs: &Path,
) -> Result<HashMap<String, String>, String> {
    let mut recorded = HashMap::new();
    for first in &lesson.transcripts {
        let Some(beside) = &first.beside else { continue };
        let second = lesson
            .transcripts
            .iter()
            .find(|second| second.name == beside.transcript)
            .ok_or_else(|| {
                format!(
                    "lesson {:02}: transcript {:?} runs beside {:?}, which \
                     course.toml does not declare",
                    lesson.number, first.name, beside.transcript
                )
            })?;
        let program = |transcript: &Transcript| {
            programs.join(lesson.program_of(transcript).unwrap_or_default())
        };
        let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
        for fifo in &beside.fifos {
            let mode = Mode::S_IRUSR | Mode::S_IWUSR;
            nix::unistd::mkfifo(&dir.path().join(fifo), mode)
                .map_err(|errno| format!("mkfifo {fifo}: {errno}"))?;
        }
        let mut command = command_for(lesson, first, &program(first))?;
        let mut running =
            Background::start(command.current_dir(dir.path()), LIMIT);
        running.wait_for(&beside.when);
        let mut command = command_for(lesson, second, &program(second))?;
        let later = Background::start(command.current_dir(dir.path()), LIMIT);
        for (transcript, started) in [(second, later), (first, running)] {
            let (status, stdout, stderr) = started.finish();
            let stdout = if stdout.is_empty() { stdout } else { stdout + "\n" };
            let shown = render(lesson, transcript, &stdout, &stderr, status);
            recorded.insert(transcript.name.clone(), shown);
        }
    }
    Ok(recorded)
}

/// What a learner sees of one run: the command, the output (stdout, then
/// stderr), and the status if not 0, with what varies normalised.
fn render(
    lesson: &Lesson,
    transcript: &Transcript,
    stdout: &str,
    stderr: &str,
    status: ExitStatus,
) -> String {
    let mut shown = format!("{}\n", lesson.shown_command(transcript));
    shown.push_str(stdout);
    shown.push_str(stderr);
    if !shown.ends_with('\n') {
        shown.push('\n');
    }
    match (status.code(), status.signal()) {
        (Some(0), _) => {}
        (Some(code), _) => {
            writeln!(shown, "(exit status {code})").unwrap_or_default()
        }
        (None, Some(signal)) => {
            writeln!(shown, "(killed by signal {signal})").unwrap_or_default()
        }
        (None, None) => {}
    }
    let temp = std::env::temp_dir();
    normalise(&shown, &temp.to_string_lossy())
}

/// Marks every descriptor above 2 close-on-exec in the child before it
/// execs, so the program starts with stdin, stdout and stderr only, as in a
/// terminal, whatever the test harness (or cargo's jobserver) left open.
fn inherit_only_standard_descriptors(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec, and makes
    // only raw system calls (close_range, fcntl), which are async-signal-safe,
    // allocate nothing and touch no memory of the parent's.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(|| {
            #[cfg(target_os = "linux")]
            {
                // Linux 5.11+: one call. Close-on-exec rather than close, so
                // that std's own exec-error pipe still works until exec.
                let all = libc::syscall(
                    libc::SYS_close_range,
                    3u32,
                    u32::MAX,
                    libc::CLOSE_RANGE_CLOEXEC,
                );
                if all == 0 {
                    return Ok(());
                }
            }
            for fd in 3..1024 {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            Ok(())
        });
    }
}

/// Replaces what varies from run to run (see the module's documentation).
/// `temp_dir` is the system's temporary directory, usually `/tmp`.
pub fn normalise(text: &str, temp_dir: &str) -> String {
    let text = temp_paths(text, temp_dir.trim_end_matches('/'));
    let text = durations(&text);
    pids(&text)
}

/// `/tmp/.tmpAbC123/fifo` becomes `<tmpdir>/fifo`.
fn temp_paths(text: &str, temp_dir: &str) -> String {
    if temp_dir.is_empty() {
        return text.to_string();
    }
    let prefix = format!("{temp_dir}/");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let end = after
            .find(|c: char| {
                c == '/' || c.is_whitespace() || "\"'`),:;]".contains(c)
            })
            .unwrap_or(after.len());
        out.push_str("<tmpdir>");
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// How a time's magnitude shows in a transcript. A time that teaches
/// something (a half-second sleep, a two-second wait) is long, and load
/// stretches it by a little: rounded to a tenth of a second it still reads
/// the same. A time that only says "at once" is short, and load may double
/// it: a bucket far above it keeps it the same.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shown {
    /// Under 1 ms: a system call that returned at once, CPU time of a sleep.
    UnderAMillisecond,
    /// Under 0.2 s: startup, a fork, a loop of small writes.
    UnderAFifth,
    /// 0.2 s or more: rounded to 0.1 s, in the program's own unit.
    Rounded(f64),
}

/// Times shorter than this are incidental: they show as "< 0.2 s".
const INCIDENTAL: f64 = 0.2;

/// The resolution, in seconds, of a time that is shown.
const RESOLUTION: f64 = 0.1;

/// Two shown times agree when they differ by at most this much plus
/// [`RELATIVE_SLACK`] of the book's value: room for scheduling delays on
/// a loaded machine, not for a half-second sleep turning into 0.3 s.
const ABSOLUTE_SLACK: f64 = 0.1;
const RELATIVE_SLACK: f64 = 0.1;

/// A duration found in a text: where its number starts and ends, how many
/// decimals it was written with, its unit, and whether it is a bucket
/// (`< 1 ms`, `< 0.2 s`: a time [`normalise`] has already shown as short).
struct Time {
    start: usize,
    end: usize,
    value: f64,
    decimals: usize,
    unit: &'static str,
    bucket: bool,
}

/// Every unit a duration may be written in, with its seconds and its
/// [`RESOLUTION`] written in it (exact, where a division would not be).
const UNITS: [(&str, f64, f64); 5] = [
    ("ms", 1e-3, 100.0),
    ("us", 1e-6, 1e5),
    ("µs", 1e-6, 1e5),
    ("ns", 1e-9, 1e8),
    ("s", 1.0, RESOLUTION),
];

fn unit_entry(unit: &str) -> (f64, f64) {
    UNITS
        .iter()
        .find(|(name, ..)| *name == unit)
        .map_or((1.0, RESOLUTION), |&(_, seconds, step)| (seconds, step))
}

impl Time {
    fn seconds(&self) -> f64 {
        self.value * unit_entry(self.unit).0
    }

    fn shown(&self) -> Shown {
        let seconds = self.seconds();
        if seconds < 1e-3 {
            Shown::UnderAMillisecond
        } else if seconds < INCIDENTAL {
            Shown::UnderAFifth
        } else {
            let step = unit_entry(self.unit).1;
            // A hair above a half rounds up, whatever binary 0.1 is.
            Shown::Rounded((self.value / step + 1e-9).round() * step)
        }
    }

    /// The duration as a transcript shows it: `1.072 s` becomes `1.1 s`,
    /// `200 ms` stays, `0.054 s` becomes `< 0.2 s`, `35µs` `< 1 ms`.
    fn render(&self) -> String {
        match self.shown() {
            Shown::UnderAMillisecond => "< 1 ms".to_string(),
            Shown::UnderAFifth => "< 0.2 s".to_string(),
            Shown::Rounded(value) => {
                let step = unit_entry(self.unit).1;
                let step_decimals = (-step.log10()).ceil().max(0.0) as usize;
                let decimals = self.decimals.min(step_decimals);
                format!("{value:.decimals$} {}", self.unit)
            }
        }
    }
}

/// Every duration in `text`: a number followed by `s`, `ms`, `us`, `µs` or
/// `ns` (with or without a space), not part of a longer word or number.
fn find_durations(text: &str) -> Vec<Time> {
    let mut found = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut index = 0;
    while index < chars.len() {
        let (at, c) = chars[index];
        let starts_number = c.is_ascii_digit()
            && (index == 0
                || !is_word(chars[index - 1].1) && chars[index - 1].1 != '.');
        if !starts_number {
            index += 1;
            continue;
        }
        let mut end = index;
        while end < chars.len()
            && (chars[end].1.is_ascii_digit() || chars[end].1 == '.')
        {
            end += 1;
        }
        index = end;
        let number_end = chars.get(end).map_or(text.len(), |&(at, _)| at);
        let number = &text[at..number_end];
        let after = &text[number_end..];
        let spaced = after.strip_prefix(' ').unwrap_or(after);
        let unit = UNITS.iter().map(|(unit, ..)| *unit).find(|unit| {
            spaced
                .strip_prefix(unit)
                .is_some_and(|tail| !tail.starts_with(is_word))
        });
        let (Some(unit), Ok(value)) = (unit, number.parse::<f64>()) else {
            continue;
        };
        if number.ends_with('.') {
            continue;
        }
        let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
        let end = number_end + (after.len() - spaced.len()) + unit.len();
        let bucket = text[..at].ends_with("< ");
        found.push(Time { start: at, end, value, decimals, unit, bucket });
    }
    found
}

/// Every duration rewritten as a transcript shows it ([`Time::render`]).
fn durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for duration in find_durations(text) {
        out.push_str(&text[copied..duration.start]);
        out.push_str(&duration.render());
        copied = duration.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether a freshly recorded (normalised) transcript says what the stored
/// one says: the same text, and every shown time within the slack of the
/// book's. A short time agrees with any other short time: a call that took
/// 0.4 ms may take 2 ms on a loaded machine, and it still came "at once".
pub fn agrees(stored: &str, actual: &str) -> bool {
    let (book, now) = (find_durations(stored), find_durations(actual));
    if book.len() != now.len() {
        return false;
    }
    let strip = |text: &str, found: &[Time]| {
        let mut out = String::new();
        let mut copied = 0;
        for time in found {
            // A bucket's "< " is part of the time, not of the text around it.
            let start = if time.bucket { time.start - 2 } else { time.start };
            out.push_str(&text[copied..start]);
            out.push_str("<time>");
            copied = time.end;
        }
        out.push_str(&text[copied..]);
        out
    };
    if strip(stored, &book) != strip(actual, &now) {
        return false;
    }
    book.iter().zip(&now).all(|(book, now)| match (book.bucket, now.bucket) {
        (true, true) => true,
        (false, false) => {
            let (b, n) = (book.seconds(), now.seconds());
            (b - n).abs() <= ABSOLUTE_SLACK + RELATIVE_SLACK * b + 1e-9
        }
        _ => false,
    })
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Finds process ids by the words before them, then replaces every use of
/// each, numbered in order of first appearance.
fn pids(text: &str) -> String {
    const BEFORE: [&str; 4] = ["pid", "pids", "child", "process"];
    let mut names: HashMap<String, String> = HashMap::new();
    let mut order = 0;
    let mut previous = String::new();
    for word in text.split(|c: char| c.is_whitespace() || c == '=') {
        let digits: String = word
            .trim_start_matches("Pid(")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let after_keyword =
            BEFORE.contains(&previous.as_str()) || word.starts_with("Pid(");
        if after_keyword && digits.len() >= 3 && !names.contains_key(&digits) {
            order += 1;
            names.insert(digits, format!("<pid{order}>"));
        }
        previous =
            word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    }
    if names.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut number = String::new();
    let mut previous_char = ' ';
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() && (!number.is_empty() || !is_word(previous_char))
        {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            match names.get(&number) {
                Some(name) if !is_word(c) => out.push_str(name),
                _ => out.push_str(&number),
            }
            number.clear();
        }
        if c != '\0' {
            out.push(c);
        }
        previous_char = c;
    }
    out
}

/// A short account of how `actual` differs from `stored`: the first lines
/// that differ, with their numbers.
fn difference(stored: &str, actual: &str) -> String {
    if stored.is_empty() {
        return "    the book has no such transcript yet".to_string();
    }
    let stored_lines: Vec<&str> = stored.lines().collect();
    let actual_lines: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    let mut shown = 0;
    for line in 0..stored_lines.len().max(actual_lines.len()) {
        let (book, now) = (stored_lines.get(line), actual_lines.get(line));
        if book == now {
            continue;
        }
        let _ = writeln!(out, "    line {}:", line + 1);
        let _ = writeln!(
            out,
            "      book: {}",
            book.copied().unwrap_or("(nothing)")
        );
        let _ = writeln!(
            out,
            "      now:  {}",
            now.copied().unwrap_or("(nothing)")
        );
        shown += 1;
        if shown == 3 {
            let _ = writeln!(out, "    ...");
            break;
        }
    }
    out.trim_end().to_string()
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=./:,".contains(c));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Where cargo put the programs of the crate under test: beside the
/// `deps/` directory that holds the test executable itself.
fn programs_dir() -> PathBuf {
    let test_exe = std::env::current_exe().unwrap_or_default();
    let deps = test_exe.parent().unwrap_or(Path::new("."));
    deps.parent().unwrap_or(deps).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_numbered_in_order_and_replaced_everywhere() {
        let text = "parent | pid 12593: forked child 12594\n\
                    kernel | waitpid(12594) = 12594\n\
                    message 1 of 5\n\
                    ";
        assert_eq!(
            normalise(text, "/tmp"),
            "parent | pid <pid1>: forked child <pid2>\n\
             kernel | waitpid(<pid2>) = <pid2>\n\
             message 1 of 5\n\
             "
        );
    }

    #[test]
    fn small_numbers_after_child_are_not_pids() {
        assert_eq!(
            normalise("child 3 of 5, fd 4\n", "/tmp"),
            "child 3 of 5, fd 4\n"
        );
    }

    #[test]
    fn long_times_are_rounded_to_a_tenth_in_their_own_unit() {
        assert_eq!(
            normalise(
                "t=1.072 s; blocked 0.96 s, then 0.50 s; slept 2 s; \
                 timeout 200 ms, 1000 ms; 250000µs; read 15 bytes, 2 sets\n",
                "/tmp"
            ),
            "t=1.1 s; blocked 1.0 s, then 0.5 s; slept 2 s; \
             timeout 200 ms, 1000 ms; 300000 µs; read 15 bytes, 2 sets\n"
        );
    }

    #[test]
    fn short_times_fall_into_buckets() {
        assert_eq!(
            normalise(
                "t=0.054 s writing; open() took 0 ms, CPU 0.1 ms, 35µs; \
                 a run of 1 ms; 0.199 s\n",
                "/tmp"
            ),
            "t=< 0.2 s writing; open() took < 1 ms, CPU < 1 ms, < 1 ms; \
             a run of < 0.2 s; < 0.2 s\n"
        );
    }

    #[test]
    fn numbers_that_are_not_times_are_left_alone() {
        let text = "wrote 4096 bytes in 3 steps, 2 sets; v1.5 s3 0x000d\n";
        assert_eq!(normalise(text, "/tmp"), text);
    }

    /// What a loaded machine does to a run: startup and forks twice as
    /// slow, sleeps a few hundredths late.
    #[test]
    fn a_slower_rerun_agrees_with_the_book() {
        let quiet = "t=0.054 s writing\n\
                     t=1.072 s reading; write() was blocked 0.96 s\n\
                     t=2.587 s the rest; read() waited 2.2 s\n\
                     open(O_RDWR) returned after 0 ms\n";
        let loaded = "t=0.108 s writing\n\
                      t=1.144 s reading; write() was blocked 0.89 s\n\
                      t=2.670 s the rest; read() waited 2.26 s\n\
                      open(O_RDWR) returned after 0.4 ms\n";
        let (book, now) = (normalise(quiet, "/tmp"), normalise(loaded, "/tmp"));
        assert_ne!(book, now, "the rounding alone hides nothing here");
        assert!(agrees(&book, &now), "book:\n{book}now:\n{now}");
    }

    #[test]
    fn a_sleep_of_the_wrong_length_disagrees() {
        let book = normalise("read() slept 0.5 s\n", "/tmp");
        assert_eq!(book, "read() slept 0.5 s\n");
        for wrong in ["0.3 s", "0.7 s", "1.0 s", "0.05 s", "500 ms"] {
            let now = normalise(&format!("read() slept {wrong}\n"), "/tmp");
            let same_time = wrong == "500 ms";
            assert_eq!(agrees(&book, &now), same_time, "0.5 s vs {wrong}");
        }
        let late = normalise("read() slept 0.61 s\n", "/tmp");
        assert!(agrees(&book, &late), "0.5 s vs 0.61 s");
    }

    #[test]
    fn a_short_time_grown_long_disagrees_and_so_does_other_text() {
        let book = normalise("t=0.054 s writing\n", "/tmp");
        assert!(!agrees(&book, &normalise("t=0.3 s writing\n", "/tmp")));
        let at_once = normalise("t=0.0004 s writing\n", "/tmp");
        assert_eq!(at_once, "t=< 1 ms writing\n");
        assert!(agrees(&at_once, &book), "both short: {at_once} {book}");
        assert!(!agrees(&at_once, &normalise("t=0.2 s writing\n", "/tmp")));
        assert!(!agrees(&book, &normalise("t=0.054 s reading\n", "/tmp")));
        assert!(!agrees(&book, &normalise("t=0.054 s\nmore\n", "/tmp")));
    }

    #[test]
    fn temporary_paths_lose_their_random_part() {
        assert_eq!(
            normalise("made /tmp/.tmpAbC123/server.fifo (mode 0600)\n", "/tmp"),
            "made <tmpdir>/server.fifo (mode 0600)\n"
        );
    }

    #[test]
    fn the_command_line_names_a_program_only_when_it_is_not_the_demo() {
        let lesson = Lesson {
            number: 4,
            slug: "fifo".into(),
            krate: "lesson04-fifo".into(),
            programs: vec!["demo".into(), "server".into()],
            demo: Some("demo".into()),
            transcripts: vec![],
        };
        let plain = Transcript {
            name: "default".into(),
            program: None,
            args: vec![],
            beside: None,
        };
        let server = Transcript {
            name: "server".into(),
            program: Some("server".into()),
            args: vec!["--name".into(), "a b".into()],
            beside: None,
        };
        assert_eq!(lesson.command_line(&plain), "cargo lab run 4");
        assert_eq!(
            lesson.command_line(&server),
            "cargo lab run 4 server -- --name 'a b'"
        );
        assert_eq!(
            lesson.transcript_path(&server),
            Path::new("book/src/transcripts/04-fifo-server.txt")
        );
        assert_eq!(
            lesson.shown_command(&server),
            "$ cargo lab run 4 server \
                   -- --name 'a b'"
        );
        let long = Transcript {
            name: "long".into(),
            program: None,
            args: ["--quick", "--hide-figures", "--warmup-ms", "1"]
                .into_iter()
                .chain(["--run-ms", "1", "--repetitions", "1", "--x", "y z"])
                .map(String::from)
                .collect(),
            beside: None,
        };
        let shown = lesson.shown_command(&long);
        assert_eq!(
            shown,
            "$ cargo lab run 4 -- --quick --hide-figures --warmup-ms 1 \
             --run-ms 1 \\\n    --repetitions 1 --x 'y z'"
        );
        assert!(shown.lines().all(|line| line.len() <= 80), "{shown}");
    }

    #[test]
    fn a_difference_names_the_first_changed_line() {
        let shown = difference("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(shown, "    line 2:\n      book: b\n      now:  B");
    }
}
