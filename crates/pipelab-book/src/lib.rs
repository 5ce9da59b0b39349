//! Builds the pipelab book with mdBook's library, and reads what it built.
//!
//! - [`build`]: book/ into a directory of HTML, with a check that every
//!   `{{#include}}` was resolved (mdBook only logs a broken include and
//!   leaves the directive in the page).
//! - [`dedent`]: code included from the middle of a function loses the
//!   function's indentation, so a listing starts at the left margin.
//! - [`site`]: the built pages read back: their links, their anchors, their
//!   text. The binary and the tests in `tests/` share it.
//! - [`serve`]: a small HTTP server on 127.0.0.1 that rebuilds the book when
//!   a source changes (`cargo lab book --serve`).

pub mod dedent;
pub mod serve;
pub mod site;

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mdbook_driver::MDBook;

/// Where the workspace is: the nearest directory, from `start` upwards, that
/// holds both `course.toml` and `book/book.toml`.
pub fn find_workspace(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            dir.join("course.toml").is_file()
                && dir.join("book/book.toml").is_file()
        })
        .map(Path::to_path_buf)
}

/// The workspace this tool works on: found from the current directory, or
/// else the one this crate was compiled in.
pub fn workspace() -> PathBuf {
    let current = std::env::current_dir().ok();
    current
        .as_deref()
        .and_then(find_workspace)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// What a build produced.
#[derive(Debug)]
pub struct Built {
    /// The directory holding `index.html`.
    pub dir: PathBuf,
    pub took: Duration,
}

impl Built {
    pub fn index(&self) -> PathBuf {
        self.dir.join("index.html")
    }
}

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// mdBook itself failed: a bad book.toml, SUMMARY.md naming a missing
    /// file, a renderer error.
    Mdbook(String),
    /// The build finished but left directives unresolved (a missing include
    /// file or anchor): one entry per page, naming the directive.
    Unresolved(Vec<String>),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Mdbook(message) => {
                write!(f, "mdBook failed: {message}")
            }
            BuildError::Unresolved(pages) => {
                write!(
                    f,
                    "unresolved mdBook directives (a missing file or anchor?):"
                )?;
                for page in pages {
                    write!(f, "\n  {page}")?;
                }
                Ok(())
            }
        }
    }
}

impl Error for BuildError {}

/// Builds the book whose `book.toml` is in `book_dir` into `dest` (replacing
/// what was there), then checks that no `{{#` directive is left in a page.
pub fn build(book_dir: &Path, dest: &Path) -> Result<Built, BuildError> {
    let started = Instant::now();
    // Without a book.toml, mdBook would make up a book, files and all.
    if !book_dir.join("book.toml").is_file() {
        return Err(BuildError::Mdbook(format!(
            "no book here: {} does not exist",
            book_dir.join("book.toml").display()
        )));
    }
    let mut book = MDBook::load(book_dir)
        .map_err(|error| BuildError::Mdbook(chain(&error)))?;
    // Registered after mdBook's own preprocessors, so it sees the included code.
    book.with_preprocessor(dedent::Dedent);
    book.config.build.build_dir =
        std::path::absolute(dest).map_err(|error| {
            BuildError::Mdbook(format!("{}: {error}", dest.display()))
        })?;
    book.build().map_err(|error| BuildError::Mdbook(chain(&error)))?;
    let took = started.elapsed();

    let pages = site::pages(dest)
        .map_err(|error| BuildError::Mdbook(error.to_string()))?;
    let unresolved: Vec<String> = pages
        .iter()
        .filter_map(|page| {
            let at = page.html.find("{{#")?;
            let directive: String = page.html[at..].chars().take(80).collect();
            let directive = directive.split("}}").next().unwrap_or_default();
            Some(format!("{}: {directive}}}}}", page.name))
        })
        .collect();
    if !unresolved.is_empty() {
        return Err(BuildError::Unresolved(unresolved));
    }
    Ok(Built { dir: dest.to_path_buf(), took })
}

/// An error with its causes, on one line.
fn chain(error: &mdbook_driver::errors::Error) -> String {
    error.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}
