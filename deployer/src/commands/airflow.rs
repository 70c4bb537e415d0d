//! `airflow --local`: arguments in, the local Airflow started, runs
//! triggered and reported with `run --local`'s line, everything stopped on
//! `--exit` or Ctrl-C.

use showcase_deploy::airflow::{self, AirflowVersion, LocalAirflow};
use showcase_deploy::report::day_line;

use super::AirflowArgs;

pub fn airflow_local(args: AirflowArgs) -> Result<(), String> {
    showcase_deploy::pipeline::check_schema_name(&args.schema)
        .map_err(|e| format!("--schema: {e}"))?;
    let version = match args.airflow.as_str() {
        "3.0.6" => AirflowVersion::V3_0_6,
        _ => AirflowVersion::V2_11_0,
    };
    let settings = LocalAirflow {
        port: args.port,
        version,
        state_dir: args.state_dir,
        venv: args.venv,
        days: args.days,
        exit: args.exit,
        rows: args.rows,
        schema: args.schema,
        database_url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
    };
    // Held until everything stopped: one `airflow --local` per state directory.
    let _state = airflow::lock_state_dir(&settings.state_dir).map_err(|e| e.to_string())?;
    // Before the virtualenv (minutes the first time): a taken port fails now.
    airflow::check_port(settings.port).map_err(|e| e.to_string())?;
    let python = settings.python().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        tokio::select! {
            outcome = serve(&settings, &python) => outcome,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopping (Ctrl-C): Airflow, the endpoints, PostgreSQL");
                Ok(())
            }
        }
    })
    // Dropping serve's future (on Ctrl-C too) stopped everything it started.
}

async fn serve(settings: &LocalAirflow, python: &std::path::Path) -> Result<(), String> {
    let say = |line: &str| eprintln!("{line}");
    let mut running = airflow::start(settings, python, &say)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "Airflow {} is up: http://127.0.0.1:{}/ (DAG {}); log in as admin, the password is in {}",
        settings.version.as_str(),
        settings.port,
        running.dag_id,
        running.login_file.display()
    );
    if let Some((first, last)) = settings.days {
        for day in first.through(last) {
            let outcome = running
                .run_day(day, &settings.schema)
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", day_line(&outcome));
        }
    }
    if settings.exit {
        return Ok(());
    }
    eprintln!("Airflow keeps running; Ctrl-C stops it and everything it started");
    Err(airflow::exited(&mut running.airflow).await)
}
