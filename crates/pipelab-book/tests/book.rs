//! The book's own checks: it builds, its links hold, it needs no network,
//! every lesson has a chapter, and every chapter shows the code it claims.
//!
//! Each test builds the book into a private temporary directory (a build
//! takes a fraction of a second), so tests never touch book/build.

use std::fs;
use std::path::{Path, PathBuf};

use pipelab_book::site::{self, Page};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh build of the real book; the directory goes when the guard does.
fn built() -> (tempfile::TempDir, Vec<Page>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    pipelab_book::build(&workspace().join("book"), dir.path())
        .unwrap_or_else(|error| panic!("the book must build: {error}"));
    let pages = site::pages(dir.path()).expect("the built pages");
    (dir, pages)
}

fn page<'a>(pages: &'a [Page], name: &str) -> &'a Page {
    pages
        .iter()
        .find(|page| page.name == name)
        .unwrap_or_else(|| panic!("the build has no {name}"))
}

/// course.toml, as a TOML table.
fn course() -> toml::Table {
    let text = fs::read_to_string(workspace().join("course.toml"))
        .expect("course.toml");
    text.parse().expect("course.toml is valid TOML")
}

/// Each `[[lessons]]` block whose lesson crate exists (lessons still to be
/// written are "coming soon" and have no chapter yet).
fn existing_lessons() -> Vec<toml::Table> {
    let course = course();
    let lessons = course["lessons"].as_array().expect("[[lessons]]").clone();
    lessons
        .into_iter()
        .filter_map(|lesson| lesson.as_table().cloned())
        .filter(|lesson| {
            workspace()
                .join("lessons")
                .join(dir_name(lesson))
                .join("Cargo.toml")
                .is_file()
        })
        .collect()
}

fn dir_name(lesson: &toml::Table) -> String {
    format!(
        "{:02}-{}",
        lesson["number"].as_integer().unwrap_or_default(),
        lesson["slug"].as_str().unwrap_or_default()
    )
}

/// Every chapter's markdown: book/src/NN-slug.md.
fn chapters() -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> =
        fs::read_dir(workspace().join("book/src"))
            .expect("book/src")
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| {
                name.ends_with(".md")
                    && name.len() > 3
                    && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
                    && name.as_bytes()[2] == b'-'
            })
            .map(|name| {
                let text = fs::read_to_string(
                    workspace().join("book/src").join(&name),
                )
                .unwrap();
                (name, text)
            })
            .collect();
    found.sort();
    found
}

/// `{{#include PATH}}` and `{{#include PATH:ANCHOR}}` directives of a chapter.
fn includes(markdown: &str) -> Vec<(String, Option<String>)> {
    markdown
        .match_indices("{{#include ")
        .filter_map(|(at, directive)| {
            let rest = &markdown[at + directive.len()..];
            let inside = rest[..rest.find("}}")?].trim();
            Some(match inside.split_once(':') {
                Some((path, anchor)) => {
                    (path.to_string(), Some(anchor.to_string()))
                }
                None => (inside.to_string(), None),
            })
        })
        .collect()
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
fn anchor_lines(source: &str, anchor: &str) -> Option<Vec<String>> {
    let start = format!("ANCHOR: {anchor}");
    let end = format!("ANCHOR_END: {anchor}");
    let mut lines = source.lines();
    lines.find(|line| {
        line.trim_start().trim_start_matches("//").trim() == start
    })?;
    let body: Vec<String> = lines
        .take_while(|line| {
            line.trim_start().trim_start_matches("//").trim() != end
        })
        .filter(|line| !line.contains("ANCHOR"))
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    Some(body)
}

#[test]
fn the_book_builds_with_every_directive_resolved() {
    let (_dir, pages) = built();
    for name in
        ["index.html", "print.html", "01-pipe-fork.html", "rules-of-pipes.html"]
    {
        page(&pages, name);
    }
    let unresolved: Vec<&str> = pages
        .iter()
        .filter(|page| page.html.contains("{{#"))
        .map(|page| page.name.as_str())
        .collect();
    assert!(
        unresolved.is_empty(),
        "pages with an unresolved {{{{#: {unresolved:?}"
    );
}

#[test]
fn every_internal_link_and_anchor_resolves() {
    let (dir, pages) = built();
    // The checker must be able to fail: a page with known-bad links.
    let bad = r##"<a href="nowhere.html">x</a> <a href="index.html#no-such-anchor">y</a> <img src="img/missing.svg">"##;
    fs::write(dir.path().join("bad.html"), bad).unwrap();
    let broken = site::broken_links(dir.path()).expect("the built pages");
    let (planted, real): (Vec<&String>, Vec<&String>) =
        broken.iter().partition(|problem| problem.starts_with("bad.html:"));
    assert_eq!(
        planted.len(),
        3,
        "the checker missed a planted bad link: {planted:?}"
    );
    assert!(
        real.is_empty(),
        "broken links in the book:\n{}",
        real.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    assert!(pages.len() >= 5, "suspiciously few pages: {}", pages.len());
}

#[test]
fn nothing_is_fetched_from_the_network() {
    let (dir, pages) = built();
    for page in &pages {
        let remote_sources: Vec<&str> =
            site::attribute_values(&page.html, "src")
                .into_iter()
                .filter(|source| {
                    source.contains("://") || source.starts_with("//")
                })
                .collect();
        assert!(
            remote_sources.is_empty(),
            "{} loads {remote_sources:?}",
            page.name
        );
        for tag in page.html.split("<link ").skip(1) {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            assert!(
                !tag.contains("://"),
                "{} links a remote resource: <link {tag}>",
                page.name
            );
        }
        // A playground block makes mdBook's script contact the Rust playground.
        assert!(
            !page.html.contains("class=\"playground\""),
            "{} has a playground code block: mark it rust,noplayground",
            page.name
        );
        assert!(!page.html.contains("MathJax"), "{} loads MathJax", page.name);
    }
    let mut css = Vec::new();
    collect_files(dir.path(), "css", &mut css);
    assert!(!css.is_empty(), "no stylesheet was built");
    for path in css {
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains("url(http")
                && !text.contains("url(\"http")
                && !text.contains("@import"),
            "{} fetches from the network",
            path.display()
        );
    }
}

fn collect_files(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, extension, found);
        } else if path.extension().is_some_and(|ext| ext == extension) {
            found.push(path);
        }
    }
}

