//! Lesson 08's claims, checked by running the `pipeline` program and, for
//! every pipeline, bash itself: the same stages, the same output byte for
//! byte, the same PIPESTATUS.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::watchdog::Finished;

const PIPELINE: &str = env!("CARGO_BIN_EXE_pipeline");

/// What a pipeline left behind: its standard output (raw bytes, from a
/// file), its stderr, its exit status and each stage's status.
struct Outcome {
    output: Vec<u8>,
    stderr: String,
    code: Option<i32>,
    pipestatus: Vec<i32>,
}

/// Runs `bash` with `script`, bounded, in `dir`.
fn bash(script: &str, dir: &Path) -> Finished {
    let done = run_clean(
        Command::new("bash").args(["-c", script]).current_dir(dir),
        Duration::from_secs(30),
    )
    .unwrap_or_else(|error| panic!("bash -c {script:?}: {error}"));
    assert!(!done.left_running, "bash -c {script:?} left a process running");
    done
}

/// bash runs `stages` as `A | B | C > out`, then prints ${PIPESTATUS[@]}.
fn by_bash(stages: &[&str], dir: &Path) -> Outcome {
    let script = format!(
        "{} > bash.out; echo \"${{PIPESTATUS[@]}}\"",
        stages.join(" | ")
    );
    let done = bash(&script, dir);
    Outcome {
        output: fs::read(dir.join("bash.out")).expect("bash.out"),
        pipestatus: numbers(done.stdout.trim()),
        code: done.status.code(),
        stderr: done.stderr,
    }
}

/// The lesson runs `stages` with its standard output on a file (bash only
/// opens the file and execs the program: the pipeline is the lesson's).
fn by_lesson(flags: &[&str], stages: &[&str], dir: &Path) -> Outcome {
    let mut command = Command::new("bash");
    command
        .args(["-c", "exec \"$0\" \"$@\" > lesson.out", PIPELINE])
        .args(["--color", "never"])
        .args(flags)
        .arg("--")
        .args(stages)
        .current_dir(dir);
    let done = run_clean(&mut command, Duration::from_secs(30))
        .unwrap_or_else(|error| panic!("pipeline {stages:?}: {error}"));
    assert!(
        !done.left_running,
        "pipeline {flags:?} {stages:?} left a process running: \
         every stage must be reaped\n{}",
        done.stderr
    );
    let pipestatus = done
        .stderr
        .lines()
        .find_map(|line| line.strip_prefix("parent | PIPESTATUS: "))
        .map(|rest| numbers(rest.split(" (").next().unwrap_or_default()))
        .unwrap_or_default();
    Outcome {
        output: fs::read(dir.join("lesson.out")).expect("lesson.out"),
        stderr: done.stderr,
        code: done.status.code(),
        pipestatus,
    }
}

fn numbers(text: &str) -> Vec<i32> {
    text.split_whitespace().map(|word| word.parse().unwrap_or(-1)).collect()
}

/// The lesson and bash agree on output, PIPESTATUS and exit status.
fn same_as_bash(stages: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let bash = by_bash(stages, dir.path());
    let ours = by_lesson(&[], stages, dir.path());
    assert!(
        ours.output == bash.output,
        "{stages:?}: the lesson printed {} bytes, bash {} bytes \
         (first bytes: {:?} vs {:?})\n{}",
        ours.output.len(),
        bash.output.len(),
        &ours.output[..ours.output.len().min(40)],
        &bash.output[..bash.output.len().min(40)],
        ours.stderr
    );
    assert_eq!(ours.pipestatus, bash.pipestatus, "{stages:?}\n{}", ours.stderr);
    // POSIX: the pipeline's status is its last stage's, bash's `$?`.
    assert_eq!(ours.code, bash.pipestatus.last().copied(), "{stages:?}");
    assert_eq!(bash.code, Some(0), "bash's echo: {}", bash.stderr);
    ours
}

