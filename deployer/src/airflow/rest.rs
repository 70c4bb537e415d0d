//! Airflow's stable REST API, the calls `airflow --local` makes: wait for
//! the server and the DAG, trigger a run for a day, follow it. Airflow 2
//! (`/api/v1`, basic auth with the standalone admin's password) and 3
//! (`/api/v2`, a bearer token from the simple auth manager's `/auth/token`).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use showcase_dataset::Day;

use super::venv::AirflowVersion;

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("Airflow's API at {url}: {detail}")]
    Call { url: String, detail: String },
    #[error("{0}")]
    Timeout(String),
}

/// How the API is reached and who calls it.
pub struct AirflowApi {
    client: reqwest::Client,
    base: String,
    version: AirflowVersion,
    user: String,
    password: String,
    token: Option<String>,
}

/// The final state of a run and, when it failed, its failed tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub state: String,
    pub failed_tasks: Vec<String>,
}

/// The login `airflow standalone` made, once it has written it.
pub fn login(home: &Path, version: AirflowVersion) -> Option<(String, String)> {
    if version.is_3() {
        let text =
            std::fs::read_to_string(home.join("simple_auth_manager_passwords.json.generated"))
                .ok()?;
        let users: Value = serde_json::from_str(&text).ok()?;
        let password = users.get("admin")?.as_str()?;
        Some(("admin".to_owned(), password.to_owned()))
    } else {
        let password = std::fs::read_to_string(home.join("standalone_admin_password.txt")).ok()?;
        let password = password.trim();
        (!password.is_empty()).then(|| ("admin".to_owned(), password.to_owned()))
    }
}

impl AirflowApi {
    pub fn new(port: u16, version: AirflowVersion, user: String, password: String) -> AirflowApi {
        AirflowApi {
            client: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{port}"),
            version,
            user,
            password,
            token: None,
        }
    }

    fn api(&self, path: &str) -> String {
        let prefix = if self.version.is_3() {
            "/api/v2"
        } else {
            "/api/v1"
        };
        format!("{}{prefix}{path}", self.base)
    }

    /// One call; `Ok(None)` for a 404.
    async fn call(
        &mut self,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> Result<Option<Value>, RestError> {
        let failed = |detail: String| RestError::Call {
            url: url.clone(),
            detail,
        };
        if self.version.is_3() && self.token.is_none() {
            self.token = Some(self.fetch_token().await?);
        }
        let mut request = self.client.request(method, &url);
        request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request.basic_auth(&self.user, Some(&self.password)),
        };
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.map_err(|e| failed(e.to_string()))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| failed(e.to_string()))?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(failed(format!("{status}: {text}")));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| failed(format!("not JSON ({e}): {text}")))
    }

    /// Airflow 3: a JWT for the admin (simple auth manager).
    async fn fetch_token(&self) -> Result<String, RestError> {
        let url = format!("{}/auth/token", self.base);
        let failed = |detail: String| RestError::Call {
            url: url.clone(),
            detail,
        };
        let answer = self
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({"username": self.user, "password": self.password}).to_string())
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| failed(e.to_string()))?;
        if !status.is_success() {
            return Err(failed(format!("{status}: {text}")));
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| failed(e.to_string()))?;
        value["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| failed(format!("no access_token in {text}")))
    }

    /// Waits until the API answers for the DAG (parsed and registered).
    pub async fn wait_for_dag(&mut self, dag_id: &str, limit: Duration) -> Result<(), RestError> {
        let deadline = Instant::now() + limit;
        let url = self.api(&format!("/dags/{dag_id}"));
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            match self.call(reqwest::Method::GET, url.clone(), None).await {
                Ok(Some(_)) => return Ok(()),
                Ok(None) => last = "the DAG is not parsed yet".into(),
                Err(error) => {
                    last = error.to_string();
                    // A token fetched before the server was ready is refetched.
                    self.token = None;
                }
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Err(RestError::Timeout(format!(
            "Airflow did not list the DAG {dag_id} within {} s ({last})",
            limit.as_secs()
        )))
    }

    /// Unpauses the DAG (a paused DAG's triggered runs wait).
    pub async fn unpause(&mut self, dag_id: &str) -> Result<(), RestError> {
        let url = self.api(&format!("/dags/{dag_id}?update_mask=is_paused"));
        self.call(
            reqwest::Method::PATCH,
            url,
            Some(json!({"is_paused": false})),
        )
        .await
        .map(drop)
    }

    /// Triggers the run for `day` (logical date: the day's midnight UTC, so
    /// `ds` is the day); its run id.
    pub async fn trigger(&mut self, dag_id: &str, day: Day) -> Result<String, RestError> {
        let run_id = format!("local__{day}");
        let url = self.api(&format!("/dags/{dag_id}/dagRuns"));
        let body = json!({"dag_run_id": run_id, "logical_date": format!("{day}T00:00:00+00:00")});
        self.call(reqwest::Method::POST, url, Some(body)).await?;
        Ok(run_id)
    }

    /// Follows the run until it ends (success or failed).
    pub async fn follow(
        &mut self,
        dag_id: &str,
        run_id: &str,
        limit: Duration,
    ) -> Result<RunEnd, RestError> {
        let deadline = Instant::now() + limit;
        let url = self.api(&format!("/dags/{dag_id}/dagRuns/{run_id}"));
        while Instant::now() < deadline {
            let run = self.call(reqwest::Method::GET, url.clone(), None).await?;
            let state = run
                .as_ref()
                .and_then(|r| r["state"].as_str())
                .unwrap_or_default()
                .to_owned();
            if state == "success" || state == "failed" {
                let failed_tasks = if state == "failed" {
                    self.failed_tasks(dag_id, run_id).await?
                } else {
                    Vec::new()
                };
                return Ok(RunEnd {
                    state,
                    failed_tasks,
                });
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        Err(RestError::Timeout(format!(
            "the run {run_id} did not finish within {} s",
            limit.as_secs()
        )))
    }

    async fn failed_tasks(&mut self, dag_id: &str, run_id: &str) -> Result<Vec<String>, RestError> {
        let url = self.api(&format!("/dags/{dag_id}/dagRuns/{run_id}/taskInstances"));
        let answer = self.call(reqwest::Method::GET, url, None).await?;
        Ok(answer
            .as_ref()
            .and_then(|a| a["task_instances"].as_array())
            .into_iter()
            .flatten()
            .filter(|t| matches!(t["state"].as_str(), Some("failed" | "upstream_failed")))
            .map(|t| {
                format!(
                    "{} ({})",
                    t["task_id"].as_str().unwrap_or_default(),
                    t["state"].as_str().unwrap_or_default()
                )
            })
            .collect())
    }
}
