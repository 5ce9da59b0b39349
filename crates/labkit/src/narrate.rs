//! Narration: every line says who is speaking.
//!
//! A lesson prints through [`say`], never through a bare `println!`, so that
//! a reader can always tell the parent's words from the child's, and the
//! kernel's facts from both. With `--trace`, [`trace`] adds a line for each
//! system call, in the style of `strace`: `pipe2([3, 4], O_CLOEXEC) = 0`.
//!
//! Colour is for people: it is on only when stdout is a terminal and
//! `NO_COLOR` is not set (or when asked for with `--color always`), so
//! output piped to a file or to `cat` holds no escape codes.

use std::fmt::Display;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use colored::{Color, Colorize};

/// Who a line of narration belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Speaker {
    Parent,
    Child,
    Server,
    Client,
    /// The other side of a conversation that is neither server nor client.
    Peer,
    /// Facts about what the kernel did (a read returned 0, a signal was sent).
    Kernel,
    /// The lesson itself explaining why something happened.
    Note,
}

impl Speaker {
    /// The tag printed at the start of each of this speaker's lines.
    pub fn tag(self) -> &'static str {
        match self {
            Speaker::Parent => "parent",
            Speaker::Child => "child",
            Speaker::Server => "server",
            Speaker::Client => "client",
            Speaker::Peer => "peer",
            Speaker::Kernel => "kernel",
            Speaker::Note => "note",
        }
    }

    fn color(self) -> Color {
        match self {
            Speaker::Parent => Color::Blue,
            Speaker::Child => Color::Green,
            Speaker::Server => Color::Cyan,
            Speaker::Client => Color::Magenta,
            Speaker::Peer => Color::Cyan,
            Speaker::Kernel => Color::Yellow,
            Speaker::Note => Color::White,
        }
    }
}

/// When to colour the output, as cargo's `--color` means it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour only when stdout is a terminal and NO_COLOR is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Decides, given the facts of this run, whether to colour.
    pub fn wants_color(
        self,
        stdout_is_terminal: bool,
        no_color_env: Option<&str>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // https://no-color.org: NO_COLOR set to any non-empty value.
            ColorChoice::Auto => {
                stdout_is_terminal && no_color_env.is_none_or(str::is_empty)
            }
        }
    }
}

/// The flags every lesson program shares; `#[command(flatten)]` it into the
/// program's own clap parser and call [`CommonArgs::apply`] first thing.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct CommonArgs {
    /// Colour the narration: auto (on a terminal, unless NO_COLOR is set),
    /// always, never.
    #[arg(long, value_enum, value_name = "WHEN")]
    #[arg(default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also print each system call as it is made, with its result (like
    /// strace).
    #[arg(long)]
    pub trace: bool,
}

impl CommonArgs {
    pub fn apply(&self) {
        let no_color = std::env::var("NO_COLOR").ok();
        let color = self
            .color
            .wants_color(std::io::stdout().is_terminal(), no_color.as_deref());
        colored::control::set_override(color);
        TRACING.store(self.trace, Ordering::Relaxed);
    }
}

static TRACING: AtomicBool = AtomicBool::new(false);
/// Narration goes to standard error instead of standard output.
static ON_STDERR: AtomicBool = AtomicBool::new(false);
/// No narration at all (`--quiet`).
static QUIET: AtomicBool = AtomicBool::new(false);

/// From now on, narration goes to standard error, or nowhere with `quiet`:
/// for a program whose standard output is its data (lesson 08 runs a
/// pipeline whose output must be bash's, byte for byte). Colour is decided
/// again, for standard error. Call it after [`CommonArgs::apply`].
pub fn narrate_on_stderr(color: ColorChoice, quiet: bool) {
    ON_STDERR.store(true, Ordering::Relaxed);
    QUIET.store(quiet, Ordering::Relaxed);
    let no_color = std::env::var("NO_COLOR").ok();
    let stderr_is_terminal = std::io::stderr().is_terminal();
    let wanted = color.wants_color(stderr_is_terminal, no_color.as_deref());
    colored::control::set_override(wanted);
}

/// Formats one line of narration (without its newline).
pub fn format_line(who: Speaker, text: &str) -> String {
    let tag = format!("{:>6}", who.tag()).color(who.color()).bold();
    format!("{tag} | {text}")
}

