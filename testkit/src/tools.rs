use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|error| panic!("no free local port: {error}"))
}

/// A command-line tool the tests need: from the project's `.venv` (where
/// `scripts/stand-ins.sh` installs it) or else from `PATH`.
pub fn tool(name: &str) -> PathBuf {
    let in_venv = workspace_root().join(".venv/bin").join(name);
    if in_venv.is_file() {
        return in_venv;
    }
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| panic!("`{name}` is not installed: run scripts/stand-ins.sh (installs the test stand-ins into .venv)"))
}
