//! `run` when `[orchestrator]` names an MWAA environment: the day's DAG run
//! is triggered in the environment's Airflow and followed to its end, through
//! MWAA's `InvokeRestApi` (which passes a method, path and body to the
//! environment's Airflow REST API and returns its status and answer). The same
//! paths serve Airflow 2's `/api/v1` and Airflow 3's `/api/v2`.
//!
//! The run for day D has logical date D at the schedule's time (so `ds` = D);
//! its id is `showcase__D`, so a second `run` for D follows the first's run
//! instead of starting another. A DAG paused in Airflow runs nothing: that is
//! an error saying so (unpausing starts catch-up from `start_date`, the
//! user's decision).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_mwaa::types::RestApiMethod;
use aws_smithy_types::Document;
use showcase_dataset::Day;

use crate::aws::describe;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MwaaRunError {
    #[error("MWAA environment {environment}: {operation} {path}: {detail}")]
    Call {
        environment: String,
        operation: &'static str,
        path: String,
        detail: String,
    },
    #[error(
        "DAG {0} is not in the environment's Airflow yet: `showcase-deploy up` puts it in the DAG folder, and MWAA picks new files up within minutes"
    )]
    NoDag(String),
    #[error(
        "DAG {0} is paused in Airflow, so a triggered run waits forever: unpause it in the Airflow UI (it then also catches up every day from its start_date), or run from this machine with --direct"
    )]
    Paused(String),
    #[error("{day}: DAG run {run_id} failed at {}", failed.join(", "))]
    Failed {
        day: Day,
        run_id: String,
        failed: Vec<String>,
    },
    #[error(
        "{day}: DAG run {run_id} still {state} after {minutes} minutes: left running in Airflow"
    )]
    TimedOut {
        day: Day,
        run_id: String,
        state: String,
        minutes: u64,
    },
}

/// How a run is followed.
#[derive(Debug, Clone, Copy)]
pub struct Following {
    /// Between two looks at the run.
    pub interval: Duration,
    /// Gives up (the run goes on in Airflow) after this.
    pub limit: Duration,
}

impl Default for Following {
    fn default() -> Following {
        Following {
            interval: Duration::from_secs(5),
            limit: Duration::from_secs(6 * 3600),
        }
    }
}

/// A DAG of a stack in an MWAA environment.
pub struct MwaaDag {
    pub client: aws_sdk_mwaa::Client,
    pub environment: String,
    pub dag_id: String,
    /// `MINUTE HOUR * * *`: when the run for a day starts its interval.
    pub cron: String,
}

/// One finished day.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DagRunOutcome {
    pub date: String,
    pub run_id: String,
    pub state: String,
    /// Task id → its last state.
    pub tasks: BTreeMap<String, String>,
}

fn text(document: &Document, key: &str) -> Option<String> {
    match document {
        Document::Object(map) => match map.get(key) {
            Some(Document::String(text)) => Some(text.clone()),
            Some(Document::Bool(b)) => Some(b.to_string()),
            _ => None,
        },
        _ => None,
    }
}

impl MwaaDag {
    /// Airflow's answer (status, body); a 4xx/5xx comes back as the SDK's
    /// RestApiClient/ServerException, turned into the same pair.
    async fn call(
        &self,
        method: RestApiMethod,
        path: &str,
        body: Option<Document>,
    ) -> Result<(i32, Document), MwaaRunError> {
        let answer = self
            .client
            .invoke_rest_api()
            .name(&self.environment)
            .method(method)
            .path(path)
            .set_body(body)
            .send()
            .await;
        match answer {
            Ok(out) => Ok((
                out.rest_api_status_code().unwrap_or(200),
                out.rest_api_response().cloned().unwrap_or(Document::Null),
            )),
            Err(error) => {
                let service = error.as_service_error();
                let rest = service.and_then(|e| match e {
                    aws_sdk_mwaa::operation::invoke_rest_api::InvokeRestApiError::RestApiClientException(c) => {
                        Some((c.rest_api_status_code().unwrap_or(400), c.rest_api_response().cloned()))
                    }
                    aws_sdk_mwaa::operation::invoke_rest_api::InvokeRestApiError::RestApiServerException(s) => {
                        Some((s.rest_api_status_code().unwrap_or(500), s.rest_api_response().cloned()))
                    }
                    _ => None,
                });
                match rest {
                    Some((status, body)) => Ok((status, body.unwrap_or(Document::Null))),
                    None => Err(self.fail("InvokeRestApi", path, describe(&error))),
                }
            }
        }
    }

    fn fail(&self, operation: &'static str, path: &str, detail: String) -> MwaaRunError {
        MwaaRunError::Call {
            environment: self.environment.clone(),
            operation,
            path: path.to_owned(),
            detail,
        }
    }

