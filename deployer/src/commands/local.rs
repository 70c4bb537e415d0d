//! `run --local`: arguments in, the local pipeline run, lines or JSON out.

use std::path::PathBuf;

use showcase_dataset::Day;
use showcase_deploy::local::postgres::LocalPostgres;
use showcase_deploy::local::warehouse::Warehouse;
use showcase_deploy::local::{DayOutcome, PhaseTimes, Pipeline};
use showcase_deploy::report::{Progress, day_line, interactive};

pub struct RunArgs {
    pub date: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub rows: u64,
    pub state_dir: PathBuf,
    pub schema: String,
    pub keep: bool,
    pub json: bool,
    /// `--output markdown`: the days as a table at the end (lines still go to stderr).
    pub markdown: bool,
    /// Run the task graph from this machine even when `[orchestrator]` names
    /// an MWAA environment (which otherwise runs the DAG).
    #[cfg_attr(not(feature = "deploy"), allow(dead_code))]
    pub direct: bool,
}

/// The end of a run in Markdown: printed when asked, and under GitHub
/// Actions written to the job summary.
pub(super) fn finish_markdown(args: &RunArgs, outcomes: &[DayOutcome]) -> Result<(), String> {
    use showcase_deploy::report::{github, run_markdown};
    let markdown = run_markdown(outcomes);
    if args.markdown {
        print!("{markdown}");
    }
    if github::active() {
        github::write_step_summary(&markdown)?;
    }
    Ok(())
}

pub fn days(args: &RunArgs) -> Result<(Day, Day), String> {
    let parse = |flag: &str, text: &str| text.parse::<Day>().map_err(|e| format!("--{flag}: {e}"));
    let (first, last) = match (&args.date, &args.from, &args.to) {
        (Some(date), _, _) => (parse("date", date)?, parse("date", date)?),
        (None, Some(from), Some(to)) => (parse("from", from)?, parse("to", to)?),
        _ => return Err("give --date, or --from and --to".into()),
    };
    if first > last {
        return Err(format!("--from {first} is after --to {last}"));
    }
    Ok((first, last))
}

pub fn run_local(args: RunArgs) -> Result<(), String> {
    let (first, last) = days(&args)?;
    showcase_deploy::pipeline::check_schema_name(&args.schema)
        .map_err(|e| format!("--schema: {e}"))?;
    if args.rows > showcase_dataset::sales::MAX_SALES_PER_DAY {
        return Err(format!(
            "--rows: at most {}",
            showcase_dataset::sales::MAX_SALES_PER_DAY
        ));
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let mut cluster = None;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let started = LocalPostgres::start(&args.state_dir.join("postgres"))
                .map_err(|e| e.to_string())?;
            eprintln!(
                "PostgreSQL: throwaway cluster in {}",
                started.data_dir().display()
            );
            let url = started.url();
            cluster = Some(started);
            url
        }
    };
    let outcome = runtime.block_on(async {
        let warehouse = Warehouse::connect(&url, &args.schema)
            .await
            .map_err(|e| e.to_string())?;
        let lake = args.state_dir.join("lake");
        let mut pipeline = Pipeline::start(args.rows, &lake, warehouse)
            .await
            .map_err(|e| e.to_string())?;
        eprintln!(
            "data API on {}, lake in {}",
            pipeline.api_url(),
            lake.display()
        );
        let total = first.through(last).count() as u64;
        let progress = Progress::new(total, interactive() && !args.json);
        let mut outcomes: Vec<DayOutcome> = Vec::new();
        pipeline.will_run_through(last);
        for day in first.through(last) {
            progress.working_on(&day.to_string());
            let outcome = pipeline.run_day(day).await.map_err(|e| e.to_string())?;
            if args.markdown {
                eprintln!("{}", day_line(&outcome));
            } else if !args.json {
                progress.println(&day_line(&outcome));
            }
            outcomes.push(outcome);
            progress.advance();
        }
        progress.finish();
        let mut times = PhaseTimes::default();
        for outcome in &outcomes {
            times += outcome.times;
        }
        finish_markdown(&args, &outcomes)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&outcomes).map_err(|e| e.to_string())?
            );
        } else {
            eprintln!(
                "{total} day(s): extract {:.1}s, load {:.1}s, transform {:.1}s",
                times.extract.as_secs_f64(),
                times.load.as_secs_f64(),
                times.transform.as_secs_f64()
            );
        }
        Ok::<(), String>(())
    });
    if let Some(cluster) = cluster.as_mut().filter(|_| args.keep) {
        cluster.keep();
        eprintln!(
            "PostgreSQL kept running; inspect it with: {}",
            cluster.psql_command()
        );
    }
    outcome
}
