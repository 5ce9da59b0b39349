//! `cargo lab doctor`: what on this machine could get in the course's way,
//! in plain words. Exit status 1 only for what stops the course from
//! working; the unusual is reported and allowed.

use std::process::{Command, ExitCode};

use crate::course::{Workspace, target_dir};
use crate::{Outcome, ui};

enum Finding {
    Fine(String),
    Unusual(String),
    Wrong(String),
}

pub fn doctor(workspace: &Workspace) -> Outcome {
    let findings = vec![
        platform(),
        rust_version(workspace),
        pipe_max_size(),
        umask(),
        temp_dir(),
        state_dir(workspace),
        strace(),
    ];
    let mut wrong = 0;
    for finding in findings {
        match finding {
            Finding::Fine(text) => println!("  {}  {text}", ui::good("ok")),
            Finding::Unusual(text) => println!("  {}  {text}", ui::bold("!!")),
            Finding::Wrong(text) => {
                wrong += 1;
                println!("  {}  {text}", ui::bad("XX"));
            }
        }
    }
    if wrong == 0 {
        println!("\nThis machine can run the course.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\n{wrong} problem(s) above stop the course from working here."
        );
        Ok(ExitCode::FAILURE)
    }
}

fn platform() -> Finding {
    if cfg!(target_os = "linux") {
        let wsl = std::fs::read_to_string("/proc/version")
            .is_ok_and(|v| v.to_lowercase().contains("microsoft"));
        if wsl {
            Finding::Unusual(
                "Linux under WSL: pipes behave as on Linux; if `cargo lab watch` misses saves, use `--poll`".into(),
            )
        } else {
            Finding::Fine("Linux: every lesson runs as the book shows".into())
        }
    } else {
        Finding::Wrong(format!(
            "this is {}, not Linux: lesson 02's F_GETPIPE_SZ/F_SETPIPE_SZ and the numbers in the book are Linux's",
            std::env::consts::OS
        ))
    }
}

/// The rustc on the PATH against the workspace's `rust-version`.
fn rust_version(workspace: &Workspace) -> Finding {
    let needed = std::fs::read_to_string(workspace.root.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|m| {
            m.get("workspace")?
                .get("package")?
                .get("rust-version")?
                .as_str()
                .map(str::to_string)
        });
    let output = Command::new("rustc").arg("--version").output();
    let Ok(output) = output
        .as_ref()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    else {
        return Finding::Wrong(
            "rustc is not on the PATH: install Rust with rustup".into(),
        );
    };
    let have = output.split_whitespace().nth(1).unwrap_or("").to_string();
    match needed {
        Some(needed) if version(&have) < version(&needed) => {
            Finding::Wrong(format!(
                "Rust {have} is older than the {needed} this course needs: `rustup update`"
            ))
        }
        Some(needed) => Finding::Fine(format!(
            "Rust {have} (the course needs {needed} or newer)"
        )),
        None => Finding::Fine(format!("Rust {have}")),
    }
}

fn version(text: &str) -> Vec<u32> {
    text.split(['.', '-']).map_while(|part| part.parse().ok()).collect()
}

fn pipe_max_size() -> Finding {
    match std::fs::read_to_string("/proc/sys/fs/pipe-max-size") {
        Ok(text) => {
            let size = text.trim();
            let usual = size == "1048576";
            let text = format!(
                "/proc/sys/fs/pipe-max-size is {size} bytes: the most F_SETPIPE_SZ may ask for without privileges (lesson 02)"
            );
            if usual {
                Finding::Fine(text)
            } else {
                Finding::Unusual(format!("{text}; 1048576 is the usual value"))
            }
        }
        Err(_) => Finding::Unusual(
            "no /proc/sys/fs/pipe-max-size: lesson 02 cannot show the ceiling on pipe sizes".into(),
        ),
    }
}

/// The umask, read from /proc (changing it to read it would be a side effect).
fn umask() -> Finding {
    let value =
        std::fs::read_to_string("/proc/self/status").ok().and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        });
    match value {
        Some(mask)
            if mask & 0o077 == 0o077 || mask == 0o022 || mask == 0o002 =>
        {
            Finding::Fine(format!(
                "umask {mask:03o}: a FIFO made with mode 0600 stays 0600 (lesson 04)"
            ))
        }
        Some(mask) if mask & 0o600 != 0 => Finding::Unusual(format!(
            "umask {mask:03o} takes permissions from the owner: lesson 04's FIFOs may not open as expected"
        )),
        Some(mask) => Finding::Unusual(format!(
            "umask {mask:03o} is unusual: lesson 04 shows how it changes a FIFO's mode"
        )),
        None => Finding::Unusual(
            "cannot read this process's umask from /proc".into(),
        ),
    }
}

fn temp_dir() -> Finding {
    let dir = std::env::temp_dir();
    let probe = dir.join(format!("pipelab-doctor-{}", std::process::id()));
    match std::fs::create_dir(&probe) {
        Ok(()) => {
            let _ = std::fs::remove_dir(&probe);
            Finding::Fine(format!(
                "{} is writable (lessons 04-05 make their FIFOs there)",
                dir.display()
            ))
        }
        Err(error) => Finding::Wrong(format!(
            "cannot create a directory in {} ({error}): set TMPDIR to a writable directory",
            dir.display()
        )),
    }
}

fn state_dir(workspace: &Workspace) -> Finding {
    let dir = &workspace.state_dir;
    match std::fs::create_dir_all(dir) {
        Ok(()) => Finding::Fine(format!(
            "progress and hints are kept in {}",
            workspace.relative(dir).display()
        )),
        Err(error) => Finding::Wrong(format!(
            "cannot create {} ({error}); builds go to {}",
            dir.display(),
            target_dir(&workspace.root).display()
        )),
    }
}

fn strace() -> Finding {
    let found = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path).any(|dir| dir.join("strace").is_file())
        })
        .unwrap_or(false);
    if found {
        Finding::Fine(
            "strace is installed: try `strace -f` on a lesson's program to see every system call"
                .into(),
        )
    } else {
        Finding::Unusual(
            "strace is not installed (optional): with it, `strace -f` shows every system call a lesson makes".into(),
        )
    }
}
