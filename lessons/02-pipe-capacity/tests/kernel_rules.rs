//! The chapter's statements about the kernel's rules for a pipe's size,
//! checked with Python's `fcntl` on pipes of a real process: shrinking
//! below the pages a pipe's bytes occupy is EBUSY, a request is rounded up
//! to a power-of-two number of pages, a resize is the pipe's (both ends see
//! it), a blocking write larger than the pipe returns its whole count,
//! and an unprivileged user's pipes shrink to two pages once the user is over
//! `pipe-user-pages-soft`. And one figure of the kernel's ABI seen by a
//! process of its own: CAP_SYS_RESOURCE is bit 24 of `CapEff`.
#![cfg(target_os = "linux")]

use std::process::Command;
use std::time::Duration;

use labkit::hygiene::run_clean;
use labkit::nobody::{NobodyCopy, nobody_or_skip, running_as_root};
use nix::unistd::{SysconfVar, sysconf};

/// Generous: CI runs tests in parallel on two cores.
const LIMIT: Duration = Duration::from_secs(30);

/// The system's Python, not a per-user shim that nobody cannot reach.
const PYTHON: &str = "/usr/bin/python3";

/// The kernel counts pipe pages per user. While the per-user test holds
/// over 1024 pipes, the same user's other pipes may not grow (EPERM): when
/// the suite runs as an ordinary user, these tests must take turns.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `script` with Python (as nobody when `as_nobody`) and returns its
/// standard output, failing on any other outcome than success.
fn python(script: &str, as_nobody: bool) -> String {
    let _turn =
        ONE_AT_A_TIME.lock().unwrap_or_else(|poison| poison.into_inner());
    let real = std::fs::canonicalize(PYTHON).expect("/usr/bin/python3");
    let copy = as_nobody
        .then(|| NobodyCopy::new(&real).expect("a copy of python3 for nobody"));
    let mut command = match &copy {
        Some(copy) => copy.command(),
        None => Command::new(&real),
    };
    command.arg("-c").arg(script);
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("python3 (opening or resizing pipes) did not finish: {error}")
    });
    assert!(done.status.success(), "python3: {}", done.stderr);
    done.stdout
}

fn page_size() -> usize {
    sysconf(SysconfVar::PAGE_SIZE).unwrap().unwrap() as usize
}

#[test]
fn shrinking_a_pipe_below_the_pages_it_occupies_is_ebusy() {
    let out = python(
        "import os, fcntl, errno\n\
         r, w = os.pipe()\n\
         os.write(w, b'x' * 8192)\n\
         try:\n    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096); print('shrunk')\n\
         except OSError as e: print(errno.errorcode[e.errno])\n\
         os.read(r, 8192)\n\
         print(fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096))\n",
        false,
    );
    let page = page_size();
    let expected_after = 4096_usize.div_ceil(page) * page;
    assert_eq!(
        out,
        format!("EBUSY\n{expected_after}\n"),
        "8192 bytes in the pipe: no shrink to 4096 until they are read"
    );
}

#[test]
fn a_request_of_100000_bytes_is_rounded_up_to_a_power_of_two_pages() {
    let out = python(
        "import os, fcntl\n\
         r, w = os.pipe()\n\
         print(fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 100000))\n",
        false,
    );
    let page = page_size();
    let granted = 100_000_usize.div_ceil(page).next_power_of_two() * page;
    assert_eq!(out.trim(), granted.to_string());
    if page == 4096 {
        assert_eq!(granted, 131_072, "25 pages of 4096, rounded up to 32");
    }
}

