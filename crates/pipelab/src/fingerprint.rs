//! Fingerprints of source trees: a stable 64-bit FNV-1a hash of every file's
//! relative path and contents, so that "nothing changed" is one comparison.
//!
//! FNV is not a cryptographic hash, and needs none here: it only has to be
//! stable across runs and Rust versions (std's hasher promises neither).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// FNV-1a, 64 bits.
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// A field followed by a separator, so that ("ab", "c") and ("a", "bc")
    /// hash differently.
    pub fn field(&mut self, bytes: &[u8]) {
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Files and directories a fingerprint ignores: build output, version
/// control, and what editors leave beside a file (swap files, backups).
fn ignored(name: &str) -> bool {
    name == "target"
        || name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".orig")
}

/// Every file under `dir` that a fingerprint covers, relative to `dir`,
/// in a fixed order. A missing directory has no files.
pub fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = match fs::read_dir(dir.join(&relative)) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if ignored(&name.to_string_lossy()) {
                continue;
            }
            let path = relative.join(&name);
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Adds the tree under `dir` (paths and contents) to `hash`.
pub fn add_tree(hash: &mut Fnv, dir: &Path) -> io::Result<()> {
    for relative in files(dir)? {
        hash.field(relative.to_string_lossy().as_bytes());
        hash.field(&fs::read(dir.join(&relative))?);
    }
    Ok(())
}

/// Adds one file (or its absence) to `hash`.
pub fn add_file(hash: &mut Fnv, path: &Path) -> io::Result<()> {
    match fs::read(path) {
        Ok(bytes) => hash.field(&bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            hash.field(b"(missing)")
        }
        Err(error) => return Err(error),
    }
    Ok(())
}

/// The fingerprint of the tree under `dir` alone.
pub fn tree(dir: &Path) -> io::Result<String> {
    let mut hash = Fnv::new();
    add_tree(&mut hash, dir)?;
    Ok(hash.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_its_published_test_vectors() {
        let mut empty = Fnv::new();
        empty.write(b"");
        assert_eq!(empty.hex(), "cbf29ce484222325");
        let mut a = Fnv::new();
        a.write(b"a");
        assert_eq!(a.hex(), "af63dc4c8601ec8c");
    }

    #[test]
    fn a_tree_changes_with_a_file_and_ignores_editor_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/lib.rs"), "fn a() {}").unwrap();
        let before = tree(dir.path()).unwrap();
        fs::write(dir.path().join("src/.lib.rs.swp"), "junk").unwrap();
        fs::create_dir(dir.path().join("target")).unwrap();
        fs::write(dir.path().join("target/x"), "junk").unwrap();
        assert_eq!(tree(dir.path()).unwrap(), before);
        fs::write(dir.path().join("src/lib.rs"), "fn b() {}").unwrap();
        assert_ne!(tree(dir.path()).unwrap(), before);
    }
}
