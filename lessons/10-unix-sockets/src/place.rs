//! Where a server listens, made safely, and removed whatever happens.
//!
//! A Unix domain socket bound to a path is a file of type `s` (`ls -l`
//! shows `srw-------`), and like a FIFO anyone who can reach the name may
//! try to use it. So, as lesson 04 does for FIFOs:
//!
//! - [`SocketDir`]: a private directory (`mkdtemp`, mode 0700).
//! - [`bind_at`]: `bind` with the umask set to 177, so the socket is made
//!   0600. `bind` never replaces anything: a path that exists fails with
//!   EADDRINUSE. Then the server looks: a socket of ours, mode 0600, that
//!   refuses connections (ECONNREFUSED) is stale, left by a server that
//!   died without cleaning up (`kill -9`), and is removed and bound again;
//!   one that accepts a connection belongs to a live server, and anything
//!   else (a file, a symbolic link, another user's socket, a socket that
//!   group or others may use) is refused and left untouched.
//! - [`bind_abstract`]: Linux's abstract namespace: a name with no file.
//! - [`connect_to`]: the client's side, with one line for each failure.
//!
//! Removal: a [`Listening`] socket is removed when dropped (if it is still
//! the socket we bound), and on SIGINT, SIGTERM or SIGHUP by the same
//! cleanup thread that removes the FIFO lessons' files
//! (`labkit::fifo::remove_on_signal`), before the signal ends the process
//! as it would have.

use std::fmt;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::stat::{FileStat, Mode, SFlag, lstat, umask};
use nix::unistd::geteuid;

/// The mode of the sockets bound here: read and write for the owner only
/// (connecting needs write permission on the socket file).
pub const SOCKET_MODE: u32 = 0o600;

/// Why a socket could not be bound or reached. Each prints as one line.
#[derive(Debug)]
pub enum SocketError {
    /// Something is at the path and it is not a stale socket of ours: it
    /// was left untouched.
    Refused { path: PathBuf, reason: String },
    /// A live server already listens there.
    InUse { name: String },
    /// Nothing at the path (ENOENT).
    Missing { path: PathBuf },
    /// A socket, but nobody listens on it (ECONNREFUSED).
    NoListener { name: String },
    /// A system call failed.
    Call { call: &'static str, name: String, errno: Errno },
}

impl SocketError {
    /// The errno behind the error, where one is.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            SocketError::Missing { .. } => Some(Errno::ENOENT),
            SocketError::NoListener { .. } => Some(Errno::ECONNREFUSED),
            SocketError::InUse { .. } => Some(Errno::EADDRINUSE),
            SocketError::Call { errno, .. } => Some(*errno),
            SocketError::Refused { .. } => None,
        }
    }
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketError::Refused { path, reason } => {
                write!(f, "refusing {}: {reason}; untouched", path.display())
            }
            SocketError::InUse { name } => write!(
                f,
                "{name} is in use (EADDRINUSE): a server is listening there \
                 (connect succeeded), so it is not stale and stays as it is"
            ),
            SocketError::Missing { path } => write!(
                f,
                "no socket at {} (ENOENT): is the server running?",
                path.display()
            ),
            SocketError::NoListener { name } => write!(
                f,
                "{name}: no server listens on it (ECONNREFUSED): a \
                 server died and left its socket behind"
            ),
            SocketError::Call { call, name, errno } => match *errno {
                Errno::EACCES => write!(
                    f,
                    "{call} {name}: permission denied (EACCES): the socket's \
                     mode or a directory on the way does not let you in"
                ),
                _ => write!(f, "{call} {name}: {} ({errno:?})", errno.desc()),
            },
        }
    }
}

impl std::error::Error for SocketError {}