/// Prints `text` as `who`'s words: one tagged line per line of text, all
/// in one `write`, so that a block of up to PIPE_BUF bytes is never cut by
/// another process's narration on the same terminal or pipe.
pub fn say(who: Speaker, text: impl Display) {
    if QUIET.load(Ordering::Relaxed) {
        return;
    }
    let mut block = String::new();
    for line in text.to_string().lines() {
        block.push_str(&format_line(who, line));
        block.push('\n');
    }
    // Narration is best-effort: if its stream has gone away (a closed
    // pipe), the lesson goes on and reports through its exit status.
    let _ = if ON_STDERR.load(Ordering::Relaxed) {
        std::io::stderr().write_all(block.as_bytes())
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(block.as_bytes()).and_then(|()| out.flush())
    };
}

/// Says one line of narration, formatted in place: the lesson's way to speak.
///
/// `say!(Parent, "closed fd {}", fd)` is `say(Parent, format!(...))` on one
/// line, which rustfmt keeps whole, so a narrated step reads as one step.
///
/// ```
/// use labkit::Speaker::Parent;
/// labkit::say!(Parent, "made a pipe: read end is fd {}", 3);
/// ```
#[macro_export]
macro_rules! say {
    ($who:expr, $($text:tt)+) => {
        $crate::narrate::say($who, ::std::format!($($text)+))
    };
}

/// With `--trace`, prints a system call and its outcome, formatted in place:
/// `trace!(Parent, &result, "read({}, buf, {})", fd, len)`. The call's text
/// is only formatted when tracing is on.
#[macro_export]
macro_rules! trace {
    ($who:expr, $outcome:expr, $($call:tt)+) => {
        if $crate::narrate::tracing() {
            $crate::narrate::trace($who, &::std::format!($($call)+), $outcome)
        }
    };
}

/// Whether `--trace` is on.
pub fn tracing() -> bool {
    TRACING.load(Ordering::Relaxed)
}

/// Formats a system call and its outcome the way strace does:
/// `read(3, "hi", 64) = 2` or `write(4, ..., 1) = -1 EPIPE (Broken pipe)`.
pub fn format_call<T: Display>(
    call: &str,
    outcome: &Result<T, nix::Error>,
) -> String {
    match outcome {
        Ok(value) => format!("{call} = {value}"),
        Err(errno) => format!("{call} = -1 {errno:?} ({})", errno.desc()),
    }
}

/// With `--trace`, prints a system call made by `who` and its outcome.
pub fn trace<T: Display>(
    who: Speaker,
    call: &str,
    outcome: &Result<T, nix::Error>,
) {
    if TRACING.load(Ordering::Relaxed) {
        say(who, format!("  {}", format_call(call, outcome)).dimmed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::errno::Errno;

    #[test]
    fn auto_colours_only_a_terminal_without_no_color() {
        assert!(ColorChoice::Auto.wants_color(true, None));
        assert!(ColorChoice::Auto.wants_color(true, Some("")));
        assert!(!ColorChoice::Auto.wants_color(true, Some("1")));
        assert!(!ColorChoice::Auto.wants_color(false, None));
    }

    #[test]
    fn always_and_never_ignore_the_terminal() {
        assert!(ColorChoice::Always.wants_color(false, Some("1")));
        assert!(!ColorChoice::Never.wants_color(true, None));
    }

    #[test]
    fn every_line_carries_its_speaker_tag() {
        colored::control::set_override(false);
        assert_eq!(format_line(Speaker::Parent, "hello"), "parent | hello");
        assert_eq!(format_line(Speaker::Child, "hi"), " child | hi");
        assert_eq!(format_line(Speaker::Kernel, "EOF"), "kernel | EOF");
    }

    #[test]
    fn calls_read_like_strace() {
        assert_eq!(
            format_call("pipe2([3, 4], O_CLOEXEC)", &Ok::<_, Errno>(0)),
            "pipe2([3, 4], O_CLOEXEC) = 0"
        );
        assert_eq!(
            format_call::<usize>("write(4, \"x\", 1)", &Err(Errno::EPIPE)),
            "write(4, \"x\", 1) = -1 EPIPE (Broken pipe)"
        );
    }
}
