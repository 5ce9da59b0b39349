//! O_NONBLOCK is a flag of the open file description: a `dup` and a child
//! that inherited the descriptor share it, while a second `open` of the
//! same FIFO makes a description of its own. Checked with Python, the
//! child a real process started with the descriptor.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

const LIMIT: Duration = Duration::from_secs(20);

fn python(script: &str) -> String {
    let mut command = Command::new("python3");
    command.arg("-c").arg(script);
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("python3 (a child setting O_NONBLOCK) did not finish: {error}")
    });
    assert!(done.status.success(), "python3: {}", done.stderr);
    done.stdout
}

#[test]
fn o_nonblock_set_through_one_descriptor_shows_through_its_dup() {
    let out = python(
        "import os\n\
         r, w = os.pipe(); copy = os.dup(r)\n\
         os.set_blocking(r, False)\n\
         print(os.get_blocking(copy))\n",
    );
    assert_eq!(out, "False\n", "the dup became non-blocking too");
}

#[test]
fn o_nonblock_set_by_a_child_shows_in_the_parent() {
    let out = python(
        "import os, subprocess, sys\n\
         r, w = os.pipe()\n\
         child = 'import os; os.set_blocking(%d, False)' % r\n\
         subprocess.run([sys.executable, '-c', child], pass_fds=[r],\n\
                        check=True, timeout=10)\n\
         print(os.get_blocking(r))\n",
    );
    assert_eq!(out, "False\n", "the child's fcntl changed the parent's too");
}

#[test]
fn each_open_of_a_fifo_has_its_own_o_nonblock() {
    let out = python(
        "import os, tempfile\n\
         d = tempfile.mkdtemp(); p = os.path.join(d, 'f'); os.mkfifo(p)\n\
         a = os.open(p, os.O_RDWR); b = os.open(p, os.O_RDWR)\n\
         os.set_blocking(a, False)\n\
         print(os.get_blocking(b))\n\
         os.unlink(p); os.rmdir(d)\n",
    );
    assert_eq!(out, "True\n", "a second open is a second description");
}
