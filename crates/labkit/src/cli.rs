//! Command lines: every program parses its arguments with clap, and bad
//! input gets one clear line on stderr and exit status 2, never a page.

use clap::Parser;
use clap::error::ErrorKind;

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
                eprintln!("{program}: error: a command is missing: see `{program} --help`");
                std::process::exit(2);
            }
            _ => {
                eprintln!("{}: {}", program_name(), one_line(&error));
                std::process::exit(2);
            }
        },
    }
}

/// The first line of clap's message, which holds the whole complaint; the
/// rest is usage and a pointer to `--help`.
pub fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim()
        .to_string()
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
        let error = Demo::try_parse_from(["demo", "--count", "abc"]).unwrap_err();
        let line = one_line(&error);
        assert!(
            line.starts_with("error: invalid value 'abc' for '--count"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
