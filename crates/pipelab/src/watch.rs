//! `cargo lab watch`: re-check the current exercise on every save.
//!
//! Saves are seen through inotify, or, with `--poll` (and under WSL, where
//! file events from Windows editors do not arrive), by comparing the
//! exercise's fingerprint every second. Keys are read one at a time from
//! the terminal (no Enter needed): h for a hint, n for the next exercise,
//! q (or Ctrl-C) to quit. Without a terminal it refuses at once.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::termios::{self, LocalFlags, SetArg, Termios};

use crate::course::{Lesson, Workspace};
use crate::engine::{self, Kind};
use crate::overview::{self, Progress};
use crate::state::State;
use crate::{Outcome, Problem, check, fingerprint, hint, ui};

pub fn watch(workspace: &Workspace, poll_only: bool, limit: u64) -> Outcome {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Problem::fail(
            "watch needs a terminal to read its keys (h, n, q): use `cargo lab check N` instead",
        ));
    }
    let lessons: Vec<&Lesson> = workspace
        .course
        .lessons
        .iter()
        .filter(|lesson| {
            workspace.lesson_exists(lesson)
                && workspace.exercise_of(lesson).is_some()
        })
        .collect();
    if lessons.is_empty() {
        return Err(Problem::fail("there is no exercise to watch yet"));
    }
    let limit = Duration::from_secs(limit);
    let mut state = State::load(&workspace.state_dir);
    let table = overview::all(workspace, &mut state);
    let mut current = lessons
        .iter()
        .position(|lesson| {
            table.iter().any(|(l, p)| {
                l.number == lesson.number && *p != Progress::Passing
            })
        })
        .unwrap_or(0);

    let polling = poll_only || under_wsl();
    let _keys = KeyMode::enter()?;
    'exercises: loop {
        let lesson = lessons[current];
        let dir = workspace.exercise_dir(lesson);
        let events = if polling { None } else { watch_tree(&dir).ok() };
        let how = if events.is_some() {
            "file events"
        } else {
            "polling every second"
        };
        let mut seen = fingerprint::tree(&dir).ok();
        let mut note = String::new();
        let mut verdict = check(workspace, &mut state, lesson, limit)?;
        loop {
            let passing = overview::all(workspace, &mut state)
                .iter()
                .filter(|(_, p)| *p == Progress::Passing)
                .count();
            let _ = state.save(&workspace.state_dir);
            let mut screen = String::from("\x1b[2J\x1b[H");
            screen += &format!(
                "{} {passing} of {} exercises pass · watching {} ({how})\n\n",
                ui::bold("pipelab watch:"),
                lessons.len(),
                workspace.relative(&dir).display()
            );
            screen += &check::render(workspace, &state, lesson, &verdict);
            screen += &note;
            screen += &format!(
                "\n{}\n",
                ui::dim(
                    "keys: h hint · n next exercise · q quit · save a file to re-check"
                )
            );
            print_raw(&screen);

            match wait(events.as_ref(), &dir, &mut seen)? {
                Event::Changed => {
                    note.clear();
                    verdict = check(workspace, &mut state, lesson, limit)?;
                }
                Event::Key(b'q' | 3 | 4) => break 'exercises,
                Event::Key(b'h') => note = next_hint(&mut state, lesson),
                Event::Key(b'n') => {
                    current = (current + 1) % lessons.len();
                    continue 'exercises;
                }
                Event::Key(_) | Event::Nothing => {}
            }
        }
    }
    let _ = state.save(&workspace.state_dir);
    print_raw("\n");
    Ok(ExitCode::SUCCESS)
}

fn check(
    workspace: &Workspace,
    state: &mut State,
    lesson: &Lesson,
    limit: Duration,
) -> Result<engine::Verdict, Problem> {
    print_raw(&format!(
        "\n{}\n",
        ui::dim(&format!("checking exercise {}...", lesson.number))
    ));
    let verdict = engine::check_exercise(workspace, state, lesson, limit)?;
    if verdict.kind == Kind::Passing {
        print_raw("\x07");
    }
    Ok(verdict)
}

/// Reveals one more hint, as `cargo lab hint` does, and returns it to show.
fn next_hint(state: &mut State, lesson: &Lesson) -> String {
    if lesson.hints.is_empty() {
        return format!("\nLesson {} has no hints yet.\n", lesson.number);
    }
    let shown = hint::reveal_next(state, lesson);
    format!(
        "\n{} {}\n",
        ui::bold(&format!("Hint {shown} of {}:", lesson.hints.len())),
        lesson.hints[shown - 1]
    )
}

enum Event {
    Changed,
    Key(u8),
    Nothing,
}

/// Waits for a key or a change to the exercise's files.
fn wait(
    events: Option<&Inotify>,
    dir: &Path,
    seen: &mut Option<String>,
) -> Result<Event, Problem> {
    let stdin = std::io::stdin();
    loop {
        let mut fds = vec![PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        if let Some(events) = events {
            fds.push(PollFd::new(events.as_fd(), PollFlags::POLLIN));
        }
        // Even with file events, look once a second: an editor that
        // replaces a directory would otherwise go unseen.
        let ready = match poll(&mut fds, PollTimeout::from(1000u16)) {
            Ok(ready) => ready,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(Problem::fail(format!("poll: {errno}"))),
        };
        let key_ready = fds[0].any().unwrap_or(false);
        if ready > 0 && key_ready {
            let mut byte = [0u8; 1];
            return match nix::unistd::read(stdin.as_fd(), &mut byte) {
                Ok(0) => Ok(Event::Key(b'q')),
                Ok(_) => Ok(Event::Key(byte[0])),
                Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {
                    Ok(Event::Nothing)
                }
                Err(errno) => Err(Problem::fail(format!(
                    "read from the terminal: {errno}"
                ))),
            };
        }
        if let Some(events) = events {
            // Drain what arrived; editors write in bursts, so let a burst end.
            while events.read_events().is_ok_and(|e| !e.is_empty()) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let now = fingerprint::tree(dir).ok();
        if now != *seen {
            *seen = now;
            return Ok(Event::Changed);
        }
    }
}

/// Watches `dir` and every directory below it for saved files.
fn watch_tree(dir: &Path) -> nix::Result<Inotify> {
    let events = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)?;
    let flags = AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        events.add_watch(&dir, flags)?;
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name();
            let hidden =
                name.to_string_lossy().starts_with('.') || name == "target";
            if entry.file_type().is_ok_and(|t| t.is_dir()) && !hidden {
                pending.push(entry.path());
            }
        }
    }
    Ok(events)
}

fn under_wsl() -> bool {
    std::fs::read_to_string("/proc/version")
        .is_ok_and(|v| v.to_lowercase().contains("microsoft"))
}

fn print_raw(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The terminal in "one key at a time, no echo" mode, restored on drop.
/// Ctrl-C arrives as a key (byte 3) rather than a signal, so that quitting
/// always goes through the restore.
struct KeyMode {
    saved: Termios,
}

impl KeyMode {
    fn enter() -> Result<KeyMode, Problem> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).map_err(|errno| {
            Problem::fail(format!("tcgetattr on the terminal: {errno}"))
        })?;
        let mut keys = saved.clone();
        keys.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &keys).map_err(
            |errno| {
                Problem::fail(format!("tcsetattr on the terminal: {errno}"))
            },
        )?;
        Ok(KeyMode { saved })
    }
}

impl Drop for KeyMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(
            std::io::stdin().as_fd(),
            SetArg::TCSANOW,
            &self.saved,
        );
    }
}