#[test]
fn the_books_three_stage_pipeline_prints_what_bash_prints() {
    let ours = same_as_bash(&[r#"printf "a\nb\nc\n""#, "sort -r", "head -n 2"]);
    assert_eq!(ours.output, b"c\nb\n");
    assert_eq!(ours.pipestatus, [0, 0, 0]);
}

#[test]
fn two_and_five_stage_pipelines_match_bash() {
    same_as_bash(&["echo hello pipes", "tr a-z A-Z"]);
    let five = same_as_bash(&[
        r"printf 'b\na\nc\nb\nb\na\n'",
        "sort",
        "uniq -c",
        "sort -rn",
        "head -n 2",
    ]);
    assert_eq!(five.pipestatus.len(), 5);
}

#[test]
fn binary_data_passes_through_unchanged() {
    // gzip -n: no name or time in the header, so both runs make the same
    // bytes; 0xff and NUL bytes included.
    let ours = same_as_bash(&["seq 1 30000", "gzip -c -n", "cat"]);
    assert!(ours.output.starts_with(&[0x1f, 0x8b]), "a gzip stream");
    let ours = same_as_bash(&["head -c 300000 /dev/zero", r"tr '\0' '\377'"]);
    assert!(ours.output.iter().all(|&byte| byte == 0xff));
}

#[test]
fn more_than_a_pipe_holds_flows_through_every_stage() {
    // About 1.3 MB: twenty times the 64 KiB a pipe holds by default, so
    // every stage blocks on a full pipe many times over.
    let ours = same_as_bash(&["seq 1 200000", "cat", "cat", "cat"]);
    assert!(ours.output.len() > 1_000_000);
}

#[test]
fn a_stage_that_exits_early_kills_its_writer_with_sigpipe() {
    let ours = same_as_bash(&["yes", "head -n 3"]);
    assert_eq!(ours.pipestatus, [141, 0]);
    let reaped = how_stage_1_ended(&ours.stderr);
    assert!(
        reaped
            .ends_with("killed by signal 13 (SIGPIPE); a shell would show 141"),
        "{reaped}"
    );
    assert!(ours.stderr.contains("(lesson 03)"), "{}", ours.stderr);
    // seq writes 588 895 bytes; head leaves after one line.
    let ours = same_as_bash(&["seq 1 100000", "head -n 1"]);
    assert_eq!(ours.pipestatus, [141, 0]);
}

#[test]
fn exit_codes_are_kept_per_stage_and_pipefail_takes_the_last_failure() {
    let stages = ["sh -c 'exit 3'", "sh -c 'cat; exit 5'", "cat"];
    let ours = same_as_bash(&stages);
    assert_eq!(ours.pipestatus, [3, 5, 0]);
    assert!(
        ours.stderr
            .contains("status: 0 (POSIX: the last stage's), 5 with pipefail"),
        "{}",
        ours.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let pipefail = by_lesson(&["--pipefail"], &stages, dir.path());
    let script = format!("set -o pipefail; {}", stages.join(" | "));
    assert_eq!(pipefail.code, bash(&script, dir.path()).status.code());
    assert_eq!(pipefail.code, Some(5));
}

#[test]
fn a_command_not_found_is_127_for_its_stage_as_in_bash() {
    let dir = tempfile::tempdir().unwrap();
    // Not `printf x` on the left: whether it writes before or after the
    // missing stage's child has exited is a race, in bash too (0 or 141).
    for stages in [
        ["sh -c 'exit 4'", "no-such-command-pipelab"],
        ["no-such-command-pipelab", "cat"],
    ] {
        let bash = by_bash(&stages, dir.path());
        for spawn in ["fork", "bare", "command"] {
            let ours = by_lesson(&["--spawn", spawn], &stages, dir.path());
            assert_eq!(ours.pipestatus, bash.pipestatus, "{spawn}: {stages:?}");
            assert_eq!(ours.output, bash.output);
            let said: Vec<&str> = ours
                .stderr
                .lines()
                .filter(|line| line.starts_with("pipeline:"))
                .collect();
            assert_eq!(
                said,
                [format!(
                    "pipeline: stage {}: no-such-command-pipelab: \
                     command not found",
                    1 + stages
                        .iter()
                        .position(|s| s.starts_with("no-"))
                        .unwrap()
                )],
                "one clear line"
            );
        }
    }
}

#[test]
fn command_and_the_bare_calls_build_the_same_pipelines() {
    let dir = tempfile::tempdir().unwrap();
    for stages in [
        &["seq 1 200000", "cat", "wc -c"][..],
        &["yes", "head -n 2"],
        &["seq 1 30000", "gzip -c -n", "cat"],
    ] {
        let bash = by_bash(stages, dir.path());
        for spawn in ["command", "bare"] {
            let ours = by_lesson(&["--spawn", spawn], stages, dir.path());
            assert!(ours.output == bash.output, "{spawn}: {stages:?}");
            assert_eq!(ours.pipestatus, bash.pipestatus, "{spawn}: {stages:?}");
        }
    }
}

/// Each stage's descriptor table as the narration shows it before exec:
/// (stage number, the lines of its table).
fn tables(stderr: &str) -> Vec<(usize, Vec<String>)> {
    let mut found: Vec<(usize, Vec<String>)> = Vec::new();
    for line in stderr.lines() {
        let Some(text) = line.strip_prefix(" child | ") else {
            continue;
        };
        if let Some(rest) = text.strip_prefix("stage ") {
            if rest.contains("before exec") {
                let number = rest.split(' ').next().unwrap().parse().unwrap();
                found.push((number, Vec::new()));
            }
        } else if text.starts_with("  l") {
            found.last_mut().unwrap().1.push(text.trim().to_string());
        }
    }
    found
}

#[test]
fn before_exec_each_stage_holds_only_its_own_ends_on_0_and_1() {
    let dir = tempfile::tempdir().unwrap();
    let stages = ["seq 1 5", "cat", "cat", "cat", "wc -l"];
    let ours = by_lesson(&[], &stages, dir.path());
    let tables = tables(&ours.stderr);
    assert_eq!(tables.len(), 5, "{}", ours.stderr);
    for (number, table) in &tables {
        let ours: Vec<&String> =
            table.iter().filter(|line| line.contains("pipe #")).collect();
        let mut wanted = Vec::new();
        if *number > 1 {
            wanted.push(format!(
                "lr-x------  0 -> pipe #{}, read end",
                number - 1
            ));
        }
        if *number < 5 {
            wanted.push(format!("l-wx------  1 -> pipe #{number}, write end"));
        }
        assert_eq!(ours, wanted.iter().collect::<Vec<_>>(), "stage {number}");
        // The only other pipe of ours is the exec report, gone at exec.
        let report: Vec<&String> =
            table.iter().filter(|line| line.contains("exec report")).collect();
        assert_eq!(report.len(), 1);
        assert!(report[0].ends_with("(O_CLOEXEC: gone at exec)"));
    }
    // The shell closes both ends of each of its four pipes.
    let closed = ours
        .stderr
        .lines()
        .filter(|line| line.starts_with("parent | closed fd "))
        .count();
    assert_eq!(closed, 4, "{}", ours.stderr);
}

/// The descriptors a probe stage listed with `ls -l /proc/$$/fd`: one
/// list per stage, each entry "N -> target" with pipe inodes blanked.
fn probed(output: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(output);
    let mut lists: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        if line.starts_with("total") {
            lists.push(Vec::new());
        } else if let Some((left, target)) = line.split_once(" -> ") {
            let fd = left.split_whitespace().last().unwrap_or_default();
            // Inodes and the two runs' output files differ by name only.
            let target = if target.starts_with("pipe:") {
                "pipe"
            } else if target.ends_with(".out") {
                "the output file"
            } else {
                target
            };
            lists.last_mut().unwrap().push(format!("{fd} -> {target}"));
        }
    }
    lists
}

#[test]
fn no_stage_inherits_a_descriptor_that_bashs_stages_do_not() {
    // Each stage's shell lists its own descriptors (ls is a child of that
    // sh, so it reads the table of the stage and not its own), after
    // passing on what came from the left.
    let probe = "sh -c 'cat; ls -l /proc/$$/fd; true'";
    let stages = ["sh -c 'ls -l /proc/$$/fd; true'", probe, probe];
    let dir = tempfile::tempdir().unwrap();
    let bash = probed(&by_bash(&stages, dir.path()).output);
    let ours = probed(&by_lesson(&[], &stages, dir.path()).output);
    assert_eq!(bash.len(), 3, "bash's probe: {bash:?}");
    assert_eq!(ours.len(), 3, "the lesson's probe: {ours:?}");
    for (index, (mine, theirs)) in ours.iter().zip(&bash).enumerate() {
        let leaked: Vec<&String> =
            mine.iter().filter(|fd| !theirs.contains(fd)).collect();
        assert!(
            leaked.is_empty(),
            "stage {} holds {leaked:?}, which bash's stage {} does not",
            index + 1,
            index + 1
        );
        assert!(mine.iter().any(|fd| fd.starts_with("0 -> ")));
    }
}

#[test]
fn yes_into_head_ends_at_once_with_yes_killed_by_sigpipe() {
    let dir = tempfile::tempdir().unwrap();
    let ours = by_lesson(&[], &["yes", "head -n 1"], dir.path());
    assert_eq!(ours.output, b"y\n");
    assert_eq!(ours.pipestatus, [141, 0]);
    assert!(
        how_stage_1_ended(&ours.stderr)
            .ends_with("killed by signal 13 (SIGPIPE); a shell would show 141"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours.code, Some(0));
}

/// The pid the shell announces in its first line.
fn shell_pid(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|line| line.strip_prefix("parent | pid "))
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_leaked_write_end_hangs_the_last_stage_until_named_and_closed() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--leak-write-end", "--patience", "1"];
    let ours = by_lesson(&flags, &["printf x", "cat"], dir.path());
    assert_eq!(ours.code, Some(1), "the hang must end in failure");
    assert!(ours.stderr.contains("after 1.0 s the pipeline has not ended"));
    let holder = format!(
        "kernel |   pid {} (pipeline) holds it as fd ",
        shell_pid(&ours.stderr)
    );
    assert!(
        ours.stderr.lines().any(|line| line.starts_with(&holder)
            && line.ends_with(": the shell itself")),
        "the holder of the write end is named:\n{}",
        ours.stderr
    );
    // Once the shell closes its copy, cat reads end of file and ends well.
    assert_eq!(ours.output, b"x");
    assert_eq!(ours.pipestatus, [0, 0]);
}

#[test]
fn without_o_cloexec_an_unrelated_program_holds_the_pipe_open() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--no-cloexec", "--patience", "1"];
    let ours = by_lesson(&flags, &["printf x", "cat"], dir.path());
    assert_eq!(ours.code, Some(1), "{}", ours.stderr);
    assert!(
        ours.stderr.lines().any(|line| line.contains("(sleep) holds it as fd")
            && line.ends_with(": an unrelated program")),
        "{}",
        ours.stderr
    );
    // What it inherited: both ends of pipe #1, through its exec.
    assert!(
        ours.stderr.contains("  4 -> pipe #1, write end\n"),
        "{}",
        ours.stderr
    );
    assert_eq!(ours.output, b"x");
}

#[test]
fn with_o_cloexec_the_same_pipeline_ends_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let ours =
        by_lesson(&["--patience", "5"], &["printf x", "cat"], dir.path());
    assert_eq!(ours.code, Some(0), "{}", ours.stderr);
    assert!(!ours.stderr.contains("has not ended"));
}

