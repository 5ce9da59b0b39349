//! A grade report in each format: a table for people, JSON for
//! autograders, JUnit XML for CI systems, and GitHub Classroom's own result
//! (per-test points, so partial credit reaches the gradebook).

use std::fmt::Write as _;

use crate::cli::Format;
use crate::grade::{ExerciseReport, Report};
use crate::{Problem, ui};

pub fn render(report: &Report, format: Format) -> Result<String, Problem> {
    let failed = |e: serde_json::Error| Problem::fail(e.to_string());
    Ok(match format {
        Format::Text => text(report),
        Format::Json => {
            serde_json::to_string_pretty(report).map_err(failed)? + "\n"
        }
        Format::Junit => junit(report),
        Format::Classroom => {
            serde_json::to_string_pretty(&classroom(report)).map_err(failed)?
                + "\n"
        }
    })
}

fn text(report: &Report) -> String {
    let mut out =
        format!("{}\n\n", ui::bold(&format!("Grading: {}", report.course)));
    let width =
        report.exercises.iter().map(|e| e.package.len()).max().unwrap_or(8);
    let _ = writeln!(
        out,
        "  {:>2}  {:<width$}  {:>6}  {:>6}  result",
        "#", "exercise", "tests", "points"
    );
    for e in &report.exercises {
        let result = match e.status {
            "passed" => ui::good("passed"),
            other => ui::bad(other),
        };
        let note = if e.ignored_changes.is_empty() {
            String::new()
        } else {
            format!("  (ignored: {})", e.ignored_changes.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:>2}  {:<width$}  {:>6}  {:>6}  {result}{note}",
            e.number,
            e.package,
            format!("{}/{}", e.tests_passed, e.tests_total),
            format!("{}/{}", e.score, e.max_score),
        );
    }
    for flag in &report.flags {
        let _ = writeln!(out, "  note: {flag}");
    }
    let _ = writeln!(out, "\nScore: {}/{}", report.score, report.max_score);
    out
}

/// True when an exercise's tests never ran as tests: it did not build, is
/// missing, or tampered with its programs. JUnit calls that an error, not
/// a failure.
fn errored(e: &ExerciseReport) -> bool {
    matches!(e.status, "does-not-compile" | "missing" | "tampered")
}

/// JUnit XML as strict consumers read it (the common schema: `tests`,
/// `failures`, `errors` on every suite, `<error>` for what never ran).
fn junit(report: &Report) -> String {
    let count = |errors: bool| -> usize {
        report
            .exercises
            .iter()
            .filter(|e| errored(e) == errors)
            .map(|e| e.tests_total - e.tests_passed)
            .sum()
    };
    let total: usize = report.exercises.iter().map(|e| e.tests_total).sum();
    let seconds: f64 = report.exercises.iter().map(|e| e.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{total}\" failures=\"{}\" errors=\"{}\" time=\"{seconds:.3}\">",
        xml(&report.course),
        count(false),
        count(true)
    );
    for (id, e) in report.exercises.iter().enumerate() {
        let failed = e.tests_total - e.tests_passed;
        let (failures, errors) =
            if errored(e) { (0, failed) } else { (failed, 0) };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" id=\"{id}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{:.3}\">",
            xml(&e.package),
            e.tests_total,
            e.seconds
        );
        let _ = writeln!(
            out,
            "    <properties><property name=\"score\" value=\"{}/{}\"/><property name=\"status\" value=\"{}\"/></properties>",
            e.score, e.max_score, e.status
        );
        for t in &e.tests {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(&e.package),
                xml(&t.name),
                t.seconds
            );
            if t.passed {
                out += "/>\n";
                continue;
            }
            let message = match (errored(e), &e.detail, &t.message) {
                (true, Some(detail), _) => detail.as_str(),
                (_, _, Some(message)) => message.as_str(),
                (_, Some(detail), None) => detail.as_str(),
                _ => e.status,
            };
            // The location line says where; the line after it says what.
            let first = message
                .lines()
                .find(|line| {
                    !line.trim().is_empty() && !line.starts_with("panicked at")
                })
                .unwrap_or(e.status);
            let element = if errored(e) { "error" } else { "failure" };
            let _ = writeln!(
                out,
                ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
                xml(first),
                e.status,
                xml(message)
            );
        }
        out += "  </testsuite>\n";
    }
    out += "</testsuites>\n";
    out
}

/// Text made safe for XML 1.0, in content and in attributes: the five
/// specials escaped, line breaks kept as references (an attribute's
/// newline would be read as a space), and characters XML 1.0 cannot hold
/// at all, even escaped (most control characters, a panic message's
/// colour codes), written as `\u{1b}`.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out += "&amp;",
            '<' => out += "&lt;",
            '>' => out += "&gt;",
            '"' => out += "&quot;",
            '\'' => out += "&apos;",
            '\n' => out += "&#10;",
            '\r' => out += "&#13;",
            '\t' => out += "&#9;",
            c if allowed_in_xml(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// XML 1.0's `Char` production.
fn allowed_in_xml(c: char) -> bool {
    matches!(u32::from(c),
        0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// GitHub Classroom's result for one runner (what its reporter reads,
/// base64-encoded, from `<RUNNER>_RESULTS`): every test with the points it
/// earned, so a half-done exercise earns half.
fn classroom(report: &Report) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = report
        .exercises
        .iter()
        .flat_map(|e| {
            e.tests.iter().map(move |t| {
                serde_json::json!({
                    "name": format!("{} {}", e.package, t.name),
                    "status": if t.passed { "pass" } else if errored(e) { "error" } else { "fail" },
                    "score": t.score,
                    "message": t.message.clone().or(e.detail.clone()).unwrap_or_default(),
                    "line_no": 0,
                    "execution_time": format!("{:.2}s", t.seconds),
                })
            })
        })
        .collect();
    // All-or-nothing lessons earn their points on their first test.
    let mut tests = tests;
    let mut index = 0;
    for e in &report.exercises {
        if e.tests.is_empty() {
            continue;
        }
        let earned: u32 = e.tests.iter().map(|t| t.score).sum();
        if earned < e.score {
            tests[index]["score"] = serde_json::json!(e.score);
        }
        index += e.tests.len();
    }
    serde_json::json!({
        "version": 1,
        "status": if report.full_marks() { "pass" } else { "fail" },
        "max_score": report.max_score,
        "tests": tests,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_control_characters_are_spelled_out() {
        assert_eq!(
            xml("a<b & \"c\">\n\x1b[31mred\x00"),
            "a&lt;b &amp; &quot;c&quot;&gt;&#10;\\u{1b}[31mred\\u{0}"
        );
    }
}
