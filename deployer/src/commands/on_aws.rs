//! `run` without `--local` (the pipeline on the deployed stack) and `sql`
//! (what that run sends to Redshift for a date): arguments in, the library's
//! executor run, the same lines or JSON out as `run --local`.

use showcase_deploy::aws::Aws;
use showcase_deploy::aws_run::{
    self, AwsPipeline, AwsTarget, Polling, SqlAuth, SqlEndpoint, statements,
};
use showcase_deploy::config::{self, Stack, Vars};
use showcase_deploy::local::{DayOutcome, PhaseTimes};
use showcase_deploy::pipeline::Step;
use showcase_deploy::report::{Progress, day_line, interactive};

use super::StackArgs;
use super::local::{RunArgs, days};

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn load(stack: &StackArgs) -> Result<Stack, String> {
    let vars = Vars::from_args_and_env(&stack.vars)?;
    config::load(&stack.stack, &vars).map_err(|errors| errors.to_string())
}

async fn connect(stack: &Stack, schema: &str) -> Result<(Aws, AwsTarget), String> {
    showcase_deploy::pipeline::check_schema_name(schema).map_err(|e| format!("--schema: {e}"))?;
    let aws = Aws::connect(&stack.region).await;
    let target = aws_run::resolve(&aws, stack, schema)
        .await
        .map_err(|e| e.to_string())?;
    Ok((aws, target))
}

/// `run --date D` / `--from --to` on the deployed stack.
pub fn run_on_aws(args: RunArgs, stack_args: &StackArgs) -> Result<(), String> {
    let (first, last) = days(&args)?;
    let stack = load(stack_args)?;
    let environment = stack
        .orchestrator
        .as_ref()
        .and_then(|o| o.mwaa_environment.clone());
    if let Some(environment) = environment.filter(|_| !args.direct) {
        return runtime()?.block_on(super::on_mwaa::run_on_mwaa(&args, &stack, &environment));
    }
    runtime()?.block_on(async {
        let (aws, target) = connect(&stack, &args.schema).await?;
        let warehouse = match &target.sql.endpoint {
            SqlEndpoint::Cluster(id) => format!("cluster {id}"),
            SqlEndpoint::Workgroup(name) => format!("workgroup {name}"),
        };
        let user = match &target.sql.auth {
            SqlAuth::Secret(arn) => format!("the admin password's secret {arn}"),
            SqlAuth::DbUser(user) => format!(
                "database user {user} with IAM credentials (the cluster reports no managed password secret)"
            ),
            SqlAuth::Iam => "your IAM identity".to_owned(),
        };
        eprintln!(
            "stack {}: extractor {}, {warehouse} database {} as {user}, lake s3://{}/{}",
            stack.name,
            target.extractor_function,
            target.sql.database,
            target.names.lake_bucket,
            target.names.lake_prefix
        );
        let mut pipeline = AwsPipeline::new(
            aws.lambda.clone(),
            aws.redshiftdata.clone(),
            target,
            Polling::default(),
        );
        let canceller = pipeline.canceller();
        let total = first.through(last).count() as u64;
        let progress = Progress::new(total, interactive() && !args.json);
        let mut outcomes: Vec<DayOutcome> = Vec::new();
        for day in first.through(last) {
            progress.working_on(&day.to_string());
            let outcome = tokio::select! {
                outcome = pipeline.run_day(day) => outcome,
                _ = tokio::signal::ctrl_c() => {
                    progress.finish();
                    return Err(match canceller.cancel().await {
                        Some(id) => format!("{day}: interrupted; statement {id} cancelled on Redshift"),
                        None => format!("{day}: interrupted"),
                    });
                }
            };
            let outcome = match outcome {
                Ok(outcome) => outcome,
                Err(error) => {
                    progress.finish();
                    return Err(error.to_string());
                }
            };
            if args.markdown {
                eprintln!("{}", day_line(&outcome));
            } else if !args.json {
                progress.println(&day_line(&outcome));
            }
            outcomes.push(outcome);
            progress.advance();
        }
        progress.finish();
        super::local::finish_markdown(&args, &outcomes)?;
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&outcomes).map_err(|e| e.to_string())?
            );
        } else {
            let mut times = PhaseTimes::default();
            for outcome in &outcomes {
                times += outcome.times;
            }
            eprintln!(
                "{total} day(s): extract {:.1}s, load {:.1}s, transform {:.1}s",
                times.extract.as_secs_f64(),
                times.load.as_secs_f64(),
                times.transform.as_secs_f64()
            );
        }
        Ok(())
    })
}

/// `sql --date D`: every task of the day in order, with exactly the
/// statements `run` sends (one batch, one transaction, per task). Needs no
/// deployed resource: only the account, for the COPY role's ARN (from STS
/// unless given).
pub fn print_sql(
    args: RunArgs,
    stack_args: &StackArgs,
    account: Option<String>,
) -> Result<(), String> {
    let (first, last) = days(&args)?;
    let stack = load(stack_args)?;
    showcase_deploy::pipeline::check_schema_name(&args.schema)
        .map_err(|e| format!("--schema: {e}"))?;
    let account = match account {
        Some(account) => account,
        None => {
            runtime()?.block_on(async { Aws::connect(&stack.region).await.account_id().await })?
        }
    };
    let names = aws_run::sql_names(&stack, &args.schema, &account).map_err(|e| e.to_string())?;
    let extractor = aws_run::extractor_function(&stack);
    for day in first.through(last) {
        println!("-- {day}");
        for (task, sqls) in statements::day_plan(&names, day).map_err(|e| e.to_string())? {
            match sqls {
                None => {
                    let entity = match task.step {
                        Step::Extract(entity) => entity.as_str(),
                        _ => "",
                    };
                    println!(
                        "\n-- task {}: Invoke {} {{\"date\": \"{day}\", \"entity\": \"{entity}\"}}",
                        task.id, extractor,
                    );
                }
                Some(sqls) => {
                    println!("\n-- task {}: one transaction", task.id);
                    for sql in sqls {
                        println!("{sql};");
                    }
                }
            }
            if task.id == "setup_schema" && day == first {
                println!(
                    "\n-- only when setup_schema created the schema: tune_tables, one statement at a time"
                );
                for sql in statements::tune(&names, day).map_err(|e| e.to_string())? {
                    println!("{sql};");
                }
            }
        }
    }
    Ok(())
}
