//! The runner's memory, in one JSON file under target/pipelab/: which test
//! programs were built from which sources, each exercise's last verdict
//! (keyed by the fingerprint of the sources it was made from), and how many
//! hints each lesson has shown.
//!
//! Nothing here can make an exercise pass: a verdict only counts while the
//! sources still hash to its fingerprint, and `grade` ignores this file.
//! The file carries a format version; one this runner cannot read is
//! replaced, never trusted.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: u32 = 1;
const FILE_NAME: &str = "state.json";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// Per package: the test programs of its last successful build.
    #[serde(default)]
    pub builds: BTreeMap<String, Build>,
    /// Per exercise package: its last verdict.
    #[serde(default)]
    pub results: BTreeMap<String, CachedResult>,
    /// Per lesson slug: how many hints have been shown.
    #[serde(default)]
    pub hints: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Build {
    /// The fingerprint of every source the build read.
    pub fingerprint: String,
    pub executables: Vec<Executable>,
}

/// A program cargo built, and how to tell it has not been rebuilt or
/// replaced since.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Executable {
    pub path: PathBuf,
    /// True for a test program (to run); false for a program the tests run.
    pub test: bool,
    pub modified_ns: u128,
    pub size: u64,
}

impl Executable {
    /// Describes the file at `path` as it is now.
    pub fn at(path: PathBuf, test: bool) -> Option<Executable> {
        let meta = fs::metadata(&path).ok()?;
        let modified_ns = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(Executable { path, test, modified_ns, size: meta.len() })
    }

    /// True while the file is still the one that was recorded.
    pub fn unchanged(&self) -> bool {
        Executable::at(self.path.clone(), self.test).as_ref() == Some(self)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedResult {
    pub fingerprint: String,
    pub passing: bool,
    pub passed: usize,
    pub total: usize,
}

impl State {
    /// The state in `dir`, or a fresh one if there is none or it is not a
    /// format this runner knows.
    pub fn load(dir: &Path) -> State {
        let fresh = State { version: FORMAT_VERSION, ..State::default() };
        let Ok(text) = fs::read_to_string(dir.join(FILE_NAME)) else {
            return fresh;
        };
        match serde_json::from_str::<State>(&text) {
            Ok(state) if state.version == FORMAT_VERSION => state,
            _ => fresh,
        }
    }

    /// Writes the state to `dir` atomically (a reader never sees half a file).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        fs::create_dir_all(dir)?;
        let text = serde_json::to_string_pretty(self)
            .map_err(std::io::Error::other)?;
        let partial =
            dir.join(format!("{FILE_NAME}.{}.partial", std::process::id()));
        fs::write(&partial, text)?;
        fs::rename(&partial, dir.join(FILE_NAME))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_an_unknown_version_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = State::load(dir.path());
        assert_eq!(state.version, FORMAT_VERSION);
        state.hints.insert("pipe-fork".into(), 2);
        state.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path()).hints["pipe-fork"], 2);

        let future = r#"{"version": 99, "hints": {"pipe-fork": 4}}"#;
        fs::write(dir.path().join(FILE_NAME), future).unwrap();
        assert!(State::load(dir.path()).hints.is_empty());
        fs::write(dir.path().join(FILE_NAME), "not json").unwrap();
        assert_eq!(State::load(dir.path()).version, FORMAT_VERSION);
    }
}
