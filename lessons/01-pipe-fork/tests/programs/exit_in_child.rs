//! A program of its own, compiled and run by `tests/hazards.rs` (never
//! forked inside the test harness): it registers an `atexit` handler,
//! prints without a newline (so the text waits in Rust's stdout buffer),
//! forks, and has the child leave by `std::process::exit(0)` or `_exit(0)`,
//! as its argument says. The parent reaps the child and ends normally. The
//! C calls are declared by hand: std links the C library but does not
//! expose `fork`.

extern "C" {
    fn atexit(handler: extern "C" fn()) -> i32;
    fn fork() -> i32;
    fn waitpid(pid: i32, status: *mut i32, options: i32) -> i32;
    fn _exit(code: i32) -> !;
}

extern "C" fn handler() {
    eprintln!("atexit handler ran");
}

fn main() {
    let exit_with_std = std::env::args().nth(1).as_deref() == Some("std");
    // SAFETY: one process, one thread: atexit and fork are safe to call,
    // and the child only exits.
    unsafe {
        atexit(handler);
        print!("written before the fork;");
        if fork() == 0 {
            if exit_with_std {
                std::process::exit(0);
            }
            _exit(0);
        }
        let mut status = 0;
        waitpid(-1, &mut status, 0);
    }
    println!(" the parent's end");
}
