//! The claims table (book/src/claims.md) is kept true: every row names a
//! test that exists, and every number a page states has a row.
//!
//! The table has one section per page, headed by a link to the page
//! (`## [Lesson 06 ...](06-pipe-buf-atomicity.md)`), and one row per claim:
//! `| claim | stated | status | test, or why not |`. The status is
//! `asserted`, `partly` (the test asserts part of it; the row says which) or
//! `not testable` (the row says why). An asserted or partly row names its
//! tests as `` `path/to/tests/file.rs::function` ``; each must be a `#[test]`
//! function in that file.
//!
//! # Which numbers a page states
//!
//! The numbers of the prose, quizzes and instructor notes included, are
//! read from every lesson chapter, the rules of pipes, the glossary and the
//! introduction. Left out, because they are not claims about pipes:
//!
//! - fenced code blocks, `{{#include}}` lines (listings and transcripts,
//!   which their own tests keep true) and headings;
//! - link targets and URLs, HTML tags, and a list item's own number;
//! - single digits (counts of things said in words, descriptor numbers of
//!   an example) and two-digit numbers with a leading zero (lesson numbers:
//!   `02`); a number after `lesson`/`lessons`, after `cargo lab run`,
//!   `check` or `hint`, or before ` — ` (a lesson's title);
//! - a man page's section (`pipe(7)`), a number inside a word or a path
//!   (`pipe2`, `x86_64`, `lessons/10-...`), a version (`Linux 6.18`);
//! - the minutes of an instructor's time plan (`**Time.**` paragraph, and
//!   any number followed by `minutes`).
//!
//! Everything else counts: byte counts, signal numbers, statuses, modes,
//! limits, measured figures. In prose a number may be grouped by thousands
//! (`65 536`, `400,000`); inside `inline code` it may not (`0 127` is two
//! numbers). Each number must appear among the numbers of the `stated`
//! column of some row of that page's section.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn book_page(name: &str) -> String {
    fs::read_to_string(workspace().join("book/src").join(name))
        .unwrap_or_else(|error| panic!("book/src/{name}: {error}"))
}

const STATUSES: [&str; 3] = ["asserted", "partly", "not testable"];

/// One row of the table.
#[derive(Debug)]
struct Row {
    page: String,
    claim: String,
    stated: String,
    status: String,
    test: String,
}

/// The table's rows, in order, each with the page its section links to.
fn rows() -> Vec<Row> {
    let mut page = None;
    let mut found = Vec::new();
    for line in book_page("claims.md").lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            page = heading
                .split_once("](")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(target, _)| target.to_string());
            continue;
        }
        if !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> =
            line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells[0] == "Claim" {
            continue; // a header row
        }
        let page = page.clone().unwrap_or_else(|| {
            panic!("claims.md: a row before any page's section: {line}")
        });
        assert_eq!(cells.len(), 4, "claims.md: not 4 cells: {line}");
        found.push(Row {
            page,
            claim: cells[0].to_string(),
            stated: cells[1].to_string(),
            status: cells[2].to_string(),
            test: cells[3].to_string(),
        });
    }
    found
}

/// The `path::function` names in a cell.
fn named_tests(cell: &str) -> Vec<(String, String)> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| code.split_once(".rs::"))
        .map(|(path, function)| (format!("{path}.rs"), function.to_string()))
        .collect()
}

/// Whether `file` has a `#[test]` function called `function`.
fn has_test(file: &str, function: &str) -> bool {
    let lines: Vec<&str> = file.lines().collect();
    let signature = format!("fn {function}(");
    lines.iter().enumerate().any(|(at, line)| {
        line.trim_start().starts_with(&signature)
            && lines[..at]
                .iter()
                .rev()
                .map(|line| line.trim())
                .take_while(|line| line.starts_with("#[") || line.is_empty())
                .any(|line| line.starts_with("#[test]"))
    })
}

/// The pages whose numbers must each have a row.
fn checked_pages() -> Vec<String> {
    let mut pages: Vec<String> = fs::read_dir(workspace().join("book/src"))
        .expect("book/src")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            name.ends_with(".md")
                && name.as_bytes()[..2].iter().all(u8::is_ascii_digit)
        })
        .collect();
    pages.extend(
        ["rules-of-pipes.md", "glossary.md", "introduction.md"]
            .map(String::from),
    );
    pages.sort();
    pages
}

