//! `run` when `[orchestrator]` names an MWAA environment: each day's DAG run
//! triggered there and followed to its end, every task's state printed as it
//! changes (`--direct` runs the task graph from this machine instead).

use showcase_deploy::aws::Aws;
use showcase_deploy::aws_run::mwaa::{DagRunOutcome, Following, MwaaDag};
use showcase_deploy::config::Stack;
use showcase_deploy::dag::{DagSchedule, dag_id};

use super::local::{RunArgs, days};

/// The days in order, one DAG run at a time (the DAG allows one active run).
pub(super) async fn run_on_mwaa(
    args: &RunArgs,
    stack: &Stack,
    environment: &str,
) -> Result<(), String> {
    let (first, last) = days(args)?;
    let aws = Aws::connect(&stack.region).await;
    let dag = MwaaDag {
        client: aws.mwaa.clone(),
        environment: environment.to_owned(),
        dag_id: dag_id(&stack.name),
        cron: DagSchedule::of(stack).cron,
    };
    eprintln!(
        "stack {}: DAG {} on MWAA environment {environment} (--direct runs the task graph from this machine instead)",
        stack.name, dag.dag_id
    );
    dag.check().await.map_err(|e| e.to_string())?;
    let mut outcomes: Vec<DagRunOutcome> = Vec::new();
    for day in first.through(last) {
        let run_id = dag.trigger(day).await.map_err(|e| e.to_string())?;
        eprintln!("{day}: DAG run {run_id}");
        let outcome = dag
            .follow(day, &run_id, Following::default(), &|task, state| {
                eprintln!("  {task}: {state}");
            })
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("{day}: {}", outcome.state);
        outcomes.push(outcome);
    }
    let markdown = runs_markdown(&outcomes);
    if args.markdown {
        print!("{markdown}");
    }
    if showcase_deploy::report::github::active() {
        showcase_deploy::report::github::write_step_summary(&markdown)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcomes).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

/// The days as a Markdown table (`--output markdown`, and the job summary
/// under GitHub Actions).
fn runs_markdown(outcomes: &[DagRunOutcome]) -> String {
    let mut text = String::from("| day | DAG run | state | tasks |\n| --- | --- | --- | --- |\n");
    for outcome in outcomes {
        text.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            outcome.date,
            outcome.run_id,
            outcome.state,
            outcome.tasks.len()
        ));
    }
    text
}