#[test]
fn a_forgotten_dup2_sends_output_past_the_next_stage() {
    let dir = tempfile::tempdir().unwrap();
    let stages = [r"printf 'a\nb\n'", "wc -l"];
    let ours = by_lesson(&["--forget-dup2"], &stages, dir.path());
    // bash prints "2"; here printf's lines reach the output directly and
    // wc counts nothing. Which comes first depends on who runs first.
    let mut lines: Vec<String> = String::from_utf8_lossy(&ours.output)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(lines, ["0", "a", "b"], "{}", ours.stderr);
    assert!(ours.stderr.contains("no dup2 onto fd 1 for me"));
    assert_eq!(by_bash(&stages, dir.path()).output, b"2\n");
}

#[test]
fn quiet_leaves_standard_error_to_the_stages() {
    let dir = tempfile::tempdir().unwrap();
    let ours = by_lesson(&["--quiet"], &["seq 3", "tac"], dir.path());
    assert_eq!(ours.output, b"3\n2\n1\n");
    assert_eq!(ours.stderr, "");
}

/// A run that must be refused before any process is started.
fn refused(stages: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ours = by_lesson(&[], stages, dir.path());
    assert_eq!(ours.code, Some(2), "{stages:?}: {}", ours.stderr);
    assert_eq!(ours.stderr.lines().count(), 1, "one line: {}", ours.stderr);
    assert!(ours.output.is_empty());
    ours.stderr
}

