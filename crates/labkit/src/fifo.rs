//! FIFOs made and opened safely, and removed whatever happens.
//!
//! A FIFO (named pipe) is a pipe with a name in the file system, so any
//! process that can reach the name can open it. The classic examples make
//! one at a fixed name such as `/tmp/fifo` with mode 0777: anyone may then
//! read the messages, write forged ones, or put a file or a symbolic link
//! there first and make the program open something else. This module does
//! the careful version, so that every lesson does it the same way:
//!
//! - [`PrivateDir`]: a directory made for the run by `mkdtemp` (mode 0700,
//!   so only its owner can even look inside), removed when dropped.
//! - [`Fifo`]: a FIFO made with `mkfifo` (mode 0600), or an existing FIFO
//!   of ours; anything else at the path is refused and left untouched. A
//!   FIFO we made is removed when the `Fifo` is dropped (also while a panic
//!   unwinds), and on SIGINT (Ctrl-C), SIGTERM or SIGHUP.
//! - [`open`]: `lstat` first, so that nothing but our own FIFO is ever
//!   opened (opening a device can have effects), then `open` with
//!   `O_NOFOLLOW`, then `fstat` on the descriptor: what was opened must be
//!   the same FIFO, owned by the effective user.
//! - [`open_within`] and [`PendingOpen`]: the blocking open of a FIFO (a
//!   reader waits for a writer, and the reverse), with a time limit.
//!
//! Removal on a signal: the first FIFO or directory made here starts a
//! thread that waits for SIGINT, SIGTERM and SIGHUP (through `signal-hook`);
//! when one comes, it removes every FIFO and directory still listed, then
//! lets the signal end the process as it would have (a shell shows 130 for
//! Ctrl-C). So a process that made a FIFO has two threads, and
//! [`crate::process::fork`] refuses to fork it.

use std::fmt;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Mutex, Once};
use std::thread;
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, lstat};
use nix::unistd::geteuid;

/// The mode of the FIFOs made here: read and write for the owner only.
pub const FIFO_MODE: u32 = 0o600;

/// How a FIFO is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `O_RDONLY`: waits for a writer, unless `O_NONBLOCK`.
    Read,
    /// `O_WRONLY`: waits for a reader; with `O_NONBLOCK`, fails with ENXIO
    /// when there is none.
    Write,
    /// `O_RDWR`: never waits on Linux (POSIX leaves it undefined).
    ReadWrite,
}

impl Access {
    /// The open flag, as a C program spells it.
    pub fn flag_name(self) -> &'static str {
        match self {
            Access::Read => "O_RDONLY",
            Access::Write => "O_WRONLY",
            Access::ReadWrite => "O_RDWR",
        }
    }

    fn flags(self) -> OFlag {
        match self {
            Access::Read => OFlag::O_RDONLY,
            Access::Write => OFlag::O_WRONLY,
            Access::ReadWrite => OFlag::O_RDWR,
        }
    }

    /// What the other side must do for an open with this access to return.
    fn partner(self) -> &'static str {
        match self {
            Access::Read => "opened the FIFO for writing",
            Access::Write | Access::ReadWrite => "opened the FIFO for reading",
        }
    }
}

/// Why a FIFO could not be made or opened. Each prints as one line.
#[derive(Debug)]
pub enum FifoError {
    /// Something is at the path and it is not our FIFO: it was left untouched.
    Refused { path: PathBuf, reason: String },
    /// A system call failed.
    Call { call: &'static str, path: PathBuf, errno: Errno },
    /// A blocking open found no partner within its limit.
    TimedOut { path: PathBuf, access: Access, limit: Duration },
}

impl FifoError {
    /// The errno of a failed system call, if that is what happened.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            FifoError::Call { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    fn call(
        call: &'static str,
        path: &Path,
    ) -> impl FnOnce(Errno) -> FifoError {
        let path = path.to_path_buf();
        move |errno| FifoError::Call { call, path, errno }
    }
}

