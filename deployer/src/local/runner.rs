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
    /// The same extractor writing into `prefetch_dir`, for the next day.
    prefetcher: Extractor,
    prefetch_dir: PathBuf,
    prefetch: Option<Prefetch>,
    /// The last day the caller will run: no day after it is extracted ahead.
    last_day: Option<Day>,
    warehouse: Warehouse,
    lake: PathBuf,
    layout: KeyLayout,
    api_url: String,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The next day's extracts, started while this day's SQL runs (PostgreSQL
/// works on one core, the data API and the extractor on the other). They
/// write outside the lake, and reach it only when that day is run.
struct Prefetch {
    day: Day,
    task: tokio::task::JoinHandle<Result<Vec<ExtractSummary>, LocalRunError>>,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(prefetch) = self.prefetch.take() {
            prefetch.task.abort();
        }
        let _ = std::fs::remove_dir_all(&self.prefetch_dir);
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
        let settings = |lake: &Path| ExtractorSettings {
            api_base_url: api_url.clone(),
            api_key: None,
            api_key_parameter: None,
            lake: LakeLocation::Directory(lake.to_owned()),
            layout: layout.clone(),
            page_size: 10_000,
            retry: RetryPolicy::default(),
        };
        // Beside the lake (same file system: a rename moves a file in), never in it.
        let prefetch_dir = match lake.file_name() {
            Some(name) => lake.with_file_name(format!(".{}.prefetch", name.to_string_lossy())),
            None => lake.join(".prefetch"),
        };
        let _ = std::fs::remove_dir_all(&prefetch_dir);
        let extractor = Extractor::new(settings(lake)).await;
        let prefetcher = Extractor::new(settings(&prefetch_dir)).await;
        Ok(Pipeline {
            extractor,
            prefetcher,
            prefetch_dir,
            prefetch: None,
            last_day: None,
            warehouse,
            lake: lake.to_owned(),
            layout,
            api_url,
            server,
        })
    }

    /// Says which day the caller runs last, so the days before it can have
    /// their next day extracted while their SQL runs (none is, unless told).
    pub fn will_run_through(&mut self, last: Day) {
        self.last_day = Some(last);
    }

    /// The day being extracted ahead, if any.
    pub fn extracting_ahead(&self) -> Option<Day> {
        self.prefetch.as_ref().map(|prefetch| prefetch.day)
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
        // A prefetch of another day (or any, when the lake's files are to be
        // used as they are) is not used: the day is extracted again.
        let mut prefetched = match self.prefetch.take() {
            Some(prefetch) if extract && prefetch.day == day => Some(prefetch),
            Some(prefetch) => {
                prefetch.task.abort();
                None
            }
            None => None,
        };
        let mut to_prefetch = None;
        for layer in execution_layers()? {
            let extracts: Vec<&'static Task> = layer
                .iter()
                .copied()
                .filter(|t| matches!(t.step, Step::Extract(_)))
                .collect();
            if extract && !extracts.is_empty() {
                let started = Instant::now();
                let ready = match prefetched.take() {
                    Some(prefetch) => self.move_into_lake(prefetch).await,
                    None => None,
                };
                let summaries = match ready {
                    Some(summaries) => summaries,
                    None => extract_all(&self.extractor, day, &extracts).await?,
                };
                extracted.extend(summaries);
                times.extract += started.elapsed();
                to_prefetch = day
                    .next()
                    .filter(|next| self.last_day.is_some_and(|last| *next <= last))
                    .map(|next| (next, extracts));
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
            // Once this day's files are staged, the client is idle until the
            // day ends: the next day's extracts run meanwhile.
            if layer
                .iter()
                .any(|t| matches!(t.step, Step::LoadStage { .. }))
                && let Some((next, extracts)) = to_prefetch.take()
            {
                self.prefetch = Some(Prefetch {
                    day: next,
                    task: tokio::spawn(extract_all_owned(self.prefetcher.clone(), next, extracts)),
                });
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

    /// A finished prefetch's files renamed into the lake, and its summaries
    /// naming them there; `None` (extract again) if it failed in any way.
    async fn move_into_lake(&self, prefetch: Prefetch) -> Option<Vec<ExtractSummary>> {
        let mut summaries = prefetch.task.await.ok()?.ok()?;
        let lake = LakeLocation::Directory(self.lake.clone());
        for summary in &mut summaries {
            let key = self.layout.key(prefetch.day, summary.entity);
            let to = self.lake.join(&key);
            tokio::fs::create_dir_all(to.parent()?).await.ok()?;
            tokio::fs::rename(self.prefetch_dir.join(&key), &to)
                .await
                .ok()?;
            summary.keys = vec![lake.display_key(&key)];
        }
        Some(summaries)
    }
}

/// The independent extracts of one layer, concurrently (as the DAG runs them).
async fn extract_all(
    extractor: &Extractor,
    day: Day,
    tasks: &[&Task],
) -> Result<Vec<ExtractSummary>, LocalRunError> {
    let runs = tasks.iter().filter_map(|task| match task.step {
        Step::Extract(entity) => Some(async move {
            extractor
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

async fn extract_all_owned(
    extractor: Extractor,
    day: Day,
    tasks: Vec<&'static Task>,
) -> Result<Vec<ExtractSummary>, LocalRunError> {
    extract_all(&extractor, day, &tasks).await
}
