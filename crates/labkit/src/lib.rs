//! labkit: the pieces every pipelab lesson shares, so that a lesson's own
//! source can stay one story about one idea.
//!
//! - [`cli`]: argument errors as one line and exit status 2.
//! - [`narrate`]: lines tagged with who speaks (parent, child, server,
//!   client, kernel), coloured when a person is watching, plain otherwise,
//!   plus `--trace` lines that show each system call and its result.
//! - [`status`]: a wait status explained in words ("killed by signal 13
//!   (SIGPIPE); a shell would show 141").
//! - [`process`]: the only `unsafe` in the course: a `fork` that refuses to
//!   run in a multi-threaded process, and setting a signal's disposition.
//! - [`raw_status`]: a bounded wait that returns the status word as C's
//!   `waitpid` stores it, undecoded, for lessons about that word.
//! - [`fifo`]: FIFOs made safely: a private directory (mode 0700), FIFOs
//!   made 0600 and opened only after checking they are ours (`O_NOFOLLOW`,
//!   then `fstat`), removed on drop, on panic and on Ctrl-C or SIGTERM;
//!   blocking opens with a time limit.
//! - [`watchdog`]: bounds for everything that can block: a read with a
//!   deadline, a wait for a child with a deadline, and a subprocess run with
//!   a time limit (used by every test).

pub mod cli;
pub mod fifo;
pub mod narrate;
pub mod process;
pub mod raw_status;
pub mod status;
pub mod watchdog;

pub use narrate::{ColorChoice, CommonArgs, Speaker, say, trace};