#[test]
fn the_search_index_ships_with_the_book_and_knows_sigpipe() {
    let (dir, _pages) = built();
    let index = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with("searchindex") && name.ends_with(".js")
        })
        .expect("a searchindex*.js in the build (search must work from disk)");
    let text = fs::read_to_string(index).unwrap().to_lowercase();
    assert!(text.contains("sigpipe"), "the search index does not know SIGPIPE");
}

#[test]
fn every_existing_lesson_has_a_chapter_listed_in_the_summary() {
    let summary =
        fs::read_to_string(workspace().join("book/src/SUMMARY.md")).unwrap();
    let lessons = existing_lessons();
    assert!(
        !lessons.is_empty(),
        "course.toml lists no lesson whose crate exists"
    );
    for lesson in lessons {
        let chapter = format!("{}.md", dir_name(&lesson));
        assert!(
            workspace().join("book/src").join(&chapter).is_file(),
            "lesson {} has a crate but no chapter book/src/{chapter}",
            dir_name(&lesson)
        );
        assert!(
            summary.contains(&format!("]({chapter})")),
            "book/src/SUMMARY.md does not list {chapter}"
        );
        let text =
            fs::read_to_string(workspace().join("book/src").join(&chapter))
                .unwrap();
        let title = format!(
            "# Lesson {:02}",
            lesson["number"].as_integer().unwrap_or_default()
        );
        assert!(
            text.starts_with(&title),
            "{chapter} must start with \"{title} — ...\""
        );
    }
}

#[test]
fn every_check_command_in_a_chapter_names_a_real_exercise() {
    let course = course();
    let lessons = course["lessons"].as_array().unwrap();
    let chapters = chapters();
    assert!(!chapters.is_empty());
    for (name, text) in &chapters {
        let commands: Vec<&str> = text
            .match_indices("cargo lab check ")
            .map(|(at, command)| {
                let rest = &text[at + command.len()..];
                rest.split(|c: char| c.is_whitespace() || c == '`')
                    .next()
                    .unwrap_or_default()
            })
            .collect();
        assert!(!commands.is_empty(), "{name} never says `cargo lab check N`");
        for lesson_name in commands {
            let lesson = lessons
                .iter()
                .filter_map(|lesson| lesson.as_table())
                .find(|lesson| {
                    let number = lesson["number"].as_integer().unwrap_or_default();
                    lesson_name.parse::<i64>().ok() == Some(number)
                        || lesson["slug"].as_str() == Some(lesson_name)
                })
                .unwrap_or_else(|| {
                    panic!("{name}: `cargo lab check {lesson_name}`: no such lesson")
                });
            let exercise = lesson["exercise"].as_str().unwrap_or_default();
            let manifest = workspace()
                .join("exercises")
                .join(dir_name(lesson))
                .join("Cargo.toml");
            let package = fs::read_to_string(&manifest).unwrap_or_default();
            assert!(
                package.contains(&format!("name = \"{exercise}\"")),
                "{name}: `cargo lab check {lesson_name}` names exercise {exercise}, \
                 but {} does not define that package",
                manifest.display()
            );
        }
    }
}

