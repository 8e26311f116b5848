//! Standard output closed when steplog starts (`steplog summary x >&-`).
//!
//! Rust's runtime opens `/dev/null` on a closed standard descriptor before `main`, so a
//! report written there would vanish and steplog would exit 0 (and Rust's standard output
//! takes "Bad file descriptor" for success, so closing it again would not do). This runs
//! earlier, as the C library runs a program's constructors: if descriptor 1 is closed, it
//! opens `/dev/full` in its place and remembers it, so that writing the report fails and
//! steplog exits 2 saying standard output was closed. A report sent elsewhere
//! (`-o FILE`) is unaffected. Standard error is left to the runtime: messages written to
//! a closed one are lost, not made a panic.

#[cfg(target_os = "linux")]
use std::fs::{File, OpenOptions};
#[cfg(target_os = "linux")]
use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether standard output was closed when steplog started.
pub fn stdout_was_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// Called by the C library before `main` (a `.init_array` entry).
#[cfg(target_os = "linux")]
extern "C" fn guard_closed_stdout() {
    // Each open takes the lowest free descriptor: 0 if standard input is closed too (kept:
    // `/dev/null`, as the runtime would give), then 1 if standard output is; anything
    // higher means it is open, and the file is closed again (on return).
    let Ok(null) = File::open("/dev/null") else {
        return;
    };
    match null.as_raw_fd() {
        0 => {
            let _ = null.into_raw_fd();
        }
        1 => {
            // Standard output closed, standard input open: the descriptor goes to
            // /dev/full instead.
            drop(null);
        }
        _ => return,
    }
    let Ok(full) = OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
    if full.as_raw_fd() == 1 {
        let _ = full.into_raw_fd();
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static GUARD: extern "C" fn() = guard_closed_stdout;
