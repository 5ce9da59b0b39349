//! Splitting one stage's command line into words, the way a POSIX shell
//! does for the plain cases: blanks separate words, '...' keeps everything
//! literally, "..." keeps everything but lets a backslash escape `$`, `` ` ``,
//! `"` and `\`, and a backslash outside quotes escapes the next character.
//!
//! There is no expansion: no variables, no globs, no redirections. An
//! unquoted character that would make the shell do something (`|`, `>`,
//! `$`, `*`, ...) is refused with a line that says so, rather than passed on
//! as a plain word and silently differing from what bash would do.

use std::fmt;

/// Why a command line could not be split.
#[derive(Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A quote opened at `column` (counted from 1) is never closed.
    Unbalanced { quote: char, column: usize },
    /// An unquoted character the shell would act on, at `column`.
    Special { character: char, column: usize },
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SplitError::Unbalanced { quote, column } => {
                write!(f, "the {quote} at column {column} is never closed")
            }
            SplitError::Special { character: '|', column } => write!(
                f,
                "a `|` at column {column}: give each stage as its own \
                 argument, or quote it"
            ),
            SplitError::Special { character, column } => write!(
                f,
                "an unquoted `{character}` at column {column}: this lesson \
                 does no expansion or redirection; quote it"
            ),
        }
    }
}

/// The characters a shell would act on when they are not quoted.
const SPECIAL: &str = "|&;<>()$`*?";

/// Splits `line` into words.
pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    enum In {
        Nothing,
        Single(usize),
        Double(usize),
    }
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has begun even if it is still empty: '' is one empty word.
    let mut started = false;
    let mut state = In::Nothing;
    let mut chars = line.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        let column = at + 1;
        match state {
            In::Nothing => match c {
                ' ' | '\t' | '\n' => {
                    if started {
                        words.push(std::mem::take(&mut word));
                        started = false;
                    }
                }
                '\'' => (state, started) = (In::Single(column), true),
                '"' => (state, started) = (In::Double(column), true),
                '\\' => {
                    started = true;
                    // A backslash at the very end stays a backslash.
                    word.push(chars.next().map_or('\\', |(_, next)| next));
                }
                c if SPECIAL.contains(c) => {
                    return Err(SplitError::Special { character: c, column });
                }
                c => {
                    started = true;
                    word.push(c);
                }
            },
            In::Single(_) => match c {
                '\'' => state = In::Nothing,
                c => word.push(c),
            },
            In::Double(_) => match c {
                '"' => state = In::Nothing,
                '\\' => match chars.peek() {
                    Some(&(_, next)) if "$`\"\\".contains(next) => {
                        word.push(next);
                        chars.next();
                    }
                    // Backslash-newline is a line continuation: both go.
                    Some(&(_, '\n')) => {
                        chars.next();
                    }
                    _ => word.push('\\'),
                },
                // Inside "...", `$` and `` ` `` would expand in a shell.
                '$' | '`' => {
                    return Err(SplitError::Special { character: c, column });
                }
                c => word.push(c),
            },
        }
    }
    match state {
        In::Single(column) => {
            Err(SplitError::Unbalanced { quote: '\'', column })
        }
        In::Double(column) => {
            Err(SplitError::Unbalanced { quote: '"', column })
        }
        In::Nothing => {
            if started {
                words.push(word);
            }
            Ok(words)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|error| panic!("{line:?}: {error}"))
    }

    #[test]
    fn blanks_separate_words() {
        assert_eq!(words("  head   -n 2 "), ["head", "-n", "2"]);
        assert!(words("   ").is_empty());
    }

    #[test]
    fn quotes_keep_blanks_and_join_with_neighbours() {
        assert_eq!(words("printf 'a b'"), ["printf", "a b"]);
        assert_eq!(words(r#"x"a b"'c d'y"#), ["xa bc dy"]);
        assert_eq!(words("echo '' x"), ["echo", "", "x"]);
    }

    #[test]
    fn backslashes_escape_as_in_sh() {
        // In "...", \n stays two characters: printf sees them and makes a
        // newline, exactly as it does after bash's splitting.
        assert_eq!(words(r#"printf "a\nb""#), ["printf", r"a\nb"]);
        assert_eq!(words(r#"echo "\"q\" \\""#), ["echo", r#""q" \"#]);
        assert_eq!(words(r"echo a\ b"), ["echo", "a b"]);
        assert_eq!(words(r"tr '\0' x"), ["tr", r"\0", "x"]);
    }

    #[test]
    fn an_unbalanced_quote_names_its_column() {
        assert_eq!(
            split("printf 'abc"),
            Err(SplitError::Unbalanced { quote: '\'', column: 8 })
        );
        assert_eq!(
            split(r#"echo "x"#).unwrap_err().to_string(),
            "the \" at column 6 is never closed"
        );
    }

    #[test]
    fn what_the_shell_would_act_on_is_refused_unless_quoted() {
        assert!(matches!(
            split("ls | wc"),
            Err(SplitError::Special { character: '|', .. })
        ));
        assert!(split("echo $HOME").is_err());
        assert!(split(r#"echo "$HOME""#).is_err());
        assert_eq!(words("sh -c 'ls /proc/$$/fd'")[2], "ls /proc/$$/fd");
    }
}
