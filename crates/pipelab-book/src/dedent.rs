//! Listings start at the left margin.
//!
//! A chapter includes a lesson's code by anchors, often from the middle of a
//! function, so each line arrives with the function's indentation. mdBook
//! 0.5 has no option to remove it; this preprocessor, run after mdBook's
//! `{{#include}}`, strips the indentation common to every line of each
//! `rust` code block. Other blocks (transcripts, shell) are left exactly as
//! they are.

use mdbook_preprocessor::book::{Book, BookItem};
use mdbook_preprocessor::errors::Result;
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};

pub struct Dedent;

impl Preprocessor for Dedent {
    fn name(&self) -> &str {
        "pipelab-dedent"
    }

    fn run(
        &self,
        _context: &PreprocessorContext,
        mut book: Book,
    ) -> Result<Book> {
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item {
                chapter.content = dedent_rust_blocks(&chapter.content);
            }
        });
        Ok(book)
    }
}

/// `markdown` with the common indentation of each ```` ```rust ```` block's
/// lines removed.
pub fn dedent_rust_blocks(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut block: Option<Vec<&str>> = None;
    for line in markdown.split_inclusive('\n') {
        let fence = line.starts_with("```");
        match block.as_mut() {
            None => {
                out.push_str(line);
                if fence && line[3..].trim_start().starts_with("rust") {
                    block = Some(Vec::new());
                }
            }
            Some(lines) if !fence => lines.push(line),
            Some(lines) => {
                let indent = lines
                    .iter()
                    .filter(|line| !line.trim().is_empty())
                    .map(|line| line.len() - line.trim_start_matches(' ').len())
                    .min()
                    .unwrap_or(0);
                for code in lines.iter() {
                    out.push_str(code.get(indent..).unwrap_or(
                        if code.ends_with('\n') { "\n" } else { "" },
                    ));
                }
                out.push_str(line);
                block = None;
            }
        }
    }
    // An unclosed block is left as it came.
    if let Some(lines) = block {
        lines.iter().for_each(|line| out.push_str(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_blocks_lose_their_common_indentation_only() {
        let markdown = "text\n```rust,noplayground\n    let a = 1;\n\n        if a {}\n```\n```text\n child | hi\n```\n";
        assert_eq!(
            dedent_rust_blocks(markdown),
            "text\n```rust,noplayground\nlet a = 1;\n\n    if a {}\n```\n```text\n child | hi\n```\n"
        );
    }

    #[test]
    fn an_unindented_block_is_unchanged() {
        let markdown = "```rust\nfn main() {\n    run();\n}\n```\n";
        assert_eq!(dedent_rust_blocks(markdown), markdown);
    }
}
