//! Command lines: every program parses its arguments with clap, and bad
//! input gets one clear line on stderr and exit status 2, never a page.

use std::fmt::Display;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// The `main` of a lesson program: parses its arguments with [`parse`],
/// runs `body`, and turns an error into one line, `PROGRAM: ERROR`, and exit
/// status 1. `body` applies the program's `CommonArgs` first thing.
///
/// Under the tests' leak check ([`crate::hygiene::CHECK_VAR`]), a program
/// that leaves a descriptor open or a child unreaped fails at exit, with a
/// line naming each.
pub fn main<T: Parser, E: Display>(
    body: impl FnOnce(T) -> Result<ExitCode, E>,
) -> ExitCode {
    let inherited = crate::hygiene::Inherited::now();
    let code = match body(parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}: {error}", program_name());
            ExitCode::FAILURE
        }
    };
    let leaks = inherited.leaks_at_exit();
    if leaks.is_empty() {
        return code;
    }
    let report = crate::hygiene::LEAK_REPORT;
    eprintln!("{}: {report} {}", program_name(), leaks.join(", "));
    ExitCode::from(crate::hygiene::LEAK_STATUS)
}

/// The error of a system call, or of any step, prefixed by its name, as
/// C programs report with `perror("pipe2")`: `.map_err(failed("pipe2"))?`
/// gives "pipe2: EMFILE: Too many open files".
pub fn failed<E: Display>(call: &str) -> impl FnOnce(E) -> String + '_ {
    move |error| format!("{call}: {error}")
}

/// A program built next to this one (the lesson's other binaries are
/// built into the same directory).
pub fn sibling(name: &str) -> std::io::Result<std::path::PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(name))
}

/// A clap value parser for durations in seconds, fractions allowed, from 0
/// to an hour: `--pause 1.5`, `--wait 600`.
pub fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(secs) if (0.0..=3600.0).contains(&secs) => Ok(secs),
        _ => Err(format!(
            "expected a number of seconds from 0 to 3600, got {text:?}"
        )),
    }
}

/// Parses the process's arguments into `T`. `--help` and `--version` print
/// as usual; any error prints as one line, `PROGRAM: error: ...`, and exits
/// with status 2.
pub fn parse<T: Parser>() -> T {
    match T::try_parse() {
        Ok(args) => args,
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => error.exit(),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let program = program_name();
                eprintln!(
                    "{program}: error: a command is missing: see `{program} \
                     --help`"
                );
                std::process::exit(2);
            }
            _ => {
                eprintln!("{}: {}", program_name(), one_line(&error));
                std::process::exit(2);
            }
        },
    }
}

/// clap's complaint as one line. It is the message's first line, except
/// when that line ends with a colon ("the following required arguments were
/// not provided:"): then the indented lines it introduces are added to it.
/// Usage and the pointer to `--help` are left out.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().filter(|line| !line.trim().is_empty());
    let first = lines.next().unwrap_or("invalid arguments").trim().to_string();
    if !first.ends_with(':') {
        return first;
    }
    let listed: Vec<&str> =
        lines.take_while(|line| line.starts_with(' ')).map(str::trim).collect();
    format!("{first} {}", listed.join(", "))
}

fn program_name() -> String {
    std::env::args()
        .next()
        .and_then(|path| path.rsplit('/').next().map(str::to_string))
        .unwrap_or_else(|| "pipelab".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Demo {
        #[arg(long)]
        count: u32,
    }

    #[test]
    fn a_bad_value_becomes_one_line_naming_the_flag() {
        let error =
            Demo::try_parse_from(["demo", "--count", "abc"]).unwrap_err();
        let line = one_line(&error);
        assert!(
            line.starts_with("error: invalid value 'abc' for '--count"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }

    #[test]
    fn seconds_take_fractions_up_to_an_hour_and_nothing_else() {
        assert_eq!(seconds("1.5"), Ok(1.5));
        assert_eq!(seconds("3600"), Ok(3600.0));
        for bad in ["-1", "3601", "abc", "NaN", ""] {
            assert!(seconds(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_missing_argument_is_named_on_the_same_line() {
        let error = Demo::try_parse_from(["demo"]).unwrap_err();
        assert_eq!(
            one_line(&error),
            "error: the following required arguments were not provided: \
             --count <COUNT>"
        );
    }
}