fn errno_of(error: &io::Error) -> Errno {
    match error.raw_os_error() {
        Some(raw) => Errno::from_raw(raw),
        // std checks the length itself: a socket path holds at most 107
        // bytes (sun_path is 108, with its NUL).
        None if error.kind() == io::ErrorKind::InvalidInput => {
            Errno::ENAMETOOLONG
        }
        None => Errno::EIO,
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// A directory made for this run, mode 0700, removed when dropped and on
/// Ctrl-C or SIGTERM: labkit's private directory, the FIFO lessons' own.
#[derive(Debug)]
pub struct SocketDir(labkit::fifo::PrivateDir);

impl SocketDir {
    /// Makes `pipelab-XXXXXX` in the temporary directory ($TMPDIR, or /tmp).
    pub fn new() -> Result<SocketDir, SocketError> {
        let made = labkit::fifo::PrivateDir::new().map_err(|error| {
            let errno = error.errno().unwrap_or(Errno::EIO);
            let template = std::env::temp_dir().join("pipelab-XXXXXX");
            SocketError::Call { call: "mkdtemp", name: shown(&template), errno }
        })?;
        Ok(SocketDir(made))
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Where a listening socket is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A file in the file system.
    Path(PathBuf),
    /// A name in Linux's abstract namespace (no file at all).
    Abstract(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Path(path) => write!(f, "{}", path.display()),
            // `ss -x` and /proc/net/unix show an abstract name with an @.
            Place::Abstract(name) => write!(f, "@{name}"),
        }
    }
}

/// A listening socket, removed from the file system when dropped.
#[derive(Debug)]
pub struct Listening {
    pub listener: UnixListener,
    pub place: Place,
    /// The (device, inode) of the socket file we bound.
    made: Option<(u64, u64)>,
    /// True if a stale socket of ours was there, and was removed first.
    pub replaced_stale: bool,
}

impl Drop for Listening {
    fn drop(&mut self) {
        if let (Place::Path(path), Some(made)) = (&self.place, self.made) {
            labkit::fifo::forget(path);
            remove_if_same_socket(path, made);
        }
    }
}

fn identity(stat: &FileStat) -> (u64, u64) {
    (stat.st_dev, stat.st_ino)
}

fn file_type(stat: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits())
}

fn is_socket(stat: &FileStat) -> bool {
    file_type(stat) == SFlag::S_IFSOCK
}

fn remove_if_same_socket(path: &Path, made: (u64, u64)) {
    if let Ok(stat) = lstat(path)
        && is_socket(&stat)
        && identity(&stat) == made
    {
        let _ = std::fs::remove_file(path);
    }
}

/// Says why `stat` is not a socket this server may treat as its own (and
/// so remove when stale), or Ok if it is: a socket, owned by `euid`, that
/// neither group nor others may use.
// ANCHOR: judge
pub fn judge(stat: &FileStat, euid: u32) -> Result<(), String> {
    let kind = match file_type(stat) {
        SFlag::S_IFSOCK => None,
        SFlag::S_IFLNK => Some("a symbolic link"),
        SFlag::S_IFREG => Some("a regular file"),
        SFlag::S_IFDIR => Some("a directory"),
        SFlag::S_IFIFO => Some("a FIFO"),
        SFlag::S_IFCHR => Some("a character device"),
        SFlag::S_IFBLK => Some("a block device"),
        _ => Some("of an unknown type"),
    };
    if let Some(kind) = kind {
        return Err(format!("{kind}, not a socket"));
    }
    if stat.st_uid != euid {
        return Err(format!(
            "the socket belongs to uid {}, not to you (uid {euid})",
            stat.st_uid
        ));
    }
    // The one rule for FIFOs and sockets alike: no group or other bits.
    labkit::fifo::refuse_if_shared(stat.st_mode)
}
// ANCHOR_END: judge

/// `bind` with the umask at 177, so the socket file is made 0600.
fn bind_private(path: &Path) -> io::Result<UnixListener> {
    // bind makes the file with mode 0777 less the umask. The umask belongs
    // to the whole process: no other thread of these programs makes files.
    let old = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old);
    bound
}

/// Binds and listens at `path`; see the module's documentation for what
/// happens when something is there already.
// ANCHOR: bind
pub fn bind_at(path: &Path) -> Result<Listening, SocketError> {
    let call = |call| {
        move |errno| SocketError::Call { call, name: shown(path), errno }
    };
    let mut replaced_stale = false;
    let listener = match bind_private(path) {
        Ok(listener) => listener,
        Err(error) if errno_of(&error) == Errno::EADDRINUSE => {
            // Something has the name. Look at it, never through a link.
            let stat = lstat(path).map_err(call("lstat"))?;
            judge(&stat, geteuid().as_raw()).map_err(|reason| {
                SocketError::Refused { path: path.to_path_buf(), reason }
            })?;
            // Ours. A live server accepts a connection; a stale socket
            // has no listener, and connect() fails with ECONNREFUSED.
            match UnixStream::connect(path) {
                Ok(_probe) => {
                    return Err(SocketError::InUse { name: shown(path) });
                }
                Err(error) if errno_of(&error) == Errno::ECONNREFUSED => {}
                Err(error) => return Err(call("connect")(errno_of(&error))),
            }
            // Stale: remove it, but only if it is still the file we judged.
            remove_if_same_socket(path, identity(&stat));
            replaced_stale = true;
            bind_private(path).map_err(|e| call("bind")(errno_of(&e)))?
        }
        Err(error) => return Err(call("bind")(errno_of(&error))),
    };
    let stat = lstat(path).map_err(call("lstat"))?;
    labkit::fifo::remove_on_signal(path, identity(&stat));
    Ok(Listening {
        listener,
        place: Place::Path(path.to_path_buf()),
        made: Some(identity(&stat)),
        replaced_stale,
    })
}
// ANCHOR_END: bind

