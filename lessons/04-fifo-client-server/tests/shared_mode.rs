//! The chapter's way to share a FIFO on purpose: made 0620, so that a group
//! may write to the server, it is refused by default and accepted only with
//! `--allow-shared`, which says who else may use it.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use common::*;

/// Makes a FIFO of ours at `path` with the mode the chapter suggests.
fn fifo_for_a_group(path: &Path) {
    make_fifo(path);
    // chmod, not mkfifo's mode: the umask would take the group's bit away.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o620))
        .unwrap();
}

#[test]
fn a_fifo_made_0620_is_refused_without_allow_shared() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    fifo_for_a_group(&fifo);
    for (name, mut command) in [
        ("fifo-server", Command::new(SERVER)),
        ("fifo-client", Command::new(CLIENT)),
    ] {
        command.arg("--path").arg(&fifo).args(["--wait", "1"]);
        let done = bounded(name, &mut command);
        assert_eq!(done.status.code(), Some(1), "{name}: {}", done.stderr);
        assert_one_line(&done.stderr, "its mode is 0620: group may write");
    }
    let mode = std::fs::symlink_metadata(&fifo).unwrap().mode();
    assert_eq!(mode & 0o777, 0o620, "a refused FIFO is left as it was");
}

#[test]
fn a_fifo_made_0620_is_accepted_with_allow_shared() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    fifo_for_a_group(&fifo);
    exchange_allowing_shared(&fifo, "mode 0620: group may write");
}
