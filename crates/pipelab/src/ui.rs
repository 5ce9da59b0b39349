//! How the runner talks: colour only for a person at a terminal (never
//! with NO_COLOR or `--color never`), progress notes only on a terminal.

use std::io::IsTerminal;

use colored::Colorize;
use labkit::ColorChoice;

/// Decides colour once, from `--color`, NO_COLOR and whether stdout is a
/// terminal, as every lesson program does.
pub fn init(choice: ColorChoice) {
    let no_color = std::env::var("NO_COLOR").ok();
    let color = choice
        .wants_color(std::io::stdout().is_terminal(), no_color.as_deref());
    colored::control::set_override(color);
}

pub fn bold(text: &str) -> String {
    text.bold().to_string()
}

pub fn good(text: &str) -> String {
    text.green().bold().to_string()
}

pub fn bad(text: &str) -> String {
    text.red().bold().to_string()
}

pub fn dim(text: &str) -> String {
    text.dimmed().to_string()
}

/// A note that something slow is under way, for a person watching only.
pub fn progress(text: &str) {
    if std::io::stderr().is_terminal() {
        eprintln!("{}", dim(text));
    }
}
