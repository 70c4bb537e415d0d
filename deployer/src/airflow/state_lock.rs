//! One `airflow --local` per state directory: two would share, and wreck,
//! its PostgreSQL cluster, lake, virtualenv and Airflow home. An advisory
//! `flock` on `<state dir>/.lock`, which the kernel releases when the process
//! ends however it ends (a kill included), so a stale lock cannot exist.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Held while the value lives.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum StateLockError {
    #[error("cannot use the state directory {dir}: {detail}")]
    Io { dir: PathBuf, detail: String },
    #[error(
        "another `showcase-deploy airflow --local` (pid {pid}) is using the state directory {dir}: stop it (Ctrl-C), or pass another --state-dir"
    )]
    Held { dir: PathBuf, pid: String },
}

/// Takes `dir`'s lock (creating the directory), or says who holds it.
pub fn lock(dir: &Path) -> Result<StateLock, StateLockError> {
    let io = |e: std::io::Error| StateLockError::Io {
        dir: dir.to_owned(),
        detail: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(".lock"))
        .map_err(io)?;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(io(error));
        }
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        let pid = pid.trim();
        return Err(StateLockError::Held {
            dir: dir.to_owned(),
            pid: if pid.is_empty() { "unknown" } else { pid }.to_owned(),
        });
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    Ok(StateLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_naming_the_first_until_it_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let first = lock(&state).unwrap();
        let refused = lock(&state).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("(pid {})", std::process::id())),
            "{refused}"
        );
        assert!(refused.contains("--state-dir"), "{refused}");
        drop(first);
        assert!(lock(&state).is_ok(), "released with its holder");
    }
}
