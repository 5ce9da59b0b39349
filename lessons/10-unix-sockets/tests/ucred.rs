//! The size the chapter gives for SO_PEERCRED's answer: 12 bytes, a
//! `struct ucred` of three ints (pid, uid, gid), as libc declares it and as
//! Python, which the chapter uses as a peer, asks for and decodes it.

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;

#[test]
fn so_peercred_answers_12_bytes_of_pid_uid_and_gid() {
    assert_eq!(size_of::<libc::ucred>(), 12, "libc's struct ucred");
    let script = "import os, socket, struct\n\
                  from socket import SOL_SOCKET, SO_PEERCRED\n\
                  a, b = socket.socketpair()\n\
                  raw = a.getsockopt(SOL_SOCKET, SO_PEERCRED, 12)\n\
                  pid, uid, gid = struct.unpack('3i', raw)\n\
                  print(len(raw), struct.calcsize('3i'), pid == os.getpid(),\n\
                        uid == os.getuid(), gid == os.getgid())\n";
    let done = run_clean(
        Command::new("python3").args(["-c", script]),
        Duration::from_secs(30),
    )
    .unwrap_or_else(|error| panic!("python3 reading SO_PEERCRED: {error}"));
    assert!(done.status.success(), "python3: {}", done.stderr);
    assert_eq!(done.stdout, "12 12 True True True\n", "length, size, fields");
}
