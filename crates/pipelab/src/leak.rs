//! Solution code in a handout, found even when it was edited a little.
//!
//! Comparing whole files misses a solution with one comment added. So each
//! solution is cut into shingles: every run of a few consecutive lines
//! that carry code, with comments and spacing removed. A shingle that the
//! course's teaching material also holds (the stub as shipped, the lessons,
//! labkit) gives nothing away; any other that turns up in a handout file
//! is solution code, and the handout is refused, naming both files.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::course::Workspace;
use crate::{Problem, fingerprint};

/// How many consecutive code lines make a shingle: enough that a shared
/// idiom (`let mut buffer = ...; loop {`) does not count.
const SHINGLE: usize = 4;

/// Where the solution code is that a handout must not hold, and where the
/// course's own teaching code is that it may.
pub fn check(workspace: &Workspace, handout: &Path) -> Result<(), Problem> {
    let solutions = workspace.root.join("solutions");
    let mut secret: HashMap<Vec<String>, PathBuf> = HashMap::new();
    for relative in rust_files(&solutions)? {
        let text = fs::read_to_string(solutions.join(&relative))?;
        for shingle in shingles(&text) {
            secret.entry(shingle).or_insert_with(|| relative.clone());
        }
    }
    for shared in ["crates/pipelab/pristine", "lessons", "crates/labkit"] {
        let dir = workspace.root.join(shared);
        for relative in rust_files(&dir)? {
            let text = fs::read_to_string(dir.join(&relative))?;
            for shingle in shingles(&text) {
                secret.remove(&shingle);
            }
        }
    }
    for relative in rust_files(handout)? {
        let Ok(text) = fs::read_to_string(handout.join(&relative)) else {
            continue;
        };
        if let Some(source) = shingles(&text).iter().find_map(|s| secret.get(s))
        {
            return Err(Problem::fail(format!(
                "{} in the handout holds code of solutions/{}: the handout is not safe to give out (nothing was written)",
                relative.display(),
                source.display()
            )));
        }
    }
    Ok(())
}

fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, Problem> {
    Ok(fingerprint::files(dir)?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect())
}

/// Every run of `SHINGLE` consecutive code lines of `text`, normalised (a
/// shorter file is one shingle).
fn shingles(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<String> = text.lines().filter_map(code_of).collect();
    if lines.len() < SHINGLE {
        return if lines.is_empty() { Vec::new() } else { vec![lines] };
    }
    lines.windows(SHINGLE).map(<[String]>::to_vec).collect()
}

/// A line's code without comments or spacing; None when nothing is left
/// that tells one program from another (a brace, `Ok(())`).
fn code_of(line: &str) -> Option<String> {
    let code = match line.find("//") {
        // A `//` inside a string literal is code: keep a line with quotes.
        Some(at) if !line[..at].contains('"') => &line[..at],
        _ => line,
    };
    let code: String = code.split_whitespace().collect();
    (code.len() >= 8 && !code.starts_with("/*") && !code.starts_with('*'))
        .then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_spacing_do_not_hide_a_shingle() {
        let solution = "fn f() {\n    let a = first_call();\n    let b = second_call(a);\n    \
                        let c = third_call(b);\n    finish_with(c)\n}\n";
        let edited = "// mine, honest\nfn f() {\n  let a = first_call(); // note\n\n  \
                      let b = second_call(a);\n  let c =   third_call(b);\n  finish_with(c)\n}\n";
        let theirs = shingles(edited);
        assert!(shingles(solution).iter().any(|s| theirs.contains(s)));
        assert!(shingles("}\n// only a comment\n").is_empty());
    }
}