/// Binds and listens on `name` in the abstract namespace (Linux only): no
/// file is made, none is left behind, and no file permission guards it.
// ANCHOR: abstract
pub fn bind_abstract(name: &str) -> Result<Listening, SocketError> {
    let place = Place::Abstract(name.to_string());
    let call = |errno| SocketError::Call {
        call: "bind",
        name: place.to_string(),
        errno,
    };
    let address = SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|error| call(errno_of(&error)))?;
    let listener = match UnixListener::bind_addr(&address) {
        Ok(listener) => listener,
        // An abstract name goes away with its last socket: it cannot be
        // stale, so "in use" always means a live socket.
        Err(error) if errno_of(&error) == Errno::EADDRINUSE => {
            return Err(SocketError::InUse { name: place.to_string() });
        }
        Err(error) => return Err(call(errno_of(&error))),
    };
    Ok(Listening { listener, place, made: None, replaced_stale: false })
}
// ANCHOR_END: abstract

/// Connects to a server at `place`, with one clear error for each way it
/// can fail: nothing there, not a socket, nobody listening, no permission.
// ANCHOR: connect
pub fn connect_to(place: &Place) -> Result<UnixStream, SocketError> {
    let name = place.to_string();
    let connected = match place {
        Place::Path(path) => {
            let stat = lstat(path.as_path()).map_err(|errno| match errno {
                Errno::ENOENT => SocketError::Missing { path: path.clone() },
                errno => SocketError::Call {
                    call: "lstat",
                    name: name.clone(),
                    errno,
                },
            })?;
            if !is_socket(&stat) {
                let reason =
                    judge(&stat, stat.st_uid).err().unwrap_or_default();
                return Err(SocketError::Refused {
                    path: path.clone(),
                    reason,
                });
            }
            UnixStream::connect(path)
        }
        Place::Abstract(abstract_name) => {
            SocketAddr::from_abstract_name(abstract_name.as_bytes())
                .and_then(|address| UnixStream::connect_addr(&address))
        }
    };
    connected.map_err(|error| match (errno_of(&error), place) {
        (Errno::ECONNREFUSED, _) => SocketError::NoListener { name },
        (Errno::ENOENT, Place::Path(path)) => {
            SocketError::Missing { path: path.clone() }
        }
        (errno, _) => SocketError::Call { call: "connect", name, errno },
    })
}
// ANCHOR_END: connect

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn me() -> u32 {
        geteuid().as_raw()
    }

    #[test]
    fn a_socket_is_made_0600_and_removed_on_drop() {
        let dir = SocketDir::new().unwrap();
        let path = dir.path().join("s");
        let listening = bind_at(&path).unwrap();
        let stat = lstat(&path).unwrap();
        assert!(is_socket(&stat));
        assert_eq!(stat.st_mode & 0o777, 0o600);
        assert_eq!(judge(&stat, me()), Ok(()));
        drop(listening);
        assert!(!path.exists());
        let dir_path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&dir_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        drop(dir);
        assert!(!dir_path.exists());
    }

    #[test]
    fn a_socket_others_may_use_is_refused() {
        let dir = SocketDir::new().unwrap();
        let path = dir.path().join("s");
        let listening = bind_at(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))
            .unwrap();
        let reason = judge(&lstat(&path).unwrap(), me()).unwrap_err();
        assert!(reason.contains("mode is 0666"), "{reason}");
        let reason = judge(&lstat(&path).unwrap(), me() + 1).unwrap_err();
        assert!(reason.contains("belongs to uid"), "{reason}");
        drop(listening);
    }
}
