//! The `showcase-deploy` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

mod commands;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use showcase_deploy::build::{self, Architecture, BuildOptions};

/// Build, run and deploy the showcase data pipeline.
///
/// Exit codes: 0 success, 1 error, 2 changes pending or drift found (plan, drift),
/// 64 bad usage (unknown flag, missing value).
#[derive(Parser)]
#[command(
    name = "showcase-deploy",
    version,
    about,
    after_help = "Examples:
  showcase-deploy run --local --date 2024-03-01           the whole pipeline on this machine, no AWS
  showcase-deploy run --from 2024-03-01 --to 2024-03-07   a backfill on the deployed stack
  showcase-deploy sql --date 2024-03-01                   what that run sends to Redshift
  showcase-deploy dag --out dags/                         the stack's Airflow DAG, for MWAA
  showcase-deploy validate --var lake_bucket=my-lake      check stack.toml without calling AWS
  showcase-deploy plan --var lake_bucket=my-lake          what `up` would change, field by field
  showcase-deploy up --var lake_bucket=my-lake            build and deploy
  showcase-deploy drift --output json                     for a scheduled CI job
  showcase-deploy permissions --read-only > drift.json     the IAM policy that CI job's role needs
  showcase-deploy migrate --from-cloudformation showcase-data-pipeline --dry-run
                                                          moving off the seed's SAM stack: the plan