#[test]
fn chapters_show_the_code_they_include() {
    let (_dir, pages) = built();
    let chapters = chapters();
    let first = chapters
        .iter()
        .find(|(name, _)| name == "01-pipe-fork.md")
        .expect("chapter 01");
    assert!(
        includes(&first.1)
            .iter()
            .filter(|(path, _)| path.contains("lessons/"))
            .count()
            >= 4,
        "chapter 01 must include the lesson's code by anchors"
    );
    for (name, markdown) in &chapters {
        let html = &page(&pages, &name.replace(".md", ".html")).html;
        let shown = site::text(html);
        for (path, anchor) in includes(markdown) {
            if !path.contains("lessons/") {
                continue;
            }
            let anchor = anchor.unwrap_or_else(|| {
                panic!("{name}: include {path} without an anchor")
            });
            let source_path = workspace().join("book/src").join(&path);
            let source = fs::read_to_string(&source_path)
                .unwrap_or_else(|error| panic!("{name}: {path}: {error}"));
            let lines = anchor_lines(&source, &anchor).unwrap_or_else(|| {
                panic!("{name}: {path} has no ANCHOR: {anchor}")
            });
            assert!(
                !lines.is_empty(),
                "{name}: anchor {anchor} of {path} is empty"
            );
            for line in lines {
                assert!(
                    shown.contains(&line),
                    "{name}: the page does not show this line of {path}:{anchor}:\n  {line}"
                );
            }
        }
    }
}

#[test]
fn every_transcript_a_chapter_shows_is_checked_against_its_program() {
    let course = course();
    let mut declared = Vec::new();
    for lesson in course["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_table())
    {
        let transcripts = lesson.get("transcripts").and_then(|t| t.as_array());
        for transcript in transcripts.into_iter().flatten() {
            let name = transcript["name"].as_str().unwrap_or_default();
            declared
                .push(format!("transcripts/{}-{name}.txt", dir_name(lesson)));
        }
    }
    for (chapter, markdown) in chapters() {
        for (path, _) in includes(&markdown) {
            if path.starts_with("transcripts/") {
                assert!(
                    declared.contains(&path),
                    "{chapter} shows {path}, which no [[lessons.transcripts]] in course.toml \
                     declares: nothing would notice it drifting from the program"
                );
            }
        }
    }
}

#[test]
fn the_anchor_reader_finds_exactly_the_anchored_lines() {
    let source = "a\n// ANCHOR: x\nlet y = 1;\n\n// ANCHOR_END: x\nb\n";
    assert_eq!(anchor_lines(source, "x"), Some(vec!["let y = 1;".to_string()]));
    assert_eq!(anchor_lines(source, "z"), None);
}

#[test]
fn a_directory_without_a_book_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let error = pipelab_book::build(dir.path(), &dir.path().join("build"))
        .expect_err("no book.toml, no build");
    assert!(error.to_string().contains("book.toml"), "{error}");
    let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "the build wrote into a directory with no book: {left:?}"
    );
}

/// rustfmt.toml's max_width: the column the book's code listings fit.
fn column_width() -> usize {
    let text = fs::read_to_string(workspace().join("rustfmt.toml"))
        .expect("rustfmt.toml");
    let table: toml::Table = text.parse().expect("rustfmt.toml is TOML");
    let width = table.get("max_width").and_then(toml::Value::as_integer);
    width.expect("rustfmt.toml sets max_width") as usize
}

/// Every line over `width` characters in the files under `dir` that end in
/// `extension`, as `path:line: N columns`.
fn lines_wider_than(width: usize, dir: &Path, extension: &str) -> Vec<String> {
    let mut files = Vec::new();
    collect_files(dir, extension, &mut files);
    let mut wide = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).expect("a readable file");
        for (number, line) in text.lines().enumerate() {
            let columns = line.chars().count();
            if columns > width {
                let path = file.strip_prefix(workspace()).unwrap_or(&file);
                let at = number + 1;
                wide.push(format!(
                    "{}:{at}: {columns} columns",
                    path.display()
                ));
            }
        }
    }
    wide
}

/// Every line over `width` characters inside a fenced code block of the
/// chapters under `dir`, as `path:line: N columns`.
fn code_block_lines_wider_than(width: usize, dir: &Path) -> Vec<String> {
    let mut chapters = Vec::new();
    collect_files(dir, "md", &mut chapters);
    let mut wide = Vec::new();
    for chapter in chapters {
        let text = fs::read_to_string(&chapter).expect("a readable chapter");
        let mut in_block = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
            } else if in_block && line.chars().count() > width {
                let path =
                    chapter.strip_prefix(workspace()).unwrap_or(&chapter);
                let columns = line.chars().count();
                let at = number + 1;
                wide.push(format!(
                    "{}:{at}: {columns} columns",
                    path.display()
                ));
            }
        }
    }
    wide
}