#[test]
fn bad_input_is_one_line_and_no_process() {
    assert!(
        refused(&["printf x", "  "]).starts_with("pipeline: stage 2 is empty")
    );
    let line = refused(&["printf 'abc", "cat"]);
    assert!(line.contains("the ' at column 8 is never closed"), "{line}");
    let line = refused(&["ls | wc -l"]);
    assert!(line.contains("give each stage as its own argument"), "{line}");
}

#[test]
fn a_leak_needs_a_pipe_to_leak() {
    let dir = tempfile::tempdir().unwrap();
    let ours = by_lesson(&["--leak-write-end"], &["yes"], dir.path());
    assert_eq!(ours.code, Some(2));
    assert_eq!(
        ours.stderr,
        "pipeline: --leak-write-end needs two stages or more\n"
    );
}

#[test]
fn trace_shows_each_pipe2_and_dup2_with_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let ours = by_lesson(&["--trace"], &["seq 2", "cat"], dir.path());
    let calls: Vec<&str> = ours
        .stderr
        .lines()
        .filter_map(|line| line.split_once(" |   ").map(|(_, call)| call))
        .filter(|call| call.starts_with("pipe2(") || call.starts_with("dup2("))
        .collect();
    assert_eq!(calls.len(), 3, "one pipe2, two dup2s: {calls:?}");
    assert!(calls[0].ends_with("], O_CLOEXEC) = 0"), "{calls:?}");
    assert!(calls[1..].iter().all(|call| call.ends_with(") = 0")));
    assert_eq!(ours.output, b"1\n2\n");
}