#[test]
fn over_pipe_user_pages_soft_an_unprivileged_users_new_pipes_get_two_pages() {
    let soft: usize =
        std::fs::read_to_string("/proc/sys/fs/pipe-user-pages-soft")
            .expect("/proc/sys/fs/pipe-user-pages-soft")
            .trim()
            .parse()
            .expect("a number of pages");
    if soft == 0 {
        return; // no soft limit on this system: nothing to see
    }
    let script = format!(
        "import os, fcntl, errno, resource\n\
         _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n\
         resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))\n\
         pipes = []\n\
         while True:\n    r, w = os.pipe(); pipes.append(w)\n    \
             size = fcntl.fcntl(w, fcntl.F_GETPIPE_SZ)\n    \
             if size < 65536 or len(pipes) > {soft}: break\n\
         try:\n    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 65536); grown = 'grown'\n\
         except OSError as e: grown = errno.errorcode[e.errno]\n\
         print(len(pipes), size, grown)\n"
    );
    // Root is exempt; the rule is about the learner, so run it as one.
    // Root that cannot become nobody (uid 65534 unmapped in a user
    // namespace) has no learner to run it as, and says so.
    let as_nobody = running_as_root();
    if as_nobody && !nobody_or_skip("the per-user pipe limit, as nobody") {
        return;
    }
    let out = python(&script, as_nobody);
    let fields: Vec<&str> = out.split_whitespace().collect();
    let [count, size, grown] = fields[..] else {
        panic!("python3 printed {out:?}");
    };
    let count: usize = count.parse().unwrap();
    let full_pipes = soft / 16; // a default pipe takes 16 pages
    assert!(
        count <= full_pipes + 1,
        "pipe {count} was the first smaller than 65536 bytes; the soft \
         limit of {soft} pages allows {full_pipes} full pipes"
    );
    assert_eq!(size, (2 * page_size()).to_string(), "two pages, not one");
    assert_eq!(grown, "EPERM", "growing it back is refused");
}

#[test]
fn cap_sys_resource_alone_shows_as_bit_24_of_capeff() {
    // As root of a user namespace of its own (unshare), a process holds
    // every capability there; setpriv keeps CAP_SYS_RESOURCE alone in every
    // set across its exec, and cat shows the kernel's view of itself.
    let mut command = Command::new("unshare");
    command.args([
        "--user",
        "--map-root-user",
        "setpriv",
        "--inh-caps=-all,+sys_resource",
        "--ambient-caps=-all,+sys_resource",
        "--bounding-set=-all,+sys_resource",
        "cat",
        "/proc/self/status",
    ]);
    let done = run_clean(&mut command, LIMIT).unwrap_or_else(|error| {
        panic!("unshare, setpriv and cat did not finish: {error}")
    });
    if !done.status.success() && done.stderr.starts_with("unshare:") {
        let reason = done.stderr.trim();
        eprintln!("skipped: no user namespace to hold a capability ({reason})");
        return;
    }
    assert!(done.status.success(), "{}", done.stderr);
    let effective = done
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("CapEff:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no CapEff mask in:\n{}", done.stdout));
    assert_eq!(effective, 1 << 24, "CapEff: {effective:016x}");
}

#[test]
fn shrinking_counts_the_pages_bytes_occupy_not_the_bytes() {
    let out = python(
        "import os, fcntl, errno\n\
         page = os.sysconf('SC_PAGE_SIZE')\n\
         def shrink(w):\n\
         \x20   try: return fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, page)\n\
         \x20   except OSError as e: return errno.errorcode[e.errno]\n\
         r, w = os.pipe()\n\
         os.write(w, b'x' * 10)\n\
         print(shrink(w) == page)\n\
         r, w = os.pipe()\n\
         os.write(w, b'x' * (page + 1))\n\
         os.read(r, page - 1)\n\
         print(shrink(w))\n",
        false,
    );
    assert_eq!(
        out, "True\nEBUSY\n",
        "10 bytes fit one page; 2 bytes, one in each of two pages, do not"
    );
}

#[test]
fn a_resize_is_the_pipes_so_both_ends_see_it() {
    let out = python(
        "import os, fcntl\n\
         page = os.sysconf('SC_PAGE_SIZE')\n\
         r, w = os.pipe()\n\
         fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 8 * page)\n\
         print(fcntl.fcntl(r, fcntl.F_GETPIPE_SZ) // page)\n",
        false,
    );
    assert_eq!(out, "8\n", "resized through the write end, read at the other");
}

#[test]
fn a_blocking_write_of_100000_bytes_returns_only_once_all_are_in() {
    // One write() call bigger than the pipe, and a reader that starts
    // late: the call waits for room as often as it needs, then returns the
    // whole count, not what fitted at first.
    let out = python(
        "import os, threading, time\n\
         r, w = os.pipe()\n\
         def slow_reader():\n\
         \x20   time.sleep(0.3)\n\
         \x20   while os.read(r, 4096): time.sleep(0.001)\n\
         reader = threading.Thread(target=slow_reader)\n\
         reader.start()\n\
         print(os.write(w, b'x' * 100000))\n\
         os.close(w)\n\
         reader.join()\n",
        false,
    );
    assert_eq!(out, "100000\n", "one write() call returned every byte");
}
