//! The virtualenv the local Airflow runs from: MWAA's Airflow version with
//! MWAA's pins, built once under the state directory (a few minutes, ~350 MB,
//! said up front) and reused; or one the user names (`--venv`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// An Airflow version MWAA runs, with the provider versions its image pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AirflowVersion {
    #[value(name = "2.11.0")]
    V2_11_0,
    #[value(name = "3.0.6")]
    V3_0_6,
}

/// MWAA's constraints for Airflow 3.0.6 (amazon-mwaa-docker-images).
const PINS_3_0_6: &str = include_str!("../../../scripts/mwaa-3.0.6-pins.txt");

impl AirflowVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            AirflowVersion::V2_11_0 => "2.11.0",
            AirflowVersion::V3_0_6 => "3.0.6",
        }
    }

    pub fn is_3(self) -> bool {
        matches!(self, AirflowVersion::V3_0_6)
    }

    /// What pip installs (MWAA's pins).
    fn requirements(self) -> Vec<&'static str> {
        match self {
            AirflowVersion::V2_11_0 => vec![
                "apache-airflow==2.11.0",
                "apache-airflow-providers-amazon==9.8.0",
                "apache-airflow-providers-common-sql==1.27.1",
            ],
            AirflowVersion::V3_0_6 => vec![
                "apache-airflow==3.0.6",
                "apache-airflow-providers-amazon==9.12.0",
            ],
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VenvError {
    #[error(
        "no Python 3 found (tried {tried}): install Python 3 (3.12, as MWAA runs; \
         e.g. `apt-get install python3 python3-venv`), or give --venv with an Airflow virtualenv"
    )]
    NoPython { tried: String },
    #[error("{0} is not an Airflow virtualenv (no bin/python in it)")]
    NotAVenv(PathBuf),
    #[error(
        "building the Airflow virtualenv in {dir} failed ({step}); the last lines pip printed:\n{tail}"
    )]
    Build {
        dir: PathBuf,
        step: String,
        tail: String,
    },
}

/// The Pythons tried, best first: MWAA runs 3.12.
const PYTHONS: &[&str] = &["python3.12", "python3.11", "python3"];

fn find_python() -> Result<PathBuf, VenvError> {
    for name in PYTHONS {
        let runs = Command::new(name)
            .args([
                "-c",
                "import sys, venv; sys.exit(sys.version_info < (3, 9))",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if runs {
            return Ok(PathBuf::from(name));
        }
    }
    Err(VenvError::NoPython {
        tried: PYTHONS.join(", "),
    })
}

/// The virtualenv's python, building the virtualenv first when `dir` has
/// none finished (a stamp file marks a finished one; an interrupted build is
/// redone).
pub fn ensure(dir: &Path, version: AirflowVersion) -> Result<PathBuf, VenvError> {
    let python = dir.join("bin/python");
    let stamp = dir.join(".showcase-airflow");
    if python.is_file()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == version.as_str())
    {
        return Ok(python);
    }
    let base = find_python()?;
    eprintln!(
        "Building a virtualenv with Airflow {} and MWAA's pins in {} (first time only: \
         about 2-5 minutes and 350 MB; reused afterwards)",
        version.as_str(),
        dir.display()
    );
    let started = Instant::now();
    let failed = |step: &str, tail: String| VenvError::Build {
        dir: dir.to_owned(),
        step: step.to_owned(),
        tail,
    };
    let _ = std::fs::remove_dir_all(dir);
    let made = Command::new(&base)
        .args(["-m", "venv"])
        .arg(dir)
        .output()
        .map_err(|e| failed("python3 -m venv", e.to_string()))?;
    if !made.status.success() {
        return Err(failed(
            &format!("{} -m venv", base.display()),
            String::from_utf8_lossy(&made.stderr).into_owned(),
        ));
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ])
    .args(version.requirements());
    if version.is_3() {
        let pins = dir.join("mwaa-pins.txt");
        std::fs::write(&pins, PINS_3_0_6).map_err(|e| failed("writing the pins", e.to_string()))?;
        pip.arg("-c").arg(pins);
    }
    run_with_progress(&mut pip).map_err(|tail| failed("pip install", tail))?;
    std::fs::write(&stamp, version.as_str())
        .map_err(|e| failed("writing the stamp", e.to_string()))?;
    eprintln!(
        "Airflow {} installed in {:.0} s",
        version.as_str(),
        started.elapsed().as_secs_f64()
    );
    Ok(python)
}

/// Runs pip, saying what it collects and installs as it goes; `Err` holds
/// its last lines.
fn run_with_progress(pip: &mut Command) -> Result<(), String> {
    let mut child = pip
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let errors = child.stderr.take().map(|stderr| {
        std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        })
    });
    let mut last = Vec::new();
    let mut collected = 0;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("Collecting ") {
                collected += 1;
                if collected % 25 == 0 {
                    eprintln!("  pip: {collected} packages collected…");
                }
            } else if line.starts_with("Installing collected packages") {
                eprintln!("  pip: installing {collected} packages…");
            }
            last.push(line);
            if last.len() > 20 {
                last.remove(0);
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let errors = errors.and_then(|h| h.join().ok()).unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    last.extend(errors.into_iter().rev().take(20).rev());
    Err(last.join("\n"))
}

/// A virtualenv the user named: its python, checked to exist.
pub fn given(dir: &Path) -> Result<PathBuf, VenvError> {
    let python = dir.join("bin/python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(VenvError::NotAVenv(dir.to_owned()))
    }
}
