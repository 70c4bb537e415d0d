//! The `showcase-deploy` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use showcase_deploy::build::{self, Architecture, BuildOptions};
use showcase_deploy::local::{self, LocalRun};

/// Build, run and deploy the showcase data pipeline.
///
/// Exit codes: 0 success, 1 error, 2 bad usage.
#[derive(Parser)]
#[command(name = "showcase-deploy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the functions into Lambda zips (provided.al2023, byte-reproducible).
    ///
    /// Needs cargo-zigbuild (scripts/stand-ins.sh installs it into .venv).
    Build {
        /// Lambda architecture; arm64 needs the aarch64-unknown-linux-gnu Rust target.
        #[arg(long, value_enum, default_value = "x86_64")]
        arch: Architecture,
        /// Where to write the zips [default: <target dir>/lambda].
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Run the pipeline on this machine: no AWS account needed.
    ///
    /// Serves the data API on localhost and extracts each day into a local lake
    /// directory, partitioned by date.
    Run {
        /// Run locally (the only mode so far).
        #[arg(long, required = true)]
        local: bool,
        /// The day to run (YYYY-MM-DD). Or give --from and --to for a backfill.
        #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
        date: Option<String>,
        /// First day of a backfill (inclusive).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// Last day of a backfill (inclusive).
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// Sales rows per day.
        #[arg(long, default_value_t = 50)]
        rows: u64,
        /// The local lake directory.
        #[arg(long, default_value = ".showcase/lake")]
        lake: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Build { arch, out, output } => run_build(arch, out, output),
        Command::Run {
            local: _,
            date,
            from,
            to,
            rows,
            lake,
        } => run_local(date, from, to, rows, lake),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn workspace() -> Result<PathBuf, String> {
    std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))
}

fn run_build(arch: Architecture, out: Option<PathBuf>, output: Output) -> Result<(), String> {
    let mut options = BuildOptions::for_workspace(&workspace()?, arch);
    options.verbose = true;
    if let Some(out) = out {
        options.out_dir = out;
    }
    let artifacts = build::build(&options).map_err(|e| e.to_string())?;
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&artifacts).map_err(|e| e.to_string())?
        ),
        Output::Text => {
            for a in &artifacts {
                println!(
                    "{:<10} {:>9} bytes zipped  glibc {:<5} sha256 {}  {}",
                    a.function,
                    a.zip_bytes,
                    a.glibc.as_deref().unwrap_or("none"),
                    a.code_sha256,
                    a.zip.display()
                );
            }
        }
    }
    Ok(())
}

fn run_local(
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    rows: u64,
    lake: PathBuf,
) -> Result<(), String> {
    let parse = |flag: &str, text: String| text.parse().map_err(|e| format!("--{flag}: {e}"));
    let (first, last) = match (date, from, to) {
        (Some(date), _, _) => {
            let day = parse("date", date)?;
            (day, day)
        }
        (None, Some(from), Some(to)) => (parse("from", from)?, parse("to", to)?),
        _ => return Err("give --date, or --from and --to".into()),
    };
    if first > last {
        return Err(format!("--from {first} is after --to {last}"));
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime
        .block_on(local::run(
            &LocalRun {
                first,
                last,
                sales_per_day: rows,
                lake,
            },
            &mut std::io::stdout(),
        ))
        .map_err(|e| e.to_string())
}
