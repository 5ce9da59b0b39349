//! The book's "what you will see" blocks for this lesson are the program's
//! real output: this test re-runs each transcript declared in course.toml
//! and fails, naming the command that regenerates them, when they differ.

#[test]
fn the_books_transcripts_match_the_program() {
    labkit::transcript::check_lesson(env!("CARGO_MANIFEST_DIR"));
}
