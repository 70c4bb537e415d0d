//! The Airflow DAG of a deployed stack, rendered from the one task graph
//! ([`crate::pipeline::TASKS`]): `showcase-deploy dag --out DIR` writes it.
//!
//! - Task ids and edges are the graph's. Extracts are the Amazon provider's
//!   `LambdaInvokeFunctionOperator` (a function error fails the task: provider
//!   9.8.0 raises on the `FunctionError` the extractor's failed invocation
//!   sets); SQL tasks are `RedshiftDataOperator` with a list of statements
//!   (one `BatchExecuteStatement`: one transaction), exactly the statements
//!   `run` sends; checks run their query with `return_sql_result=True` and
//!   fail their task unless the one row is all true, as `run` decides.
//! - The SQL files are the pipeline's own, split into one file per statement
//!   (`<dag id>/<task>/NN.sql`) and kept as Airflow templates: `{{ ds }}`
//!   from the run, `{{ params.* }}` from the DAG's params, which hold the
//!   stack's names as constants (a run triggered with other values is
//!   refused). Nothing to edit by hand.
//! - Daily (`[orchestrator] schedule`, midnight UTC by default) from
//!   `[orchestrator] start_date` ([`START_DATE`] by default), catch-up, one
//!   active run, depends on past.
//!   The schedule is a `CronDataIntervalTimetable`, not `@daily`: Airflow 3
//!   maps `@daily` to a trigger timetable whose `ds` is the day the run starts,
//!   a day later than on Airflow 2. With the interval timetable the run for
//!   day D has `ds` = D on both.
//!
//! Same input, same bytes: nothing depends on the time or the machine.

mod python;

pub use python::POLL_SECONDS_VARIABLE;

use showcase_dataset::Day;

use crate::aws_run::statements::{self, split};
use crate::aws_run::{AwsTarget, SqlAuth, SqlEndpoint};
use crate::pipeline::{RenderError, Step, TASKS, Task};

/// The first day the DAG runs for by default (the data API's first day of history).
pub const START_DATE: &str = "2024-01-01";

/// When the DAG runs: `[orchestrator]`'s `start_date` and `schedule`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagSchedule {
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// A cron line firing once a day, UTC.
    pub cron: String,
}

impl Default for DagSchedule {
    fn default() -> DagSchedule {
        DagSchedule {
            start_date: START_DATE.to_owned(),
            cron: "0 0 * * *".to_owned(),
        }
    }
}

impl DagSchedule {
    /// The stack's schedule (the default without `[orchestrator]`).
    pub fn of(stack: &crate::config::Stack) -> DagSchedule {
        stack
            .orchestrator
            .as_ref()
            .map(|o| DagSchedule {
                start_date: o.start_date.clone(),
                cron: o.schedule.clone(),
            })
            .unwrap_or_default()
    }
}

/// The Amazon provider the DAG is written for (MWAA's pin for Airflow
/// 2.11.0; 3.0.6 pins 9.12.0, which takes the same arguments).
pub const PROVIDER: &str = "apache-airflow-providers-amazon>=9.8.0";

/// One file of the rendered DAG folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagFile {
    /// Relative to the DAG folder, `/`-separated.
    pub path: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DagError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("sql/{file}: `{found}` would be read by Airflow's Jinja as template syntax")]
    Jinja { file: &'static str, found: String },
    #[error("the start date {0} is not a date")]
    StartDate(String),
    #[error("task {0}: its SQL file has no statement")]
    Empty(&'static str),
}

/// What a task of the DAG runs, from the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DagTask {
    /// Invoke the extractor with this payload (an Airflow template), then
    /// check its summary is for the day and `entity` and names `expected_key`
    /// (a template: the lake object the load reads), as `run` does.
    Extract {
        payload: String,
        entity: &'static str,
        expected_key: String,
    },
    /// These statement files, one batch (one transaction).
    Batch { files: Vec<String> },
    /// `setup_schema`'s batch; when it created the schema (the query says it
    /// was absent), `tune.sql` a statement at a time, as `run` does.
    Setup {
        files: Vec<String>,
        exists_sql: String,
        tune_files: Vec<String>,
    },
    /// This query file; its one row must be all true.
    Check {
        file: String,
        sql_file: &'static str,
    },
}

/// The DAG's id for a stack (also the name of its file and SQL folder).
pub fn dag_id(stack_name: &str) -> String {
    format!("{}_pipeline", stack_name.replace('-', "_"))
}

/// The extractor's payload as `run` sends it, with `{{ ds }}` for the date.
pub fn payload(entity: showcase_extractor::Entity) -> String {
    serde_json::json!({"date": "{{ ds }}", "entity": entity.as_str()}).to_string()
}

/// The lake object the load of `entity` reads for `{{ ds }}`: `run`'s
/// [`LakeNames::object`](crate::aws_run::LakeNames::object) with the day as a template.
pub fn expected_key(
    lake: &crate::aws_run::LakeNames,
    entity: showcase_extractor::Entity,
    day: Day,
) -> String {
    // Any day: its text becomes the template.
    lake.object(day, entity)
        .replace(&day.to_string(), "{{ ds }}")
}

