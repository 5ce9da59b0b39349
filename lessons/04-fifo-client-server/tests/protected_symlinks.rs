//! A fixed name in a directory like /tmp: another user's symbolic link at
//! that name, followed by a program that opens without O_NOFOLLOW (here the
//! shell's `>>`), writes into the file it points to, unless Linux's
//! `fs.protected_symlinks` is 1. Then, in a directory that is sticky and
//! world-writable, a link is followed only by its owner, or when its owner
//! also owns the directory: anyone else's open fails with EACCES. The test
//! checks the branch this machine's sysctl gives, and that the lesson's
//! programs, which open with O_NOFOLLOW, refuse the link either way.

mod common;

use std::os::unix::fs::{PermissionsExt, lchown, symlink};
use std::path::Path;

use common::*;
use labkit::nobody::nobody_or_skip;

/// The user who owns the links: someone other than us (root).
const OTHER_USER: u32 = 65534;

/// `fs.protected_symlinks`, on or off, or None where the kernel has none.
fn protected_symlinks() -> Option<bool> {
    let value = std::fs::read_to_string("/proc/sys/fs/protected_symlinks");
    Some(value.ok()?.trim() != "0")
}

/// A directory made like /tmp: sticky and world-writable (mode 1777),
/// owned by the other user when `theirs`.
fn sticky_shared_dir(path: &Path, theirs: bool) {
    std::fs::create_dir(path).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o1777))
        .unwrap();
    if theirs {
        lchown(path, Some(OTHER_USER), Some(OTHER_USER)).unwrap();
    }
}

#[test]
fn another_users_link_in_a_sticky_directory_is_followed_as_the_sysctl_says() {
    // Root gives the links to another user; an ordinary user cannot.
    if !nobody_or_skip("links owned by another user") {
        return;
    }
    let Some(guarded) = protected_symlinks() else {
        eprintln!("skipped: no /proc/sys/fs/protected_symlinks on this kernel");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("precious");
    std::fs::write(&target, "precious\n").unwrap();
    let mut followed_times = 0;
    for directory_is_theirs in [false, true] {
        let shared = tmp.path().join(format!("shared-{directory_is_theirs}"));
        sticky_shared_dir(&shared, directory_is_theirs);
        let link = shared.join("fifo");
        symlink(&target, &link).unwrap();
        lchown(&link, Some(OTHER_USER), Some(OTHER_USER)).unwrap();

        let wrote = bounded(
            "the shell writing through the link",
            &mut shell(r#"echo forged >> "$1""#, &[&link]),
        );
        let followed = wrote.status.success();
        let case = format!(
            "fs.protected_symlinks on: {guarded}, the link's owner owns the \
             directory: {directory_is_theirs}"
        );
        assert_eq!(followed, !guarded || directory_is_theirs, "{case}");
        if followed {
            followed_times += 1;
        } else {
            assert!(wrote.stderr.contains("Permission denied"), "{case}");
        }
        // O_NOFOLLOW refuses every link, guard or no guard.
        let refused =
            bounded("fifo-client", &mut client(&link, &["--wait", "1"]));
        assert_eq!(refused.status.code(), Some(1), "{case}");
        assert_one_line(&refused.stderr, "a symbolic link");
    }
    let forged = std::fs::read_to_string(&target).unwrap();
    assert_eq!(
        forged,
        format!("precious\n{}", "forged\n".repeat(followed_times))
    );
}
