//! The tests of exercise 04 (the one copy: the reference solution runs this
//! same file). Each test runs the exercise's own program as a subprocess
//! with a time limit: it makes a FIFO, lets a shell write into it, and gives
//! the read end to `read_messages`.

use std::process::Command;
use std::time::Duration;

use labkit::exercise::run_scenario;

/// The exercise's runner (src/main.rs), built by cargo for this package.
const RUNNER: &str = env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME")));

/// What `read_messages` returned in one scenario.
struct Messages {
    messages: Vec<String>,
    partial: String,
}

fn scenario(name: &str) -> Messages {
    let report = run_scenario(
        Command::new(RUNNER).arg(name),
        Duration::from_secs(20),
        "Do you stop when read() returns 0 (end of file)? A loop that \
         ignores 0 spins forever.",
    );
    let messages: Vec<String> =
        report.all("message").into_iter().map(String::from).collect();
    assert_eq!(report.number("count"), messages.len(), "{report:?}");
    Messages {
        messages,
        partial: report.get("partial").unwrap_or_default().to_string(),
    }
}

#[test]
fn lines_split_across_reads_come_out_whole() {
    let report = scenario("lines");
    assert_eq!(
        report.messages,
        [r#""hello""#, r#""world""#],
        "the writer sent \"hel\", then \"lo\\nwor\", then \"ld\\n\": \
         keep unfinished bytes for the next read"
    );
    assert_eq!(report.partial, r#""""#);
}

#[test]
fn several_lines_in_one_read_are_several_messages() {
    let report = scenario("lines-at-once");
    assert_eq!(report.messages, [r#""a""#, r#""b""#, r#""""#, r#""c""#]);
}

#[test]
fn fixed_frames_lose_their_padding() {
    let report = scenario("fixed");
    assert_eq!(
        report.messages,
        [r#""ping""#, r#""ping""#, r#""ping""#, r#""end""#],
        "\"end\\0\" is the message \"end\": NUL bytes at the end of a \
         fixed frame are padding"
    );
}

#[test]
fn length_prefixes_split_mid_header_still_work() {
    let report = scenario("length");
    assert_eq!(
        report.messages,
        [r#""hello""#, r#""""#, r#""abc""#],
        "the 4-byte length itself may arrive in two reads; \
         a length of 0 is an empty message"
    );
    assert_eq!(report.partial, r#""""#);
}

#[test]
fn an_unfinished_line_is_partial() {
    let report = scenario("partial-line");
    assert_eq!(report.messages, [r#""one""#]);
    assert_eq!(
        report.partial, r#""tw""#,
        "bytes left at end of file are the partial message"
    );
}

#[test]
fn an_unfinished_length_frame_is_partial() {
    let report = scenario("partial-length");
    assert!(report.messages.is_empty(), "9 bytes were announced, 5 came");
    assert_eq!(report.partial, r#""\0\0\0\thello""#);
}

#[test]
fn a_writer_that_says_nothing_gives_nothing() {
    let report = scenario("silent");
    assert!(report.messages.is_empty());
    assert_eq!(report.partial, r#""""#);
}

#[test]
fn more_than_a_fifo_holds_is_read_to_the_end() {
    let report = scenario("large");
    assert_eq!(
        report.messages.len(),
        2000,
        "read until read() returns 0, not just once"
    );
    assert_eq!(report.messages[0], format!("\"line 0 {:050}\"", 0));
    assert_eq!(report.messages[1999], format!("\"line 1999 {:050}\"", 1999));
    // Each message is shown quoted, without its newline: the stream had
    // its bytes less the two quotes, plus the newline.
    let bytes: usize =
        report.messages.iter().map(|quoted| quoted.len() - 2 + 1).sum();
    assert_eq!(bytes, 120_890, "every byte of the stream, to the last");
}