Exit codes: 0 success, 1 error, 2 changes pending (plan) or drift found (drift), 64 bad usage."
)]
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
    /// Check a stack file without calling AWS: every mistake with file:line:column.
    Validate(StackOpts),
    /// Show what `up` would change: per resource and per field. Exit 0: no changes, 2: changes pending.
    Plan(StackOpts),
    /// Build, then create or update the stack so that AWS matches stack.toml. Safe to rerun.
    ///
    /// Only changed code is uploaded: a function whose zip has the live CodeSha256 is left alone.
    Up {
        #[command(flatten)]
        stack: StackOpts,
        /// Use the zips of the last `showcase-deploy build` instead of building.
        #[arg(long)]
        skip_build: bool,
        /// Let up delete a lake bucket stack.toml no longer names (it carries the
        /// stack's tag) with every object in it; without this it is kept.
        #[arg(long)]
        delete_data: bool,
        /// Let up update the MWAA environment when the stack's requirements.txt
        /// changed ([orchestrator] requirements): a 20–30 minute update of the
        /// user's environment, which the plan announces; without this up refuses it.
        #[arg(long)]
        allow_env_update: bool,
    },
    /// Compare the live resources with stack.toml, field by field. Exit 0: in sync, 2: drifted.
    ///
    /// Meant for a scheduled CI job: `--output json` gives a machine-readable report.
    Drift(StackOpts),
    /// Delete what the stack owns (and nothing else). The lake bucket, the
    /// warehouse and their data are kept unless --delete-data.
    Down {
        #[command(flatten)]
        stack: StackOpts,
        /// Do not ask for confirmation (needed when not at a terminal).
        #[arg(long)]
        yes: bool,
        /// Also empty and delete the lake bucket, every object version included,
        /// and delete the warehouse after a final snapshot of it.
        #[arg(long)]
        delete_data: bool,
        /// With --delete-data: delete the warehouse without a final snapshot
        /// (its data is gone for good).
        #[arg(long, requires = "delete_data")]
        skip_final_snapshot: bool,
    },
    /// Print the names and endpoints a user needs (bucket, API URL, functions).
    Outputs {
        #[command(flatten)]
        stack: StackOpts,
        /// Also print secret values (the API key).
        #[arg(long)]
        show_secrets: bool,
    },
    /// Remove the stack's lock, whoever holds it.
    ///
    /// `up` and `down` take a lock with a one-hour lease so that two never
    /// change a stack at once; a run that was killed holds it until the lease
    /// ends. Use this when you know that run is gone.
    Unlock {
        #[command(flatten)]
        stack: StackOpts,
    },
    /// Move from the seed's SAM/CloudFormation stack to this stack, keeping the lake.
    ///
    /// Prints the plan first (which resource becomes which of ours, what is
    /// kept, what is retired), then: DeletionPolicy Retain on the bucket (an
    /// UpdateStack changing nothing else), the bucket tagged and brought up
    /// with the stack (our settings; no object is touched), the CloudFormation
    /// stack deleted (it deletes only what it alone owned). Resumable: rerun
    /// it after an interruption. Exit 0: done or nothing left; with --dry-run
    /// 2 when something is left.
    #[command(verbatim_doc_comment)]
    Migrate {
        /// The CloudFormation stack `sam deploy` made (the seed's: showcase-data-pipeline).
        #[arg(long, value_name = "STACK")]
        from_cloudformation: String,
        /// The seed's Airflow DAG folder (redshift_config.txt, sql/): the plan
        /// names its cluster and the COPY role its SQL hard-codes.
        #[arg(long, value_name = "DIR")]
        seed_dags: Option<PathBuf>,
        /// Do not ask for confirmation (needed when not at a terminal).
        #[arg(long)]
        yes: bool,
        /// Print the plan and stop; nothing is changed.
        #[arg(long)]
        dry_run: bool,
        /// Use the zips of the last `showcase-deploy build` instead of building.
        #[arg(long)]
        skip_build: bool,
        #[command(flatten)]
        stack: StackOpts,
    },
    /// Print the IAM policy showcase-deploy itself needs for this stack, as JSON.
    ///
    /// Scoped to the stack's names (functions, roles and log groups named
    /// <stack>-…, parameters under /showcase/<stack>/, the lake bucket). Attach
    /// the --read-only one to a scheduled drift job's role: it allows plan,
    /// drift and outputs and changes nothing (it does read the API key, whose
    /// hash plans compare).
    #[command(verbatim_doc_comment)]
    Permissions {
        #[command(flatten)]
        stack: StackOpts,
        /// Only what plan, drift and outputs need.
        #[arg(long, conflicts_with = "run")]
        read_only: bool,
        /// What `run` on the deployed stack needs (also an Airflow execution
        /// role running the same DAG): invoke the extractor, run and follow SQL.
        #[arg(long)]
        run: bool,
        /// What the DAG needs on MWAA: a policy to add to the environment's
        /// execution role (invoke the extractor, run SQL on the warehouse, read
        /// its managed secret or IAM credentials), scoped to the stack's names.
        #[arg(long, conflicts_with_all = ["read_only", "run", "from_cloudformation"])]
        mwaa: bool,
        /// The AWS account id for the ARNs [default: the credentials' account, from STS].
        #[arg(long)]
        account: Option<String>,
        /// What `migrate --from-cloudformation STACK` needs: up's policy, the
        /// seed's stack, and deleting its resources through CloudFormation.
        #[arg(long, value_name = "STACK", conflicts_with_all = ["read_only", "run"])]
        from_cloudformation: Option<String>,
    },
    /// Run the pipeline for a day or days, in date order: on the deployed stack, or --local.
    ///
    /// On the deployed stack (stack.toml with a [warehouse], after `up`): each
    /// extract invokes the extractor function, each SQL task runs its file
    /// through the Redshift Data API in one transaction, a failed check stops
    /// the day naming it, before any dimension or fact is touched.
    ///
    /// --local: no AWS account needed. Serves the data API on localhost,
    /// extracts each day into a local lake directory, loads and transforms it
    /// on PostgreSQL (Redshift's stand-in), in the order of the same task graph.
    /// PostgreSQL: DATABASE_URL if set, otherwise a throwaway cluster of the
    /// installed PostgreSQL under --state-dir, stopped at the end unless --keep.
    #[command(verbatim_doc_comment)]
    Run(RunOpts),
    /// Print exactly what `run` sends for a date on the deployed stack: every
    /// task in order, each SQL task's statements (one transaction) rendered
    /// with the stack's real names (schema, lake, COPY role). Calls no AWS
    /// service but STS, and not that with --account.
    Sql(SqlOpts),
    /// Write the stack's Airflow DAG (Airflow 2.x and 3.x, MWAA) and its SQL
    /// into --out, rendered from the task graph with the names `run` uses.
    ///
    /// Task ids and edges are the graph's; extracts invoke the extractor and
    /// check its summary, SQL tasks run each file in one transaction through
    /// the Redshift Data API, a false check fails its task. Daily from
    /// [orchestrator] start_date (default 2024-01-01) at its schedule,
    /// catch-up, one active run, depends on past. Reads the stack's cluster
    /// (who the SQL runs as), like `run`. Same stack, same bytes. With
    /// [orchestrator] mwaa_environment, `up` puts these files in the
    /// environment's DAG folder.
    #[command(verbatim_doc_comment)]
    Dag {
        /// The DAG folder to write into (the DAG file and a folder of its SQL).
        #[arg(long)]
        out: PathBuf,
        /// The warehouse schema.
        #[arg(long, default_value = "showcase_data_pipeline")]
        schema: String,
        #[command(flatten)]
        stack: StackOpts,
    },
    /// Run the stack's DAG in a real Airflow on this machine: its web UI, each
    /// day's run, task logs, a backfill; no Docker, no AWS account (--local).
    ///
    /// The first time, builds a virtualenv with MWAA's Airflow version and
    /// pins under --state-dir (a few minutes; reused afterwards). Starts the
    /// data API, the lake directory, a throwaway PostgreSQL and, in process,
    /// the AWS endpoints the DAG calls (Lambda Invoke running the extractor,
    /// the Redshift Data API running the SQL on PostgreSQL); renders the DAG
    /// against them; starts Airflow and prints its URL and login. With --date
    /// (or --from/--to) triggers those runs through Airflow's REST API and
    /// prints run --local's line per day; --exit stops once they finish.
    /// Ctrl-C stops everything it started.
    #[command(verbatim_doc_comment)]
    Airflow(AirflowOpts),
    /// Print the JSON Schema of stack.toml (draft 2020-12), for editors.
    ///
    /// stack.toml's first line `#:schema ./stack.schema.json` points taplo and
    /// Even Better TOML at it: they complete and check the file as you type.
    #[command(verbatim_doc_comment)]
    Schema,
    /// Print a shell completion script: `showcase-deploy completions bash > ~/.local/share/bash-completion/completions/showcase-deploy`.
    Completions {
        /// The shell (bash, zsh, fish, elvish, powershell).
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `showcase-deploy man > showcase-deploy.1`.
    Man {
        /// Write showcase-deploy.1 and a page per subcommand (showcase-deploy-up.1, …) here instead.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
}

/// sysexits.h EX_USAGE.
const EXIT_USAGE: u8 = 64;

/// What `run` runs, and where.
#[derive(Args)]
struct RunOpts {
    /// Run on this machine (no AWS account) instead of on the deployed stack.
    #[arg(long)]
    local: bool,
    /// With [orchestrator] mwaa_environment, `run` triggers the day's DAG run
    /// on MWAA and follows it; --direct runs the task graph from this machine
    /// instead (invoking the extractor and the Data API itself).
    #[arg(long, conflicts_with = "local")]
    direct: bool,
    /// The day to run (YYYY-MM-DD). Or give --from and --to for a backfill.
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    date: Option<String>,
    /// First day of a backfill (inclusive).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day of a backfill (inclusive).
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Sales rows per day (--local; the deployed API's volume is its own setting).
    #[arg(long, default_value_t = 50, requires = "local")]
    rows: u64,
    /// Where local state lives: the lake and the throwaway PostgreSQL cluster (--local).
    #[arg(long, default_value = ".showcase", requires = "local")]
    state_dir: PathBuf,
    /// The warehouse schema.
    #[arg(long, default_value = "showcase_data_pipeline")]
    schema: String,
    /// Leave the throwaway PostgreSQL running at the end and print how to connect (--local).
    #[arg(long, requires = "local")]
    keep: bool,
    /// The stack file (without --local).
    #[arg(long, default_value = "stack.toml", conflicts_with = "local")]
    stack: PathBuf,
    /// A value for ${var.NAME} in the stack file (repeatable; without --local).
    #[arg(long = "var", value_name = "NAME=VALUE", conflicts_with = "local")]
    vars: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

impl RunOpts {
    fn run(self) -> Result<(), String> {
        let json = matches!(self.output, Output::Json);
        let local = self.local;
        let stack = commands::StackArgs {
            stack: self.stack,
            vars: self.vars,
            json,
            markdown: false,
        };
        let args = commands::RunArgs {
            date: self.date,
            from: self.from,
            to: self.to,
            rows: self.rows,
            state_dir: self.state_dir,
            schema: self.schema,
            keep: self.keep,
            json,
            markdown: matches!(self.output, Output::Markdown),
            direct: self.direct,
        };
        if local {
            commands::run_local(args)
        } else {
            commands::run_on_aws(args, &stack)
        }
    }
}

/// What `airflow --local` serves and runs.
#[derive(Args)]
struct AirflowOpts {
    /// Run Airflow on this machine (the only mode so far).
    #[arg(long, required = true)]
    local: bool,
    /// The port of Airflow's web UI and API, on 127.0.0.1.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// The Airflow version (the two MWAA runs), with MWAA's pins.
    #[arg(long, default_value = "2.11.0", value_parser = ["2.11.0", "3.0.6"])]
    airflow: String,
    /// Where local state lives: the virtualenv, Airflow's home, the lake, PostgreSQL.
    #[arg(long, default_value = ".showcase")]
    state_dir: PathBuf,
    /// An Airflow virtualenv to use instead of building one under --state-dir.
    #[arg(long)]
    venv: Option<PathBuf>,
    /// A day to run through Airflow (YYYY-MM-DD). Or --from and --to.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    date: Option<String>,
    /// First day to run (inclusive).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day to run (inclusive).
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// Stop once the days ran (for scripts and tests).
    #[arg(long)]
    exit: bool,
    /// Sales rows per day.
    #[arg(long, default_value_t = 50)]
    rows: u64,
    /// The warehouse schema.
    #[arg(long, default_value = "showcase_data_pipeline")]
    schema: String,
}

impl AirflowOpts {
    fn run(self) -> Result<(), String> {
        let days = if self.date.is_some() || self.from.is_some() {
            let args = commands::RunArgs {
                date: self.date,
                from: self.from,
                to: self.to,
                rows: self.rows,
                state_dir: self.state_dir.clone(),
                schema: self.schema.clone(),
                keep: false,
                json: false,
                markdown: false,
                direct: false,
            };
            Some(commands::days(&args)?)
        } else if self.exit {
            return Err("--exit needs --date or --from/--to".into());
        } else {
            None
        };
        commands::airflow_local(commands::AirflowArgs {
            port: self.port,
            airflow: self.airflow,
            state_dir: self.state_dir,
            venv: self.venv,
            days,
            exit: self.exit,
            rows: self.rows,
            schema: self.schema,
        })
    }
}

/// Which days' SQL `sql` prints, for which stack.
#[derive(Args)]
struct SqlOpts {
    /// The day (YYYY-MM-DD). Or give --from and --to.
    #[arg(long, conflicts_with_all = ["from", "to"], required_unless_present = "from")]
    date: Option<String>,
    #[arg(long, requires = "to")]
    from: Option<String>,
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// The warehouse schema.
    #[arg(long, default_value = "showcase_data_pipeline")]
    schema: String,
    /// The AWS account id for the COPY role's ARN [default: the credentials' account, from STS].
    #[arg(long)]
    account: Option<String>,
    /// The stack file.
    #[arg(long, default_value = "stack.toml")]
    stack: PathBuf,
    /// A value for ${var.NAME} in the stack file (repeatable); SHOWCASE_VAR_NAME works too.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
}

impl SqlOpts {
    fn print(self) -> Result<(), String> {
        let args = commands::RunArgs {
            date: self.date,
            from: self.from,
            to: self.to,
            rows: 0,
            state_dir: PathBuf::new(),
            schema: self.schema,
            keep: false,
            json: false,
            markdown: false,
            direct: false,
        };
        let stack = commands::StackArgs {
            stack: self.stack,
            vars: self.vars,
            json: false,
            markdown: false,
        };
        commands::print_sql(args, &stack, self.account)
    }
}

/// Which stack, with which values.
#[derive(Args)]
struct StackOpts {
    /// The stack file.
    #[arg(long, default_value = "stack.toml")]
    stack: PathBuf,
    /// A value for ${var.NAME} in the stack file (repeatable); SHOWCASE_VAR_NAME works too.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
}

impl StackOpts {
    fn args(self) -> commands::StackArgs {
        commands::StackArgs {
            stack: self.stack,
            vars: self.vars,
            json: matches!(self.output, Output::Json),
            markdown: matches!(self.output, Output::Markdown),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Output {
    Text,
    Json,
    /// A table for a pull request comment or a job summary (plan and drift).
    Markdown,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let usage_error = error.use_stderr();
            let _ = error.print();
            // 2 is kept for "changes pending" (plan, drift), as in terraform.
            return if usage_error {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let outcome = match cli.command {
        Command::Build { arch, out, output } => run_build(arch, out, output).map(|()| 0),
        Command::Validate(stack) => commands::validate(&stack.args()),
        Command::Plan(stack) => commands::plan(&stack.args()),
        Command::Up {
            stack,
            skip_build,
            delete_data,
            allow_env_update,
        } => commands::up(&stack.args(), skip_build, delete_data, allow_env_update),
        Command::Drift(stack) => commands::drift(&stack.args()),
        Command::Down {
            stack,
            yes,
            delete_data,
            skip_final_snapshot,
        } => commands::down(&stack.args(), yes, delete_data, skip_final_snapshot),
        Command::Outputs {
            stack,
            show_secrets,
        } => commands::outputs(&stack.args(), show_secrets),
        Command::Unlock { stack } => commands::unlock(&stack.args()),
        Command::Permissions {
            stack,
            read_only,
            run,
            mwaa,
            account,
            from_cloudformation,
        } => commands::permissions(
            &stack.args(),
            read_only,
            run,
            mwaa,
            account,
            from_cloudformation,
        ),
        Command::Migrate {
            from_cloudformation,
            seed_dags,
            yes,
            dry_run,
            skip_build,
            stack,
        } => commands::migrate(
            &stack.args(),
            &commands::MigrateArgs {
                from_cloudformation,
                seed_dags,
                yes,
                dry_run,
                skip_build,
            },
        ),
        Command::Run(run) => run.run().map(|()| 0),
        Command::Sql(sql) => sql.print().map(|()| 0),
        Command::Dag { out, schema, stack } => {
            commands::write_dag(&stack.args(), &out, &schema).map(|()| 0)
        }
        Command::Airflow(airflow) => airflow.run().map(|()| 0),
        Command::Schema => print(showcase_deploy::config::json_schema_text().as_bytes()),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "showcase-deploy", &mut script);
            print(&script)
        }
        Command::Man { out_dir: Some(dir) } => clap_mangen::generate_to(Cli::command(), &dir)
            .map(|()| 0)
            .map_err(|e| format!("cannot write the man pages to {}: {e}", dir.display())),
        Command::Man { out_dir: None } => {
            let mut page = Vec::new();
            // As generate_to does: no page for `help`, so none listed.
            clap_mangen::Man::new(Cli::command().disable_help_subcommand(true))
                .render(&mut page)
                .map_err(|e| e.to_string())
                .and_then(|()| print(&page))
        }
    };
    match outcome {
        Ok(status) => ExitCode::from(status),
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Writes generated text (schema, completions, man page) to stdout.
fn print(bytes: &[u8]) -> Result<u8, String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map(|()| 0)
        .map_err(|e| format!("cannot write to stdout: {e}"))
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
        Output::Text | Output::Markdown => {
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