/// The book includes the lessons' code and transcripts as they are, and
/// its column holds `max_width` characters (the browser check proves it):
/// rustfmt cannot shorten a string or a comment, so this test does.
#[test]
fn code_and_transcripts_fit_the_books_column() {
    let width = column_width();
    let root = workspace();
    let mut wide = Vec::new();
    for dir in ["lessons", "exercises", "solutions"] {
        wide.extend(lines_wider_than(width, &root.join(dir), "rs"));
    }
    let transcripts = root.join("book/src/transcripts");
    wide.extend(lines_wider_than(width, &transcripts, "txt"));
    wide.extend(code_block_lines_wider_than(width, &root.join("book/src")));
    assert!(
        wide.is_empty(),
        "{} lines are wider than the book's {width} columns (shorten a \
         narrated line, or split it in two):\n{}",
        wide.len(),
        wide.join("\n")
    );
}

/// What a fenced block of a chapter shows, in the order the reader meets it.
#[derive(Debug, PartialEq)]
enum Shown {
    /// A `text` (or `console`) block that includes a transcript: a run.
    Run,
    /// A Rust listing; `narrated` when its lines call `say!` or `trace!`.
    Listing { anchor: String, narrated: bool },
    /// A table whose header names the C call beside the Rust one.
    CTable,
}

/// The runs, Rust listings and C-to-Rust tables of a chapter, in order.
fn story(markdown: &str) -> Vec<Shown> {
    let mut shown = Vec::new();
    let mut fence: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(info.to_string()),
            };
            continue;
        }
        let Some(info) = &fence else {
            let cells: Vec<&str> = trimmed.split('|').map(str::trim).collect();
            let names_c = |cell: &&str| {
                *cell == "C" || cell.starts_with("C,") || cell.starts_with("C ")
            };
            if trimmed.starts_with('|') && cells.iter().any(names_c) {
                shown.push(Shown::CTable);
            }
            continue;
        };
        for (path, anchor) in includes(line) {
            if (info.starts_with("text") || info.starts_with("console"))
                && path.starts_with("transcripts/")
            {
                shown.push(Shown::Run);
            } else if info.starts_with("rust") && path.contains("lessons/") {
                let anchor = anchor.unwrap_or_default();
                let source = fs::read_to_string(
                    workspace().join("book/src").join(&path),
                )
                .unwrap_or_else(|error| panic!("{path}: {error}"));
                let lines = anchor_lines(&source, &anchor).unwrap_or_default();
                let narrated = lines.iter().any(|line| {
                    line.contains("say!(") || line.contains("trace!(")
                });
                shown.push(Shown::Listing { anchor, narrated });
            }
        }
    }
    shown
}

/// A reader who knows C meets each lesson in this order: the behaviour
/// (one run), then the lesson's system calls with nothing around them and
/// the C call beside each, and only then the narrated program.
#[test]
fn every_chapter_shows_a_run_then_the_bare_calls_then_the_narrated_code() {
    let mut problems = Vec::new();
    for (name, markdown) in chapters() {
        let shown = story(&markdown);
        let Some(first_listing) =
            shown.iter().position(|s| matches!(s, Shown::Listing { .. }))
        else {
            problems.push(format!("{name} shows no Rust listing"));
            continue;
        };
        // The first run, wherever it is, must come before the listing.
        let first_run = shown.iter().position(|s| *s == Shown::Run);
        if first_run.is_none_or(|run| run > first_listing) {
            problems.push(format!(
                "{name}: the first Rust listing comes before any run of \
                 the program: open with a transcript"
            ));
        }
        if let Shown::Listing { anchor, narrated: true } = &shown[first_listing]
        {
            problems.push(format!(
                "{name}: the first listing ({anchor}) narrates: show the \
                 bare system calls first"
            ));
        }
        let first_narrated = shown
            .iter()
            .position(|s| matches!(s, Shown::Listing { narrated: true, .. }))
            .unwrap_or(shown.len());
        if !shown[..first_narrated].contains(&Shown::CTable) {
            problems.push(format!(
                "{name}: no table of the C calls beside the Rust ones \
                 before the first narrated listing"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_story_reader_tells_runs_listings_and_tables_apart() {
    let markdown = "```text\n{{#include transcripts/x.txt}}\n```\n\
                    | what | C | Rust |\n|---|---|---|\n\
                    ```rust,noplayground\n\
                    {{#include ../../lessons/01-pipe-fork/src/main.rs:pipe}}\n\
                    ```\n";
    let shown = story(markdown);
    assert_eq!(shown[0], Shown::Run);
    assert_eq!(shown[1], Shown::CTable);
    assert!(
        matches!(&shown[2], Shown::Listing { anchor, .. } if anchor == "pipe")
    );
}