/// Everything the DAG needs: the stack's names as `run` resolves them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagInput<'a> {
    pub stack_name: &'a str,
    pub region: &'a str,
    pub target: &'a AwsTarget,
    pub schedule: DagSchedule,
}

/// The DAG file and its SQL files, in a fixed order.
pub fn render(input: &DagInput<'_>) -> Result<Vec<DagFile>, DagError> {
    let id = dag_id(input.stack_name);
    let check_day: Day = input
        .schedule
        .start_date
        .parse()
        .map_err(|_| DagError::StartDate(input.schedule.start_date.clone()))?;
    let mut files = Vec::new();
    let mut tasks = Vec::new();
    for task in &TASKS {
        let dag_task = match statements::task_file(task) {
            None => match task.step {
                Step::Extract(entity) => DagTask::Extract {
                    payload: payload(entity),
                    entity: entity.as_str(),
                    expected_key: expected_key(&input.target.lake(), entity, check_day),
                },
                _ => return Err(DagError::Empty(task.id)),
            },
            Some(file) => {
                // The same placeholders `run` renders, and nothing else.
                crate::pipeline::render(&file, &input.target.names.params(check_day))?;
                refuse_jinja(file.path, file.text)?;
                let pieces = split(file.text);
                if pieces.is_empty() {
                    return Err(DagError::Empty(task.id));
                }
                if matches!(task.step, Step::Check(_)) {
                    let path = format!("{id}/{}/01.sql", task.id);
                    files.push(DagFile {
                        path: path.clone(),
                        text: format!("{}\n", pieces.join(";\n")),
                    });
                    DagTask::Check {
                        file: path,
                        sql_file: file.path,
                    }
                } else {
                    let mut paths = Vec::new();
                    for (i, statement) in pieces.iter().enumerate() {
                        let path = format!("{id}/{}/{:02}.sql", task.id, i + 1);
                        files.push(DagFile {
                            path: path.clone(),
                            text: format!("{statement}\n"),
                        });
                        paths.push(path);
                    }
                    if task.id == SETUP_TASK {
                        DagTask::Setup {
                            files: paths,
                            exists_sql: statements::schema_exists_query(&input.target.names.schema),
                            tune_files: tune_files(&id, &mut files)?,
                        }
                    } else {
                        DagTask::Batch { files: paths }
                    }
                }
            }
        };
        tasks.push((task, dag_task));
    }
    files.insert(
        0,
        DagFile {
            path: format!("{id}.py"),
            text: python::dag_file(input, &id, &tasks),
        },
    );
    Ok(files)
}

/// The task after which `run` tunes a new schema.
const SETUP_TASK: &str = "setup_schema";

/// `sql/redshift/tune.sql`, a file per statement (`<dag id>/tune/NN.sql`).
fn tune_files(id: &str, files: &mut Vec<DagFile>) -> Result<Vec<String>, DagError> {
    let tune = crate::pipeline::files::TUNE;
    refuse_jinja(tune.path, tune.text)?;
    let mut paths = Vec::new();
    for (i, statement) in split(tune.text).iter().enumerate() {
        let path = format!("{id}/tune/{:02}.sql", i + 1);
        files.push(DagFile {
            path: path.clone(),
            text: format!("{statement}\n"),
        });
        paths.push(path);
    }
    Ok(paths)
}

/// Jinja reads `{%`, `{#` and `{{` anywhere; the pipeline's placeholders are
/// the only `{{ }}` render accepts, so only the other two need refusing.
fn refuse_jinja(file: &'static str, text: &str) -> Result<(), DagError> {
    for found in ["{%", "{#"] {
        if text.contains(found) {
            return Err(DagError::Jinja {
                file,
                found: found.to_owned(),
            });
        }
    }
    Ok(())
}

/// The graph's edges, upstream → downstream, in the graph's order.
pub fn edges() -> Vec<(&'static str, &'static str)> {
    TASKS
        .iter()
        .flat_map(|t: &Task| t.upstream.iter().map(move |up| (*up, t.id)))
        .collect()
}

/// How the SQL tasks reach the warehouse, as keyword arguments.
fn warehouse_kwargs(target: &AwsTarget) -> Vec<(&'static str, String)> {
    let mut kwargs = match &target.sql.endpoint {
        SqlEndpoint::Cluster(id) => vec![("cluster_identifier", id.clone())],
        SqlEndpoint::Workgroup(name) => vec![("workgroup_name", name.clone())],
    };
    kwargs.push(("database", target.sql.database.clone()));
    match &target.sql.auth {
        SqlAuth::Secret(arn) => kwargs.push(("secret_arn", arn.clone())),
        SqlAuth::DbUser(user) => kwargs.push(("db_user", user.clone())),
        SqlAuth::Iam => {}
    }
    kwargs
}

/// A Mermaid picture of the graph (the README's).
pub fn mermaid() -> String {
    let mut text = String::from("flowchart LR\n");
    for (up, down) in edges() {
        text.push_str(&format!("    {up} --> {down}\n"));
    }
    text
}

#[cfg(test)]
mod tests;