#[test]
fn a_sibling_that_keeps_a_write_end_is_named_and_ended() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--leak-in-stage", "1", "--patience", "1"];
    let stages = ["sleep 30", "echo x", "cat"];
    let ours = by_lesson(&flags, &stages, dir.path());
    assert_eq!(ours.code, Some(1), "{}", ours.stderr);
    // Its table before exec shows the copy it should not have.
    let first = &tables(&ours.stderr)[0];
    assert_eq!(first.0, 1);
    assert!(
        first.1.iter().any(|line| !line.contains(" 1 -> ")
            && line.ends_with("-> pipe #2, write end")),
        "{:?}",
        first.1
    );
    assert!(
        ours.stderr.lines().any(|line| line.contains("(sleep) holds it as fd")
            && line.ends_with("stage 1, which does not write it")),
        "{}",
        ours.stderr
    );
    // Ended by the lesson (SIGTERM), so cat could finish: 143 0 0.
    assert_eq!(ours.pipestatus, [143, 0, 0]);
    assert_eq!(ours.output, b"x\n");
}

#[test]
fn a_reader_that_keeps_its_own_write_end_waits_for_itself() {
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--leak-in-stage", "2", "--patience", "1"];
    let ours = by_lesson(&flags, &["echo x", "cat"], dir.path());
    assert_eq!(ours.code, Some(1), "{}", ours.stderr);
    assert!(
        ours.stderr.lines().any(|line| line.contains("(cat) holds it as fd")
            && line.ends_with("stage 2 itself: it waits for itself")),
        "{}",
        ours.stderr
    );
    assert_eq!(ours.output, b"x\n");
}

/// The line after "reaped stage 1 (pid N):" in the narration: how the
/// first stage ended, in words.
fn how_stage_1_ended(narration: &str) -> &str {
    let lines: Vec<&str> = narration.lines().collect();
    let at = lines
        .iter()
        .position(|line| line.starts_with("parent | reaped stage 1 (pid "))
        .unwrap_or_else(|| panic!("stage 1 never reaped:\n{narration}"));
    lines.get(at + 1).copied().unwrap_or_default()
}
