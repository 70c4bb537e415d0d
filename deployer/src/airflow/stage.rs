//! What the local Airflow's DAG talks to, all on this machine: the data API,
//! the lake directory, the throwaway PostgreSQL (passed in), and one endpoint
//! answering Lambda `Invoke` (the extractor, in process) and the Redshift
//! Data API (the statements on PostgreSQL, COPY from the lake directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use showcase_dataset::Day;
use showcase_extractor::{
    ExtractSummary, Extractor, ExtractorSettings, KeyLayout, LakeLocation, RetryPolicy,
};
use showcase_local_aws::{LakeDirectory, LambdaFunction, LambdaInvoke, RedshiftData};

use crate::aws_run::{AwsTarget, SqlAuth, SqlEndpoint, SqlNames, SqlTarget};
use crate::dag::{self, DagInput};

/// The stack name the local DAG is rendered for (its id: `local_pipeline`).
pub const STACK: &str = "local";
/// The names the local DAG uses; the lake bucket stands for the lake directory.
const FUNCTION: &str = "local-extractor";
const BUCKET: &str = "local-lake";
const CLUSTER: &str = "local-warehouse";
const COPY_ROLE: &str = "arn:aws:iam::000000000000:role/local-warehouse-copy-role";

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cannot listen on 127.0.0.1: {0}")]
    Listen(std::io::Error),
    #[error("the DAG: {0}")]
    Dag(#[from] dag::DagError),
    #[error("writing the DAG into {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The summaries of the extracts run so far, by day.
pub type Extracted = Arc<Mutex<BTreeMap<Day, Vec<ExtractSummary>>>>;

/// The running endpoints; they stop when this drops.
pub struct Stage {
    /// The endpoint Airflow's `aws_default` connection points at.
    pub aws_endpoint: String,
    pub api_url: String,
    pub target: AwsTarget,
    pub extracted: Extracted,
    pub redshift_data: RedshiftData,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Stage {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

/// A file the extractor wrote under `lake`, as the object of the bucket the
/// directory stands for (`s3://local-lake/<key>`); anything else as it is.
fn lake_url(lake: &Path, file: &str) -> String {
    match Path::new(file).strip_prefix(lake) {
        Ok(key) => format!("s3://{BUCKET}/{}", key.to_string_lossy()),
        Err(_) => file.to_owned(),
    }
}

async fn listen() -> Result<(tokio::net::TcpListener, String), StageError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(StageError::Listen)?;
    let address = listener.local_addr().map_err(StageError::Listen)?;
    Ok((listener, format!("http://{address}")))
}

impl Stage {
    /// Serves the data API (`rows` sales a day), the extractor writing `lake`,
    /// and the Data API on the PostgreSQL server of `postgres_url` (its
    /// database is the warehouse's), the schema `schema`.
    pub async fn start(
        rows: u64,
        lake: &Path,
        postgres_url: &str,
        database: &str,
        schema: &str,
    ) -> Result<Stage, StageError> {
        let mut servers = Vec::new();
        let (api_listener, api_url) = listen().await?;
        let router = showcase_data_api::router(showcase_data_api::ApiSettings {
            sales_per_day: rows,
        });
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(api_listener, router).await;
        }));
        let extractor = Arc::new(
            Extractor::new(ExtractorSettings {
                api_base_url: api_url.clone(),
                api_key: None,
                api_key_parameter: None,
                lake: LakeLocation::Directory(lake.to_owned()),
                layout: KeyLayout::default(),
                page_size: 10_000,
                retry: RetryPolicy::default(),
            })
            .await,
        );
        let extracted = Extracted::default();
        let lambda = LambdaInvoke::new();
        let record = extracted.clone();
        let lake_dir = lake.to_owned();
        lambda.register(
            FUNCTION,
            LambdaFunction::in_process(move |payload: Bytes| {
                let extractor = extractor.clone();
                let record = record.clone();
                let lake_dir = lake_dir.clone();
                Box::pin(async move {
                    let event: serde_json::Value = serde_json::from_slice(&payload)
                        .map_err(|e| ("InvalidEvent".to_owned(), e.to_string()))?;
                    let summary = extractor
                        .invoke_event(None, event)
                        .await
                        .map_err(|e| ("ExtractError".to_owned(), e.to_string()))?;
                    // Named as the Lambda names them on AWS (the bucket the
                    // Data API's COPY reads, not the directory standing for
                    // it): the DAG's extract tasks check the key the load reads.
                    let mut answer = summary.clone();
                    answer.keys = answer
                        .keys
                        .iter()
                        .map(|key| lake_url(&lake_dir, key))
                        .collect();
                    let body = serde_json::to_vec(&answer)
                        .map_err(|e| ("ExtractError".to_owned(), e.to_string()))?;
                    let mut days = record.lock().unwrap_or_else(PoisonError::into_inner);
                    let day = days.entry(summary.date).or_default();
                    // A retried extract replaces the earlier one.
                    day.retain(|s| s.entity != summary.entity);
                    day.push(summary);
                    Ok(Bytes::from(body))
                })
            })
            .timeout(Duration::from_secs(900)),
        );
        let redshift_data = RedshiftData::new(postgres_url);
        redshift_data.read_objects_from(Arc::new(LakeDirectory::new(BUCKET, "", lake)));
        let (aws_listener, aws_endpoint) = listen().await?;
        let front = showcase_local_aws::front::router(lambda, redshift_data.clone());
        servers.push(tokio::spawn(async move {
            let _ = axum::serve(aws_listener, front).await;
        }));
        Ok(Stage {
            aws_endpoint,
            api_url,
            target: AwsTarget {
                extractor_function: FUNCTION.to_owned(),
                sql: SqlTarget {
                    endpoint: SqlEndpoint::Cluster(CLUSTER.to_owned()),
                    database: database.to_owned(),
                    auth: SqlAuth::DbUser("postgres".to_owned()),
                },
                names: SqlNames {
                    schema: schema.to_owned(),
                    lake_bucket: BUCKET.to_owned(),
                    lake_prefix: String::new(),
                    copy_role_arn: COPY_ROLE.to_owned(),
                },
            },
            extracted,
            redshift_data,
            servers,
        })
    }

    /// Writes the DAG, rendered for the local names, into `folder` (emptied
    /// first: it is the state directory's own). Returns the DAG's id.
    pub fn write_dag(&self, folder: &Path) -> Result<String, StageError> {
        let files = dag::render(&DagInput {
            stack_name: STACK,
            region: "us-east-1",
            target: &self.target,
            schedule: Default::default(),
        })?;
        let write_error = |path: &Path, source| StageError::Write {
            path: path.to_owned(),
            source,
        };
        if folder.exists() {
            std::fs::remove_dir_all(folder).map_err(|e| write_error(folder, e))?;
        }
        for file in files {
            let path = folder.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| write_error(parent, e))?;
            }
            std::fs::write(&path, &file.text).map_err(|e| write_error(&path, e))?;
        }
        Ok(dag::dag_id(STACK))
    }

    /// The extracts of `day` so far.
    pub fn extracted(&self, day: Day) -> Vec<ExtractSummary> {
        self.extracted
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&day)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-process extractor's keys are the objects the DAG's extract
    /// tasks expect: `run`'s lake names for the local bucket.
    #[test]
    fn extracted_files_are_named_as_the_dag_expects() {
        let lake = Path::new("/state/lake");
        let day: Day = "2024-03-01".parse().unwrap_or_else(|e| panic!("{e:?}"));
        let names = crate::aws_run::LakeNames {
            bucket: BUCKET.to_owned(),
            prefix: String::new(),
        };
        for entity in showcase_extractor::Entity::ALL {
            let file = lake.join(KeyLayout::default().key(day, entity));
            assert_eq!(
                lake_url(lake, &file.to_string_lossy()),
                names.object(day, entity)
            );
        }
        assert_eq!(lake_url(lake, "/elsewhere/x"), "/elsewhere/x");
    }
}