    /// The DAG is there and not paused.
    pub async fn check(&self) -> Result<(), MwaaRunError> {
        let path = format!("/dags/{}", self.dag_id);
        let (status, answer) = self.call(RestApiMethod::Get, &path, None).await?;
        match status {
            404 => Err(MwaaRunError::NoDag(self.dag_id.clone())),
            200..=299 if text(&answer, "is_paused").as_deref() == Some("true") => {
                Err(MwaaRunError::Paused(self.dag_id.clone()))
            }
            200..=299 => Ok(()),
            other => Err(self.fail(
                "InvokeRestApi",
                &path,
                format!("Airflow answered {other}: {answer:?}"),
            )),
        }
    }

    /// The logical date of the run for `day`: the schedule's time on that day.
    fn logical_date(&self, day: Day) -> String {
        let mut parts = self.cron.split(' ');
        let minute: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let hour: u32 = parts.next().and_then(|h| h.parse().ok()).unwrap_or(0);
        format!("{day}T{hour:02}:{minute:02}:00+00:00")
    }

    /// Triggers the run for `day` (or finds the one a previous `run` triggered).
    pub async fn trigger(&self, day: Day) -> Result<String, MwaaRunError> {
        let run_id = format!("showcase__{day}");
        let path = format!("/dags/{}/dagRuns", self.dag_id);
        let body = Document::Object(
            [
                ("dag_run_id".to_owned(), Document::String(run_id.clone())),
                (
                    "logical_date".to_owned(),
                    Document::String(self.logical_date(day)),
                ),
                ("conf".to_owned(), Document::Object(Default::default())),
            ]
            .into(),
        );
        let (status, answer) = self.call(RestApiMethod::Post, &path, Some(body)).await?;
        match status {
            200..=299 => Ok(run_id),
            409 => {
                // Triggered before (ours), or a scheduled run holds the date.
                let own = format!("/dags/{}/dagRuns/{run_id}", self.dag_id);
                let (status, _) = self.call(RestApiMethod::Get, &own, None).await?;
                if (200..=299).contains(&status) {
                    Ok(run_id)
                } else {
                    Err(self.fail(
                        "InvokeRestApi",
                        &path,
                        format!("a run of the DAG for {day} already exists (the scheduler's): clear it in the Airflow UI to run the day again"),
                    ))
                }
            }
            other => Err(self.fail(
                "InvokeRestApi",
                &path,
                format!("Airflow answered {other}: {answer:?}"),
            )),
        }
    }

    /// Each task's state now.
    async fn task_states(&self, run_id: &str) -> Result<BTreeMap<String, String>, MwaaRunError> {
        let path = format!("/dags/{}/dagRuns/{run_id}/taskInstances", self.dag_id);
        let (status, answer) = self.call(RestApiMethod::Get, &path, None).await?;
        if !(200..=299).contains(&status) {
            return Err(self.fail(
                "InvokeRestApi",
                &path,
                format!("Airflow answered {status}: {answer:?}"),
            ));
        }
        let mut states = BTreeMap::new();
        if let Document::Object(map) = &answer
            && let Some(Document::Array(instances)) = map.get("task_instances")
        {
            for instance in instances {
                if let Some(task) = text(instance, "task_id") {
                    let state = text(instance, "state").unwrap_or_else(|| "none".to_owned());
                    states.insert(task, state);
                }
            }
        }
        Ok(states)
    }

    /// Follows the run to its end, telling `on_task` every task whose state
    /// changed; an error names the failed tasks.
    pub async fn follow(
        &self,
        day: Day,
        run_id: &str,
        following: Following,
        on_task: &(dyn Fn(&str, &str) + Sync),
    ) -> Result<DagRunOutcome, MwaaRunError> {
        let started = Instant::now();
        let path = format!("/dags/{}/dagRuns/{run_id}", self.dag_id);
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        loop {
            let (status, answer) = self.call(RestApiMethod::Get, &path, None).await?;
            if !(200..=299).contains(&status) {
                return Err(self.fail(
                    "InvokeRestApi",
                    &path,
                    format!("Airflow answered {status}: {answer:?}"),
                ));
            }
            let state = text(&answer, "state").unwrap_or_else(|| "none".to_owned());
            let tasks = self.task_states(run_id).await?;
            for (task, task_state) in &tasks {
                if seen.get(task) != Some(task_state) {
                    on_task(task, task_state);
                }
            }
            seen = tasks;
            match state.as_str() {
                "success" => {
                    return Ok(DagRunOutcome {
                        date: day.to_string(),
                        run_id: run_id.to_owned(),
                        state,
                        tasks: seen,
                    });
                }
                "failed" => {
                    let failed: Vec<String> = seen
                        .iter()
                        .filter(|(_, s)| s.as_str() == "failed")
                        .map(|(t, _)| t.clone())
                        .collect();
                    return Err(MwaaRunError::Failed {
                        day,
                        run_id: run_id.to_owned(),
                        failed: if failed.is_empty() {
                            vec!["(no task failed: see the run in the Airflow UI)".to_owned()]
                        } else {
                            failed
                        },
                    });
                }
                _ => {}
            }
            if started.elapsed() > following.limit {
                return Err(MwaaRunError::TimedOut {
                    day,
                    run_id: run_id.to_owned(),
                    state,
                    minutes: following.limit.as_secs() / 60,
                });
            }
            tokio::time::sleep(following.interval).await;
        }
    }
}