impl fmt::Display for FifoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FifoError::Refused { path, reason } => write!(
                f,
                "refusing {}: {reason}; left untouched",
                path.display()
            ),
            FifoError::Call { call, path, errno } => {
                let shown = path.display();
                let parent = parent_of(path);
                match (*call, *errno) {
                    ("mkfifo" | "mkdtemp", Errno::ENOENT) => write!(
                        f,
                        "cannot create {shown}: the directory {parent} does \
                         not exist"
                    ),
                    ("mkfifo" | "mkdtemp", Errno::EACCES) => write!(
                        f,
                        "cannot create {shown}: permission denied (EACCES): \
                         you may not create files in {parent}"
                    ),
                    (_, Errno::ENOENT) => {
                        write!(f, "no FIFO at {shown} (ENOENT)")
                    }
                    (_, Errno::EACCES) => write!(
                        f,
                        "{call} {shown}: permission denied (EACCES): the \
                         FIFO's mode or a directory on the way does not let \
                         you in"
                    ),
                    ("open", Errno::ENXIO) => write!(
                        f,
                        "open {shown} with O_NONBLOCK: ENXIO: no process has \
                         the FIFO open for reading"
                    ),
                    _ => write!(
                        f,
                        "{call} {shown}: {} ({errno:?})",
                        errno.desc()
                    ),
                }
            }
            FifoError::TimedOut { path, access, limit } => write!(
                f,
                "open({}, {}) was still waiting after {:.1} s: no process {}",
                path.display(),
                access.flag_name(),
                limit.as_secs_f64(),
                access.partner()
            ),
        }
    }
}

impl std::error::Error for FifoError {}

fn parent_of(path: &Path) -> String {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            parent.display().to_string()
        }
        _ => ".".to_string(),
    }
}

/// A directory made for this run, mode 0700, removed (with our FIFO in it)
/// when dropped.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
}

