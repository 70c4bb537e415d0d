//! Helpers shared by the benchmark binaries: running a child process and
//! reading its own peak memory, medians, and unpacking built Lambda zips.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// What one child process cost.
#[derive(Debug, Clone, Copy)]
pub struct ChildCost {
    pub wall: Duration,
    /// Peak resident set size of that process alone, in bytes (from wait4).
    pub peak_rss: u64,
    pub success: bool,
}

/// Runs `command` to completion and measures it with `wait4`, which reports
/// the child's own peak RSS (not the maximum over every child ever waited).
#[allow(
    clippy::zombie_processes,
    reason = "reaped by wait4 below, which std cannot do"
)]
pub fn measure(command: &mut Command) -> ChildCost {
    let started = Instant::now();
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed for {command:?}");
    ChildCost {
        wall,
        peak_rss: usage.ru_maxrss as u64 * 1024,
        success: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// Writes `bootstrap` from a function zip into `dir`; returns its path.
pub fn unpack_bootstrap(zip: &Path, dir: &Path, name: &str) -> PathBuf {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut bytes = Vec::new();
    archive
        .by_name("bootstrap")
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    path
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
