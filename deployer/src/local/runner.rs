//! Runs the task graph for a day, or days in date order.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use showcase_data_api::ApiSettings;
use showcase_dataset::Day;
use showcase_extractor::{
    Entity, ExtractError, ExtractRequest, ExtractSummary, Extractor, ExtractorSettings, KeyLayout,
    LakeLocation, RetryPolicy,
};

use super::warehouse::{DayFigures, Warehouse, WarehouseError};
use crate::pipeline::{GraphError, Step, Task, execution_layers, files};

/// What to run.
#[derive(Debug, Clone)]
pub struct LocalRun {
    pub first: Day,
    pub last: Day,
    pub sales_per_day: u64,
    pub lake: PathBuf,
    pub schema: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("cannot serve the data API on localhost: {0}")]
    Api(std::io::Error),
    #[error("{day} {task}: {source}")]
    Extract {
        day: Day,
        task: &'static str,
        source: ExtractError,
    },
    #[error("{day} {task}: {source}")]
    Warehouse {
        day: Day,
        task: &'static str,
        source: WarehouseError,
    },
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// Where a day's time went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PhaseTimes {
    pub extract: Duration,
    pub load: Duration,
    pub transform: Duration,
}

impl std::ops::AddAssign for PhaseTimes {
    fn add_assign(&mut self, other: PhaseTimes) {
        self.extract += other.extract;
        self.load += other.load;
        self.transform += other.transform;
    }
}

/// One day's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DayOutcome {
    pub day: Day,
    pub extracted: Vec<ExtractSummary>,
    pub figures: DayFigures,
    pub times: PhaseTimes,
}

impl DayOutcome {
    pub fn extracted_rows(&self, entity: Entity) -> u64 {
        self.extracted
            .iter()
            .filter(|s| s.entity == entity)
            .map(|s| s.rows)
            .sum()
    }
}

/// A running local pipeline: the data API served on localhost, the extractor,
/// and a warehouse connection.
pub struct Pipeline {
    extractor: Extractor,
    warehouse: Warehouse,
    lake: PathBuf,
    layout: KeyLayout,
    api_url: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Pipeline {
    pub async fn start(
        sales_per_day: u64,
        lake: &Path,
        warehouse: Warehouse,
    ) -> Result<Pipeline, LocalRunError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(LocalRunError::Api)?;
        let address = listener.local_addr().map_err(LocalRunError::Api)?;
        let server = tokio::spawn(showcase_data_api::serve(
            listener,
            ApiSettings { sales_per_day },
        ));
        let api_url = format!("http://{address}");
        let layout = KeyLayout::default();
        let extractor = Extractor::new(ExtractorSettings {
            api_base_url: api_url.clone(),
            api_key: None,
            api_key_parameter: None,
            lake: LakeLocation::Directory(lake.to_owned()),
            layout: layout.clone(),
            page_size: 10_000,
            retry: RetryPolicy::default(),
        })
        .await;
        Ok(Pipeline {
            extractor,
            warehouse,
            lake: lake.to_owned(),
            layout,
            api_url,
            server,
        })
    }

    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Runs every task of `day`: extracts in parallel, then the warehouse tasks.
    pub async fn run_day(&mut self, day: Day) -> Result<DayOutcome, LocalRunError> {
        self.run_tasks(day, true).await
    }

    /// Runs the warehouse tasks of `day` on the lake files as they are (no extract).
    pub async fn reload_day(&mut self, day: Day) -> Result<DayOutcome, LocalRunError> {
        self.run_tasks(day, false).await
    }

    async fn run_tasks(&mut self, day: Day, extract: bool) -> Result<DayOutcome, LocalRunError> {
        let mut times = PhaseTimes::default();
        let mut extracted = Vec::new();
        for layer in execution_layers()? {
            let extracts: Vec<&Task> = layer
                .iter()
                .copied()
                .filter(|t| matches!(t.step, Step::Extract(_)))
                .collect();
            if extract && !extracts.is_empty() {
                let started = Instant::now();
                extracted.extend(self.extract_all(day, &extracts).await?);
                times.extract += started.elapsed();
            }
            for task in layer.iter().filter(|t| !matches!(t.step, Step::Extract(_))) {
                let started = Instant::now();
                let error = |source| LocalRunError::Warehouse {
                    day,
                    task: task.id,
                    source,
                };
                match task.step {
                    Step::Sql(file) => {
                        self.warehouse.run_sql(&file, day).await.map_err(error)?;
                        if file == files::SCHEMA {
                            // PostgreSQL's own tuning (indexes), never part of the graph.
                            self.warehouse
                                .run_sql(&files::POSTGRES_TUNE, day)
                                .await
                                .map_err(error)?;
                        }
                    }
                    Step::Check(file) => self.warehouse.check(&file, day).await.map_err(error)?,
                    Step::LoadStage { entity, .. } => {
                        let file = self.lake.join(self.layout.key(day, entity));
                        self.warehouse
                            .load_stage(entity, &file)
                            .await
                            .map_err(error)?;
                    }
                    Step::Extract(_) => {}
                }
                match task.step {
                    Step::LoadStage { .. } => times.load += started.elapsed(),
                    _ => times.transform += started.elapsed(),
                }
            }
        }
        let figures =
            self.warehouse
                .day_figures(day)
                .await
                .map_err(|source| LocalRunError::Warehouse {
                    day,
                    task: "report",
                    source,
                })?;
        Ok(DayOutcome {
            day,
            extracted,
            figures,
            times,
        })
    }

    /// The independent extracts of one layer, concurrently (as the DAG runs them).
    async fn extract_all(
        &self,
        day: Day,
        tasks: &[&Task],
    ) -> Result<Vec<ExtractSummary>, LocalRunError> {
        let runs = tasks.iter().filter_map(|task| match task.step {
            Step::Extract(entity) => Some(async move {
                self.extractor
                    .run(&ExtractRequest { date: day, entity })
                    .await
                    .map_err(|source| LocalRunError::Extract {
                        day,
                        task: task.id,
                        source,
                    })
            }),
            _ => None,
        });
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect()
    }
}