impl PrivateDir {
    /// Makes `pipelab-XXXXXX` in the temporary directory ($TMPDIR, or /tmp).
    /// `mkdtemp` picks a name nobody can guess and creates it with mode 0700
    /// in one step: it fails rather than reuse anything already there.
    pub fn new() -> Result<PrivateDir, FifoError> {
        let template = std::env::temp_dir().join("pipelab-XXXXXX");
        let path = nix::unistd::mkdtemp(&template)
            .map_err(FifoError::call("mkdtemp", &template))?;
        remember(&path);
        Ok(PrivateDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        forget(&self.path);
        // remove_dir, not remove_dir_all: only an empty directory goes, so a
        // file someone else put in it is never deleted with it.
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// A FIFO at a path, removed when dropped if we made it.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    /// The (device, inode) of the FIFO we made; None if it was there before.
    made: Option<(u64, u64)>,
    /// The private directory holding it, removed after the FIFO (fields drop
    /// after `Drop::drop` has run).
    dir: Option<PrivateDir>,
}

impl Fifo {
    /// Makes a FIFO called `name` in a new [`PrivateDir`].
    pub fn create_private(name: &str) -> Result<Fifo, FifoError> {
        let dir = PrivateDir::new()?;
        // If this fails, `dir` is dropped here and removed: nothing is left.
        let mut fifo = Fifo::create_at(&dir.path().join(name))?;
        fifo.dir = Some(dir);
        Ok(fifo)
    }

    /// Makes a FIFO at `path` with mode 0600 (less whatever the umask
    /// removes). A FIFO of ours already there is used as it is, and left in
    /// place at the end; anything else there is refused and left untouched.
    pub fn create_at(path: &Path) -> Result<Fifo, FifoError> {
        // mkfifo first, look second: mkfifo never follows a symbolic link and
        // never replaces anything, so there is no moment at which a file put
        // there by someone else could be damaged.
        match nix::unistd::mkfifo(path, Mode::from_bits_truncate(FIFO_MODE)) {
            Ok(()) => {
                let stat =
                    lstat(path).map_err(FifoError::call("lstat", path))?;
                remember(path);
                Ok(Fifo {
                    path: path.to_path_buf(),
                    made: Some(identity(&stat)),
                    dir: None,
                })
            }
            Err(Errno::EEXIST) => {
                let stat =
                    lstat(path).map_err(FifoError::call("lstat", path))?;
                judge(&stat, geteuid().as_raw()).map_err(|reason| {
                    FifoError::Refused { path: path.to_path_buf(), reason }
                })?;
                Ok(Fifo { path: path.to_path_buf(), made: None, dir: None })
            }
            Err(errno) => Err(FifoError::call("mkfifo", path)(errno)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True if this FIFO was made here (and so will be removed here).
    pub fn made_here(&self) -> bool {
        self.made.is_some()
    }

    /// The private directory holding the FIFO, if it has one.
    pub fn private_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(PrivateDir::path)
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        if let Some(made) = self.made {
            forget(&self.path);
            remove_if_same_fifo(&self.path, made);
        }
    }
}

/// The identity of a file: which device, which inode.
fn identity(stat: &FileStat) -> (u64, u64) {
    (stat.st_dev, stat.st_ino)
}

/// Removes `path` only if it is still the FIFO we made: a file that has
/// replaced it since is not ours to delete.
fn remove_if_same_fifo(path: &Path, made: (u64, u64)) {
    if let Ok(stat) = lstat(path)
        && is_fifo(&stat)
        && identity(&stat) == made
    {
        let _ = std::fs::remove_file(path);
    }
}

fn file_type(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

fn is_fifo(stat: &FileStat) -> bool {
    file_type(stat) == SFlag::S_IFIFO
}

/// Whether a FIFO that other users may open is accepted (`--allow-shared`):
/// by default it is refused, since anyone who may write to it can inject
/// messages, and anyone who may read it can steal them.
static SHARED_ALLOWED: AtomicBool = AtomicBool::new(false);

/// Accepts, from now on, FIFOs whose mode lets the group or others in: for
/// a program's `--allow-shared`, which then says who else may use it.
pub fn allow_shared(allowed: bool) {
    SHARED_ALLOWED.store(allowed, Ordering::Relaxed);
}

/// `--allow-shared`, for the programs that open a FIFO the user names:
/// `#[command(flatten)]` it and call [`SharingArgs::apply`].
#[derive(Clone, Debug, Default, clap::Args)]
pub struct SharingArgs {
    /// Accept a FIFO that other users may open (a group or other bit in
    /// its mode): they could then inject messages or read them.
    #[arg(long)]
    pub allow_shared: bool,
}

impl SharingArgs {
    pub fn apply(&self) {
        allow_shared(self.allow_shared);
    }
}

/// Who besides the owner may open a file of mode `mode`, in words ("group
/// read, others read and write"); None when nobody else may.
pub fn shared_with(mode: u32) -> Option<String> {
    let words = |bits: u32| match (bits & 0o4 != 0, bits & 0o2 != 0) {
        (true, true) => Some("read and write"),
        (true, false) => Some("read"),
        (false, true) => Some("write"),
        (false, false) => None,
    };
    let who: Vec<String> =
        [("group", (mode >> 3) & 0o7), ("others", mode & 0o7)]
            .into_iter()
            .filter_map(|(who, bits)| {
                Some(format!("{who} may {}", words(bits)?))
            })
            .collect();
    (!who.is_empty()).then(|| who.join(", "))
}

/// Refuses a FIFO or socket that users other than its owner may open,
/// unless [`allow_shared`] said so: the one rule for every lesson's files.
pub fn refuse_if_shared(mode: u32) -> Result<(), String> {
    match shared_with(mode) {
        Some(who) if !SHARED_ALLOWED.load(Ordering::Relaxed) => Err(format!(
            "its mode is {:04o}: {who}, so another user could inject or \
             read messages; `chmod 600` it, or let the program make its own \
             (or pass --allow-shared)",
            mode & 0o7777
        )),
        _ => Ok(()),
    }
}

/// Says why `stat` is not a FIFO that user `euid` may use, or Ok if it is.
pub fn judge(stat: &FileStat, euid: u32) -> Result<(), String> {
    let kind = match file_type(stat) {
        SFlag::S_IFIFO => None,
        SFlag::S_IFLNK => {
            return Err(
                "a symbolic link, and a FIFO is never opened through one"
                    .into(),
            );
        }
        SFlag::S_IFREG => Some("a regular file"),
        SFlag::S_IFDIR => Some("a directory"),
        SFlag::S_IFSOCK => Some("a socket"),
        SFlag::S_IFCHR => Some("a character device"),
        SFlag::S_IFBLK => Some("a block device"),
        _ => Some("of an unknown type"),
    };
    if let Some(kind) = kind {
        return Err(format!("{kind}, not a FIFO"));
    }
    if stat.st_uid != euid {
        return Err(format!(
            "the FIFO belongs to uid {}, not to you (uid {euid})",
            stat.st_uid
        ));
    }
    refuse_if_shared(stat.st_mode)
}

/// Opens the FIFO at `path`, refusing anything that is not a FIFO owned by
/// the effective user. With `nonblocking`, adds `O_NONBLOCK`: then a reader's
/// open returns at once, and a writer's fails with ENXIO if no reader
/// exists. Without it, the open waits for its partner, possibly forever: see
/// [`open_within`] for a bounded wait.
pub fn open(
    path: &Path,
    access: Access,
    nonblocking: bool,
) -> Result<OwnedFd, FifoError> {
    let euid = geteuid().as_raw();
    let refused =
        |reason| FifoError::Refused { path: path.to_path_buf(), reason };
    // 1. Look before opening: opening a device or a terminal can have
    //    effects, so nothing but our own FIFO gets as far as open().
    let before = lstat(path).map_err(FifoError::call("lstat", path))?;
    judge(&before, euid).map_err(refused)?;

    // 2. Open without following a symbolic link (put there since we looked).
    let mut flags = access.flags() | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    if nonblocking {
        flags |= OFlag::O_NONBLOCK;
    }
    let fd = nix::fcntl::open(path, flags, Mode::empty()).map_err(|errno| {
        match errno {
            Errno::ELOOP => {
                refused("it became a symbolic link while being opened".into())
            }
            errno => FifoError::call("open", path)(errno),
        }
    })?;

    // 3. The descriptor tells the truth about what was opened.
    let after = fstat(&fd).map_err(FifoError::call("fstat", path))?;
    judge(&after, euid).map_err(refused)?;
    if identity(&after) != identity(&before) {
        return Err(refused("it was replaced while being opened".into()));
    }
    Ok(fd)
}

/// A blocking [`open`] in progress on a thread of its own, so that the
/// caller can wait for it with a limit, and look again later.
pub struct PendingOpen {
    path: PathBuf,
    access: Access,
    outcome: Receiver<Result<OwnedFd, FifoError>>,
}

impl PendingOpen {
    /// Starts the blocking `open(path, access)`.
    pub fn start(path: &Path, access: Access) -> PendingOpen {
        let (sender, outcome) = mpsc::channel();
        let owned = path.to_path_buf();
        thread::spawn(move || {
            // Let the cleanup signals land on another thread. A signal that
            // interrupted this open would restart it from the path, and the
            // path may be gone by then (the cleanup removes it): the open
            // would fail with ENOENT and race the cleanup to end the process.
            let cleanup = SigSet::from_iter([
                Signal::SIGINT,
                Signal::SIGTERM,
                Signal::SIGHUP,
            ]);
            let _ =
                pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&cleanup), None);
            // If nobody waits any more, the descriptor is dropped (closed).
            let _ = sender.send(open(&owned, access, false));
        });
        PendingOpen { path: path.to_path_buf(), access, outcome }
    }

    /// The open's result if it returns within `limit`; None if it is still
    /// waiting for its partner (it goes on waiting: ask again later).
    pub fn wait(&self, limit: Duration) -> Option<Result<OwnedFd, FifoError>> {
        match self.outcome.recv_timeout(limit) {
            Ok(result) => Some(result),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => Some(Err(FifoError::Call {
                call: "open",
                path: self.path.clone(),
                errno: Errno::EIO,
            })),
        }
    }
}

/// A blocking [`open`] that gives up after `limit`. On giving up, the open
/// goes on waiting on its thread until the process ends; if a partner comes
/// first, the descriptor it gets is closed at once.
pub fn open_within(
    path: &Path,
    access: Access,
    limit: Duration,
) -> Result<OwnedFd, FifoError> {
    let pending = PendingOpen::start(path, access);
    pending.wait(limit).unwrap_or_else(|| {
        Err(FifoError::TimedOut {
            path: path.to_path_buf(),
            access: pending.access,
            limit,
        })
    })
}

/// A path to remove if a signal ends the process, in the order they were
/// made: a FIFO or a directory (None), or a file that is removed only if
/// it is still the one made, by (device, inode): a socket of lesson 10.
type Listed = Vec<(PathBuf, Option<(u64, u64)>)>;
static TO_REMOVE: Mutex<Listed> = Mutex::new(Vec::new());
static WATCH_SIGNALS: Once = Once::new();

fn remember(path: &Path) {
    WATCH_SIGNALS.call_once(watch_signals);
    to_remove().push((path.to_path_buf(), None));
}

/// Removes the file at `path` if SIGINT, SIGTERM or SIGHUP ends the
/// process, provided it is still the file of identity `made` (device,
/// inode): for a socket file, which a program binds and removes itself.
pub fn remove_on_signal(path: &Path, made: (u64, u64)) {
    WATCH_SIGNALS.call_once(watch_signals);
    to_remove().push((path.to_path_buf(), Some(made)));
}

/// Takes `path` off the list of [`remove_on_signal`] (or of a FIFO or a
/// private directory): its owner removes it, or it must stay.
pub fn forget(path: &Path) {
    to_remove().retain(|(listed, _)| listed != path);
}

fn to_remove() -> std::sync::MutexGuard<'static, Listed> {
    // A panic while the list was held leaves it usable: it is only a list.
    TO_REMOVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Starts the thread that cleans up when SIGINT, SIGTERM or SIGHUP comes.
/// signal-hook's own handler does only async-signal-safe work (it writes a
/// byte to a socket); the removal itself runs here, on an ordinary thread.
fn watch_signals() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    // Its self-pipe stays open for the whole run: labkit's, not a leak.
    let made = crate::hygiene::owned_by_labkit(|| {
        signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
    });
    let Ok(mut signals) = made else {
        // Without the handlers, a signal kills the process as usual and the
        // FIFO stays behind: a loss of tidiness, not of safety.
        return;
    };
    thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // Hold the list until the process is gone. A thread that saw its
            // FIFO vanish and hurried to end the program its own way (with
            // an exit code, not the signal) stops at the list, when it drops
            // its Fifo, and waits here instead.
            let mut listed = to_remove();
            remove_listed(&mut listed);
            // Now end the way the signal would have ended us: killed by it,
            // so that a shell sees 128 + its number (130 for Ctrl-C).
            let _ = signal_hook::low_level::emulate_default_handler(signal);
            std::process::exit(128 + signal);
        }
    });
}

