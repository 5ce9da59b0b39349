//! The umask removes permission bits from the mode a FIFO is made with:
//! under umask 022, 0777 gives 0755 and Python's default 0666 gives 0644.
//! Checked with Python's `os.mkfifo` in a directory of the test's own.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

#[test]
fn under_umask_022_a_fifo_asked_0777_is_0755_and_one_asked_0666_is_0644() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let script = "import os, stat, sys\n\
        os.umask(0o022)\n\
        for name, mode in (('wide', 0o777), ('default', None)):\n    \
            path = os.path.join(sys.argv[1], name)\n    \
            os.mkfifo(path) if mode is None else os.mkfifo(path, mode)\n    \
            print(oct(stat.S_IMODE(os.stat(path).st_mode)))\n    \
            os.unlink(path)\n";
    let mut command = Command::new("python3");
    command.arg("-c").arg(script).arg(dir.path());
    let done = run_clean(&mut command, Duration::from_secs(20)).unwrap_or_else(
        |error| panic!("python3 mkfifo did not finish: {error}"),
    );
    assert!(done.status.success(), "python3: {}", done.stderr);
    assert_eq!(done.stdout, "0o755\n0o644\n");
}
