//! `cargo lab reset N` (back to the stub, keeping a named backup) and
//! `cargo lab solution N` (the reference, once the exercise passes).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::course::Workspace;
use crate::engine::{self, Kind};
use crate::pristine::{self, Comparison};
use crate::state::State;
use crate::{Outcome, Problem, fingerprint, ui};

pub fn reset(workspace: &Workspace, lesson: &str, yes: bool) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    workspace
        .exercise_of(lesson)
        .ok_or_else(|| engine::no_exercise(workspace, lesson))?;
    let exercise = workspace.exercise_dir(lesson);
    let shown = workspace.relative(&exercise).display().to_string();
    match pristine::compare(workspace, lesson)? {
        Comparison::Missing => {
            return Err(Problem::fail(format!(
                "the course keeps no pristine copy of exercise {} ({} is missing)",
                lesson.number,
                workspace.relative(&workspace.pristine_dir(lesson)).display()
            )));
        }
        Comparison::Same => {
            println!(
                "{shown} is already the untouched stub: nothing to reset."
            );
            return Ok(ExitCode::SUCCESS);
        }
        Comparison::Differs => {}
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Problem::fail(format!(
                "reset replaces your work in {shown}: add --yes to confirm (no terminal to ask on)"
            )));
        }
        print!(
            "Replace your work in {shown} with the original stub? A backup is kept. [y/N] "
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing changed.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let backup = backup_dir(workspace, &lesson.dir_name());
    pristine::copy_tree(&exercise, &backup)?;
    pristine::replace_tree(&workspace.pristine_dir(lesson), &exercise)?;
    println!(
        "Exercise {} is back to its stub. Your version is saved in {}",
        lesson.number,
        workspace.relative(&backup).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// backups/NN-slug-YYYYMMDD-HHMMSS, in the course root: outside target/,
/// which `cargo clean` empties, and outside exercises/, whose every
/// directory cargo would take for a package.
fn backup_dir(workspace: &Workspace, name: &str) -> PathBuf {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let base = workspace.root.join("backups");
    let stamp = utc_stamp(now);
    let mut candidate = base.join(format!("{name}-{stamp}"));
    let mut n = 2;
    while candidate.exists() {
        candidate = base.join(format!("{name}-{stamp}-{n}"));
        n += 1;
    }
    candidate
}

/// "20261122-184500" for a Unix time, in UTC (days to civil date after
/// Howard Hinnant's algorithm).
pub fn utc_stamp(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524
        - day_of_era / 146_096)
        / 365;
    let day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

pub fn solution(workspace: &Workspace, lesson: &str) -> Outcome {
    let lesson = workspace.lesson(lesson)?;
    let n = lesson.number;
    let dir = workspace.solution_dir(lesson);
    if workspace.is_handout() || !dir.is_dir() {
        println!(
            "The reference solutions are not included in this copy of the course; ask your instructor."
        );
        return Ok(ExitCode::FAILURE);
    }
    let mut state = State::load(&workspace.state_dir);
    ui::progress(&format!("checking exercise {n} first..."));
    let verdict = engine::check_exercise(
        workspace,
        &mut state,
        lesson,
        Duration::from_secs(60),
    )?;
    let _ = state.save(&workspace.state_dir);
    if verdict.kind != Kind::Passing {
        println!(
            "The solution of exercise {n} is shown once your exercise passes: `cargo lab check {n}` ({} of {} tests pass now).",
            verdict.passed(),
            verdict.tests.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    // The solution's own sources; its runner and tests are the exercise's.
    for relative in fingerprint::files(&dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
    {
        let text = std::fs::read_to_string(dir.join(&relative))?;
        let shown =
            workspace.relative(&dir.join(&relative)).display().to_string();
        println!("{}\n\n{text}", ui::bold(&format!("==> {shown} <==")));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        // `date -u -d @1763836800`: Sat Nov 22 18:40:00 UTC 2025.
        assert_eq!(utc_stamp(1_763_836_800), "20251122-184000");
        // A leap day.
        assert_eq!(utc_stamp(951_782_400), "20000229-000000");
    }
}
