//! Builds c/pipespeed.c, the C twin of the benchmark, as a program of its
//! own (not linked in: the Rust side runs it like any other program, so no
//! `unsafe` foreign call is needed). The `cc` crate finds the C compiler
//! that Rust links with and gives it the same optimisation level as this
//! crate's Rust code; `PIPESPEED_C` tells main.rs where the program is and
//! `PIPESPEED_C_FLAGS` how it was compiled.

use std::path::PathBuf;

fn main() {
    let source = "c/pipespeed.c";
    println!("cargo::rerun-if-changed={source}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let program = out.join("pipespeed");
    let compiler =
        cc::Build::new().warnings(true).extra_warnings(true).get_compiler();
    let mut command = compiler.to_command();
    command.arg(source).arg("-o").arg(&program);
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("running the C compiler {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
    let flags: Vec<String> = compiler
        .args()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    println!("cargo::rustc-env=PIPESPEED_C={}", program.display());
    println!(
        "cargo::rustc-env=PIPESPEED_C_FLAGS={} {}",
        compiler.path().display(),
        flags.join(" ")
    );
}
