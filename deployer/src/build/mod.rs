//! `build`: the functions as Lambda zips for the `provided.al2023` runtime.
//!
//! cargo-zigbuild links against glibc 2.34 (Amazon Linux 2023's); the zip is
//! written byte for byte the same for the same sources, so Lambda's
//! `CodeSha256` of a deployed function says whether its code must be uploaded.

mod cargo;
mod glibc;
mod package;

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::Digest;

pub use glibc::{GlibcVersion, highest_glibc_requirement};
pub use package::{bootstrap_zip, code_sha256};

/// The newest glibc Amazon Linux 2023 provides.
pub const LAMBDA_GLIBC: GlibcVersion = GlibcVersion(2, 34);

/// The functions of the pipeline and the binaries they are built from.
pub const FUNCTIONS: [Function; 2] = [
    Function {
        name: "data-api",
        package: "showcase-data-api",
        binary: "data-api",
    },
    Function {
        name: "extractor",
        package: "showcase-extractor",
        binary: "extractor",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Function {
    /// The name used in `stack.toml` and in the zip's file name.
    pub name: &'static str,
    pub package: &'static str,
    pub binary: &'static str,
}

/// The Lambda instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    #[value(name = "x86_64")]
    #[serde(rename = "x86_64")]
    X86_64,
    Arm64,
}

impl Architecture {
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// The name Lambda's API uses.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub workspace: PathBuf,
    /// Cargo's target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
    pub target_dir: PathBuf,
    /// Where the zips go.
    pub out_dir: PathBuf,
    pub architecture: Architecture,
    /// Print cargo's own progress (on stderr).
    pub verbose: bool,
    /// Searched first for cargo-zigbuild and zig (scripts/stand-ins.sh installs them there).
    pub tools_dir: PathBuf,
}

impl BuildOptions {
    pub fn for_workspace(workspace: &Path, architecture: Architecture) -> BuildOptions {
        let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        let lambda = lambda_dir(workspace, &cargo_target);
        BuildOptions {
            workspace: workspace.to_owned(),
            out_dir: lambda.join(architecture.lambda_name()),
            target_dir: lambda.join("build"),
            architecture,
            verbose: false,
            tools_dir: workspace.join(".venv/bin"),
        }
    }
}

/// Where a checkout's Lambda builds and zips live: `<target>/lambda`, and
/// below it one directory per checkout when the target directory is shared
/// (outside the workspace). Cargo decides freshness by the mtimes of
/// workspace-relative paths, so two checkouts sharing one build directory
/// would take each other's binaries for fresh, and `plan` would read the other
/// checkout's zips.
pub fn lambda_dir(workspace: &Path, cargo_target: &Path) -> PathBuf {
    let lambda = cargo_target.join("lambda");
    if cargo_target.starts_with(workspace) {
        return lambda;
    }
    let workspace = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_owned());
    let digest = sha2::Sha256::digest(workspace.as_os_str().as_encoded_bytes());
    let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    lambda.join(format!("checkout-{id}"))
}

/// One built function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    pub function: String,
    pub architecture: Architecture,
    pub zip: PathBuf,
    /// base64(sha256(zip)), exactly as Lambda reports `CodeSha256`.
    pub code_sha256: String,
    pub zip_bytes: u64,
    pub binary_bytes: u64,
    /// The highest `GLIBC_x.y` symbol version the binary needs; `None` if static.
    pub glibc: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(
        "the Rust target {target} (for architecture = \"{architecture}\") is not installed.\n  \
         Install it with `rustup target add {target}`, or build for architecture = \"x86_64\"."
    )]
    TargetMissing {
        target: &'static str,
        architecture: &'static str,
    },
    #[error(
        "cargo-zigbuild is not installed: run scripts/stand-ins.sh, or `pip install cargo-zigbuild==0.24.0`"
    )]
    ZigbuildMissing,
    #[error("`{command}` failed ({status}); its output is above")]
    CargoFailed { command: String, status: String },
    #[error(
        "{binary} needs glibc {found}, but Lambda's provided.al2023 has {LAMBDA_GLIBC}: it would not start there"
    )]
    GlibcTooNew { binary: String, found: GlibcVersion },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Builds every function and packages it; see the module docs.
pub fn build(options: &BuildOptions) -> Result<Vec<Artifact>, BuildError> {
    let binaries = cargo::build_binaries(options)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| BuildError::Io { path, source }
    };
    std::fs::create_dir_all(&options.out_dir).map_err(io(&options.out_dir))?;
    let mut artifacts = Vec::new();
    for (function, binary) in FUNCTIONS.iter().zip(binaries) {
        let bytes = std::fs::read(&binary).map_err(io(&binary))?;
        let glibc = highest_glibc_requirement(&bytes);
        if let Some(found) = glibc.filter(|v| *v > LAMBDA_GLIBC) {
            return Err(BuildError::GlibcTooNew {
                binary: binary.display().to_string(),
                found,
            });
        }
        let zip = bootstrap_zip(&bytes).map_err(io(&binary))?;
        let zip_path = options.out_dir.join(format!("{}.zip", function.name));
        write_if_changed(&zip_path, &zip).map_err(io(&zip_path))?;
        artifacts.push(Artifact {
            function: function.name.to_owned(),
            architecture: options.architecture,
            zip: zip_path,
            code_sha256: code_sha256(&zip),
            zip_bytes: zip.len() as u64,
            binary_bytes: bytes.len() as u64,
            glibc: glibc.map(|v| v.to_string()),
        });
    }
    Ok(artifacts)
}

/// The zips a previous build left in `options.out_dir` (what `plan` and
/// `drift` compare against without building).
pub fn existing(options: &BuildOptions) -> Vec<(String, PathBuf, String)> {
    FUNCTIONS
        .iter()
        .filter_map(|f| {
            let zip = options.out_dir.join(format!("{}.zip", f.name));
            let bytes = std::fs::read(&zip).ok()?;
            Some((f.name.to_owned(), zip, code_sha256(&bytes)))
        })
        .collect()
}

/// Leaves an identical file alone, so its mtime tells when the code last changed.
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    let temporary = path.with_extension("zip.partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_target_directory_gets_a_lambda_directory_per_checkout() {
        let shared = Path::new("/cache/target");
        let a = lambda_dir(Path::new("/work/a"), shared);
        let b = lambda_dir(Path::new("/work/b"), shared);
        assert_ne!(a, b);
        assert!(
            a.to_string_lossy()
                .starts_with("/cache/target/lambda/checkout-"),
            "{}",
            a.display()
        );
        assert_eq!(a, lambda_dir(Path::new("/work/a"), shared), "stable");
        assert_eq!(
            lambda_dir(Path::new("/work/a"), Path::new("/work/a/target")),
            Path::new("/work/a/target/lambda"),
            "a checkout's own target directory needs no more"
        );
    }
}
