//! Running `cargo zigbuild` for every function at once. Always the same set of
//! packages: building one alone would unify features differently and change
//! the bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Architecture, BuildError, BuildOptions, FUNCTIONS};

/// Builds the functions' binaries; returns their paths in [`FUNCTIONS`] order.
pub fn build_binaries(options: &BuildOptions) -> Result<Vec<PathBuf>, BuildError> {
    let target = options.architecture.rust_target();
    ensure_target_installed(options.architecture)?;
    let path = search_path(&options.tools_dir);
    let zigbuild_present = Command::new("cargo-zigbuild")
        .arg("--version")
        .env("PATH", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !zigbuild_present {
        return Err(BuildError::ZigbuildMissing);
    }
    let mut command = Command::new("cargo");
    command
        .current_dir(&options.workspace)
        .env("PATH", &path)
        .env("CARGO_TARGET_DIR", &options.target_dir)
        .env("RUSTFLAGS", remap_flags(&options.target_dir))
        .args([
            "zigbuild",
            "--release",
            "--locked",
            "--target",
            &format!("{target}.2.34"),
        ]);
    for function in FUNCTIONS {
        command.args(["-p", function.package, "--bin", function.binary]);
    }
    if !options.verbose {
        command.arg("--quiet");
    }
    let described = format!("{command:?}");
    let status = command.status().map_err(|e| BuildError::CargoFailed {
        command: described.clone(),
        status: e.to_string(),
    })?;
    if !status.success() {
        return Err(BuildError::CargoFailed {
            command: described,
            status: status.to_string(),
        });
    }
    let release = options.target_dir.join(target).join("release");
    Ok(FUNCTIONS.iter().map(|f| release.join(f.binary)).collect())
}

/// Paths that would otherwise be baked into panic messages and debug sections.
/// Workspace sources are passed to rustc as relative paths already; the cargo
/// home (dependencies) and target directory (generated code) are not.
fn remap_flags(target_dir: &Path) -> String {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .unwrap_or_default();
    format!(
        "--remap-path-prefix={}=/cargo --remap-path-prefix={}=/target",
        cargo_home.display(),
        target_dir.display()
    )
}

/// `PATH` with the tools directory in front.
fn search_path(tools_dir: &Path) -> std::ffi::OsString {
    let venv = tools_dir.to_owned();
    let existing = std::env::var_os("PATH").unwrap_or_default();
    let paths = std::iter::once(venv).chain(std::env::split_paths(&existing));
    std::env::join_paths(paths).unwrap_or(existing)
}

fn ensure_target_installed(architecture: Architecture) -> Result<(), BuildError> {
    let target = architecture.rust_target();
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let installed =
        sysroot.is_some_and(|root| root.join("lib/rustlib").join(target).join("lib").is_dir());
    if installed {
        Ok(())
    } else {
        Err(BuildError::TargetMissing {
            target,
            architecture: architecture.lambda_name(),
        })
    }
}