/// Removes every remembered FIFO and directory, newest first (a FIFO before
/// the directory that holds it).
fn remove_listed(listed: &mut Listed) {
    for (path, made) in std::mem::take(listed).iter().rev() {
        match (lstat(path), made) {
            (Ok(stat), Some(made)) if identity(&stat) == *made => {
                let _ = std::fs::remove_file(path);
            }
            (_, Some(_)) => {}
            (Ok(stat), None) if is_fifo(&stat) => {
                let _ = std::fs::remove_file(path);
            }
            (Ok(stat), None) if file_type(&stat) == SFlag::S_IFDIR => {
                let _ = std::fs::remove_dir(path);
            }
            // Anything else has replaced what we made: not ours to remove.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    fn me() -> u32 {
        geteuid().as_raw()
    }

    #[test]
    fn a_fifo_is_made_0600_and_removed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let fifo = Fifo::create_at(&path).unwrap();
        let stat = lstat(&path).unwrap();
        assert!(is_fifo(&stat));
        // The umask may remove bits, never add them.
        assert_eq!(stat.st_mode & 0o077, 0);
        assert!(fifo.made_here());
        drop(fifo);
        assert!(!path.exists(), "the FIFO must be gone after drop");
    }

    #[test]
    fn a_private_dir_is_0700_and_leaves_nothing_behind() {
        let fifo = Fifo::create_private("fifo").unwrap();
        let dir = fifo.private_dir().unwrap().to_path_buf();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(fifo.path(), dir.join("fifo"));
        drop(fifo);
        assert!(!dir.exists(), "the private directory must be gone after drop");
    }

    #[test]
    fn a_fifo_is_removed_while_a_panic_unwinds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let inside = path.clone();
        let outcome = std::panic::catch_unwind(move || {
            let _fifo = Fifo::create_at(&inside).unwrap();
            panic!("something went wrong while the FIFO existed");
        });
        assert!(outcome.is_err());
        assert!(!path.exists(), "the FIFO must be removed during unwinding");
    }

    #[test]
    fn a_regular_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("precious");
        std::fs::write(&path, b"keep me\n").unwrap();
        let error = Fifo::create_at(&path).unwrap_err();
        assert!(error.to_string().contains("regular file"), "{error}");
        let error = open(&path, Access::Read, true).unwrap_err();
        assert!(error.to_string().contains("regular file"), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me\n");
    }

    #[test]
    fn a_symlink_is_refused_even_to_a_fifo_of_ours() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real");
        let _fifo = Fifo::create_at(&target).unwrap();
        let link = dir.path().join("link");
        symlink(&target, &link).unwrap();
        for error in [
            Fifo::create_at(&link).unwrap_err(),
            open(&link, Access::Read, true).unwrap_err(),
        ] {
            assert!(error.to_string().contains("symbolic link"), "{error}");
        }
        assert_eq!(std::fs::read_link(&link).unwrap(), target);
    }

    #[test]
    fn an_existing_fifo_of_ours_is_used_and_left_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        nix::unistd::mkfifo(&path, Mode::from_bits_truncate(0o600)).unwrap();
        let fifo = Fifo::create_at(&path).unwrap();
        assert!(!fifo.made_here());
        drop(fifo);
        assert!(path.exists(), "a FIFO we did not make is not ours to remove");
    }

    #[test]
    fn who_else_may_open_a_file_is_said_in_words() {
        assert_eq!(shared_with(0o600), None);
        assert_eq!(shared_with(0o10600), None, "the type bits are not asked");
        assert_eq!(
            shared_with(0o644).as_deref(),
            Some("group may read, others may read")
        );
        assert_eq!(
            shared_with(0o622).as_deref(),
            Some("group may write, others may write")
        );
        assert_eq!(
            shared_with(0o660).as_deref(),
            Some("group may read and write")
        );
        let refused = refuse_if_shared(0o10666).unwrap_err();
        assert!(
            refused.starts_with(
                "its mode is 0666: group may read and \
                                     write, others may read and write"
            ),
            "{refused}"
        );
        assert_eq!(refuse_if_shared(0o10600), Ok(()));
    }

    #[test]
    fn judge_refuses_another_users_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fifo");
        let _fifo = Fifo::create_at(&path).unwrap();
        let stat = lstat(&path).unwrap();
        assert_eq!(judge(&stat, me()), Ok(()));
        let someone_else = me().wrapping_add(1);
        let reason = judge(&stat, someone_else).unwrap_err();
        assert!(
            reason.contains(&format!("belongs to uid {}", me())),
            "{reason}"
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("fifo");
        let error = Fifo::create_at(&path).unwrap_err();
        assert_eq!(error.errno(), Some(Errno::ENOENT));
        assert!(error.to_string().contains("does not exist"), "{error}");
        assert!(!dir.path().join("no-such-dir").exists());
    }

    #[test]
    fn nonblocking_opens_follow_the_fifo_rules() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = Fifo::create_at(&dir.path().join("fifo")).unwrap();
        // No reader: a non-blocking writer's open fails with ENXIO.
        let error = open(fifo.path(), Access::Write, true).unwrap_err();
        assert_eq!(error.errno(), Some(Errno::ENXIO));
        // A non-blocking reader's open returns at once, writer or not...
        let reader = open(fifo.path(), Access::Read, true).unwrap();
        // ...and then a writer's open succeeds.
        let writer = open(fifo.path(), Access::Write, true).unwrap();
        drop((reader, writer));
    }

    #[test]
    fn a_blocking_open_waits_for_its_partner_within_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = Fifo::create_at(&dir.path().join("fifo")).unwrap();
        let error =
            open_within(fifo.path(), Access::Read, Duration::from_millis(100))
                .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no process opened the FIFO for writing"),
            "{error}"
        );
        let pending = PendingOpen::start(fifo.path(), Access::Read);
        assert!(pending.wait(Duration::from_millis(100)).is_none());
        // The waiting reader counts as a reader: a writer may now open.
        let writer = open(fifo.path(), Access::Write, true).unwrap();
        let reader =
            pending.wait(Duration::from_secs(10)).expect("open returns");
        assert!(reader.is_ok());
        drop(writer);
    }
}