/// The page's prose: no fenced code, no headings, no includes, no time plan.
fn prose(markdown: &str) -> String {
    let mut kept = Vec::new();
    let mut in_fence = false;
    let mut in_time_plan = false;
    for line in markdown.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if trimmed.starts_with("**Time.**") || trimmed.starts_with("**Time:**")
        {
            in_time_plan = true;
        }
        if trimmed.is_empty() {
            in_time_plan = false;
        }
        if in_fence
            || in_time_plan
            || trimmed.starts_with('#')
            || trimmed.starts_with("{{#")
        {
            continue;
        }
        kept.push(list_item_text(line));
    }
    without_markup(&kept.join("\n"))
}

/// A line without its list number (`1. `, `12. `).
fn list_item_text(line: &str) -> &str {
    let trimmed = line.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    match trimmed[digits..].strip_prefix(". ") {
        Some(rest) if digits > 0 => rest,
        _ => line,
    }
}

/// Text without link targets, URLs and HTML tags.
fn without_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['<', ']', 'h']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let skip = if rest.starts_with("](") {
            rest.find(')').map(|end| (1, end + 1))
        } else if rest.starts_with('<') {
            rest.find('>').map(|end| (0, end + 1))
        } else if rest.starts_with("http://") || rest.starts_with("https://") {
            Some((0, rest.find(char::is_whitespace).unwrap_or(rest.len())))
        } else {
            None
        };
        match skip {
            Some((kept, end)) => {
                out.push_str(&rest[..kept]);
                rest = &rest[end..];
            }
            None => {
                let one = rest.chars().next().map_or(1, char::len_utf8);
                out.push_str(&rest[..one]);
                rest = &rest[one..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The numbers of a text, by the rule in this file's header, normalised
/// (`65 536` is `65536`).
fn numbers(text: &str) -> BTreeSet<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = BTreeSet::new();
    let mut in_code = false;
    let mut at = 0;
    while at < chars.len() {
        let c = chars[at];
        if c == '`' {
            in_code = !in_code;
        }
        let starts = c.is_ascii_digit()
            && !at.checked_sub(1).is_some_and(|before| {
                let b = chars[before];
                b.is_alphanumeric() || "_.-/#".contains(b)
            });
        if !starts {
            at += 1;
            continue;
        }
        let start = at;
        let mut digits: String = take_digits(&chars, &mut at);
        let first_group = digits.len();
        // Thousands grouped by a space or a comma, in prose only.
        while !in_code
            && first_group <= 3
            && !digits.starts_with('0')
            && at + 4 <= chars.len()
            && (chars[at] == ' ' || chars[at] == ',')
            && chars[at + 1..at + 4].iter().all(char::is_ascii_digit)
            && chars.get(at + 4).is_none_or(|after| !after.is_ascii_digit())
        {
            digits.extend(&chars[at + 1..at + 4]);
            at += 4;
        }
        if chars.get(at) == Some(&'.')
            && chars.get(at + 1).is_some_and(char::is_ascii_digit)
        {
            at += 1;
            digits.push('.');
            digits.push_str(&take_digits(&chars, &mut at));
        }
        let after: String =
            chars[at..chars.len().min(at + 12)].iter().collect();
        let before: String = chars[start.saturating_sub(16)..start]
            .iter()
            .collect::<String>()
            .to_lowercase();
        let inside_a_word = after
            .chars()
            .next()
            .is_some_and(|next| next.is_alphanumeric() || next == '_')
            && !after.starts_with('x');
        let not_a_claim = inside_a_word
            || (digits.len() == 1)
            || (digits.len() == 2 && digits.starts_with('0'))
            || after.starts_with(')') && before.ends_with('(') && {
                // pipe(7): a man page's section
                let word = before.trim_end_matches('(');
                word.ends_with(|c: char| c.is_alphanumeric() || c == '_')
            }
            || after.starts_with(" minutes")
            || after.starts_with(" — ")
            || ["lesson ", "lessons ", "lab run ", "lab check ", "lab hint "]
                .iter()
                .any(|word| before.ends_with(word))
            || digits.contains('.')
                && ["linux ", "rust ", "nix ", "python ", "glibc "]
                    .iter()
                    .any(|name| before.ends_with(name));
        if !not_a_claim {
            found.insert(digits);
        }
    }
    found
}

fn take_digits(chars: &[char], at: &mut usize) -> String {
    let mut digits = String::new();
    while let Some(&digit) = chars.get(*at).filter(|c| c.is_ascii_digit()) {
        digits.push(digit);
        *at += 1;
    }
    digits
}

#[test]
fn every_row_has_a_known_status_and_a_test_or_a_reason() {
    let rows = rows();
    assert!(rows.len() > 90, "claims.md has only {} rows", rows.len());
    for row in &rows {
        assert!(
            STATUSES.contains(&row.status.as_str()),
            "claims.md, {}: status `{}` is none of {STATUSES:?}",
            row.page,
            row.status
        );
        assert!(!row.claim.is_empty(), "claims.md: a row without a claim");
        let tests = named_tests(&row.test);
        if row.status == "not testable" {
            assert!(
                tests.is_empty() && row.test.len() > 20,
                "claims.md, {}: `{}` is not testable: say why, name no test",
                row.page,
                row.claim
            );
        } else {
            assert!(
                !tests.is_empty(),
                "claims.md, {}: `{}` is {} by no named test",
                row.page,
                row.claim,
                row.status
            );
        }
    }
}

#[test]
fn every_test_the_table_names_exists() {
    let mut missing = Vec::new();
    for row in rows() {
        for (path, function) in named_tests(&row.test) {
            let file =
                fs::read_to_string(workspace().join(&path)).unwrap_or_default();
            if !has_test(&file, &function) {
                missing.push(format!("{path}::{function} ({})", row.page));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "claims.md names tests that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_number_a_page_states_has_a_row() {
    let mut stated: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows() {
        stated.entry(row.page).or_default().extend(numbers(&row.stated));
    }
    let mut unlisted = Vec::new();
    for page in checked_pages() {
        let in_rows = stated.get(&page).cloned().unwrap_or_default();
        let missing: Vec<String> = numbers(&prose(&book_page(&page)))
            .difference(&in_rows)
            .cloned()
            .collect();
        if !missing.is_empty() {
            unlisted.push(format!("{page}: {}", missing.join(", ")));
        }
    }
    assert!(
        unlisted.is_empty(),
        "numbers stated in the book with no row in claims.md:\n{}",
        unlisted.join("\n")
    );
}

#[test]
fn every_section_of_the_table_is_a_checked_page() {
    let pages = checked_pages();
    for row in rows() {
        assert!(
            pages.contains(&row.page),
            "claims.md has a section for {}, which is no checked page",
            row.page
        );
    }
}

/// The introduction says how many claims there are and how they stand.
#[test]
fn the_introduction_counts_the_table_as_it_is() {
    let rows = rows();
    let count =
        |status: &str| rows.iter().filter(|row| row.status == status).count();
    let sentence = format!(
        "{} claims: {} asserted, {} partly, {} not testable",
        rows.len(),
        count("asserted"),
        count("partly"),
        count("not testable")
    );
    let introduction = book_page("introduction.md").replace('\n', " ");
    let introduction = introduction.split_whitespace().collect::<Vec<_>>();
    assert!(
        introduction.join(" ").contains(&sentence),
        "introduction.md must say \"{sentence}\""
    );
}

#[test]
fn the_number_rule_keeps_claims_and_drops_the_rest() {
    let text = prose(
        "# Lesson 02 — 65536\n\
         1. A pipe holds 65 536 bytes; `pipe2` in [Lesson 10](10-x.md).\n\
         See pipe(7), Linux 6.18, and about 400,000 pairs at 1.84x.\n\
         PIPESTATUS `0 127`, `cargo lab run 10`, lessons/10-unix, 2 writers\n\
         ```\n4242\n```\n\
         {{#include transcripts/4343.txt}}\n\
         **Time.** 60 to 75 minutes: 15 to read\n\n\
         status 141, mode 0644, umask `022`, 10 minutes.",
    );
    let expected: BTreeSet<String> =
        ["65536", "400000", "1.84", "127", "141", "0644", "022"]
            .map(String::from)
            .into();
    assert_eq!(numbers(&text), expected);
}
