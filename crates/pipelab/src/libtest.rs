//! Reading what a test program printed. libtest's machine-readable
//! output is unstable (nightly only), so this reads the plain one: a
//! `test NAME ... ok|FAILED` line per test, then a `---- NAME stdout ----`
//! section per failure, and trims each message to what a learner needs.

/// One test and how it went.
#[derive(Debug, Clone)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    /// For a failure: its message, trimmed to what a learner needs.
    pub message: Option<String>,
}

/// Reads libtest's plain output: `test NAME ... ok|FAILED` lines, then a
/// `---- NAME stdout ----` section for each failure.
pub fn parse_libtest(output: &str) -> Vec<TestResult> {
    let mut results: Vec<TestResult> = Vec::new();
    let mut current_failure: Option<(String, Vec<&str>)> = None;
    let finish = |failure: Option<(String, Vec<&str>)>,
                  results: &mut Vec<TestResult>| {
        if let Some((name, body)) = failure
            && let Some(result) = results.iter_mut().find(|r| r.name == name)
        {
            result.message = Some(trim_failure(&body));
        }
    };
    for line in output.lines() {
        if let Some((name, outcome)) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.rsplit_once(" ... "))
        {
            let name = name.trim_end_matches(" - should panic").to_string();
            match outcome.trim() {
                "ok" => results.push(TestResult {
                    name,
                    passed: true,
                    message: None,
                }),
                "FAILED" => results.push(TestResult {
                    name,
                    passed: false,
                    message: None,
                }),
                // ignored tests neither pass nor fail
                _ => {}
            }
            continue;
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            finish(current_failure.take(), &mut results);
            current_failure = Some((name.to_string(), Vec::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            finish(current_failure.take(), &mut results);
            continue;
        }
        if let Some((_, body)) = current_failure.as_mut() {
            body.push(line);
        }
    }
    finish(current_failure.take(), &mut results);
    results
}

/// A failure's message without what does not help: the backtrace note,
/// backtraces, thread names; at most 15 lines.
fn trim_failure(body: &[&str]) -> String {
    let mut kept: Vec<String> = Vec::new();
    let mut in_backtrace = false;
    for line in body {
        let trimmed = line.trim_start();
        if trimmed.starts_with("stack backtrace:") {
            in_backtrace = true;
            continue;
        }
        if in_backtrace {
            let frame = trimmed
                .split_once(':')
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
                || trimmed.starts_with("at ")
                || trimmed.starts_with("note: Some details are omitted");
            if frame {
                continue;
            }
            in_backtrace = false;
        }
        if trimmed.starts_with("note: run with `RUST_BACKTRACE=")
            || trimmed.starts_with("note: Some details are omitted")
        {
            continue;
        }
        if let Some((_, place)) = trimmed
            .strip_prefix("thread '")
            .and_then(|rest| rest.split_once(" panicked at "))
        {
            kept.push(format!("panicked at {place}"));
            continue;
        }
        kept.push(line.to_string());
    }
    while kept.first().is_some_and(|l| l.trim().is_empty()) {
        kept.remove(0);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    head(&kept.join("\n"), 15)
}

/// The first `n` lines of `text`, with a note when some were cut.
pub fn head(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= n {
        return text.to_string();
    }
    format!("{}\n... ({} more lines)", lines[..n].join("\n"), lines.len() - n)
}

pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub fn last_line(text: &str) -> String {
    text.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 3 tests\n\
test a_passes ... ok\n\
test b_fails ... FAILED\n\
test c_panics - should panic ... ok\n\
\n\
failures:\n\
\n\
---- b_fails stdout ----\n\
\n\
thread 'b_fails' (4242) panicked at tests/exercise.rs:33:5:\n\
scenario \"one\": the runner exited with code 101.\n\
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
\n\
\n\
failures:\n\
    b_fails\n\
\n\
test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n";

    #[test]
    fn libtest_output_gives_each_test_and_the_failure_message_trimmed() {
        let results = parse_libtest(OUTPUT);
        let names: Vec<(&str, bool)> =
            results.iter().map(|r| (r.name.as_str(), r.passed)).collect();
        assert_eq!(
            names,
            [("a_passes", true), ("b_fails", false), ("c_panics", true)]
        );
        assert_eq!(
            results[1].message.as_deref(),
            Some(
                "panicked at tests/exercise.rs:33:5:\n\
                 scenario \"one\": the runner exited with code 101."
            )
        );
    }

    #[test]
    fn a_long_message_is_cut_with_a_count() {
        let text: Vec<String> = (1..=20).map(|i| format!("line {i}")).collect();
        let cut = head(&text.join("\n"), 15);
        assert!(cut.ends_with("line 15\n... (5 more lines)"), "{cut}");
    }
}
