//! `run --local`: the pipeline on one machine. The data API is served on
//! localhost from the Lambda's own router; the extractor writes the day's
//! files into a local lake directory.

use std::io::Write;
use std::path::PathBuf;

use showcase_data_api::ApiSettings;
use showcase_dataset::Day;
use showcase_extractor::{
    Entity, ExtractError, ExtractRequest, Extractor, ExtractorSettings, KeyLayout, LakeLocation,
    RetryPolicy,
};

pub struct LocalRun {
    pub first: Day,
    pub last: Day,
    pub sales_per_day: u64,
    pub lake: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("cannot serve the data API on localhost: {0}")]
    Api(std::io::Error),
    #[error("{day}: {source}")]
    Extract { day: Day, source: ExtractError },
    #[error("writing the report: {0}")]
    Report(std::io::Error),
}

/// Runs every day from `first` to `last` in date order; reports a line per day.
pub async fn run(plan: &LocalRun, report: &mut impl Write) -> Result<(), LocalRunError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(LocalRunError::Api)?;
    let address = listener.local_addr().map_err(LocalRunError::Api)?;
    let settings = ApiSettings {
        sales_per_day: plan.sales_per_day,
    };
    let server = tokio::spawn(showcase_data_api::serve(listener, settings));
    let extractor = Extractor::new(ExtractorSettings {
        api_base_url: format!("http://{address}"),
        api_key: None,
        lake: LakeLocation::Directory(plan.lake.clone()),
        layout: KeyLayout::default(),
        page_size: 10_000,
        retry: RetryPolicy::default(),
    })
    .await;
    writeln!(
        report,
        "data API on http://{address}, lake in {}",
        plan.lake.display()
    )
    .map_err(LocalRunError::Report)?;
    let outcome = async {
        for day in plan.first.through(plan.last) {
            // The three extracts are independent, as in the DAG.
            let runs = Entity::ALL.map(|entity| {
                let extractor = &extractor;
                async move { extractor.run(&ExtractRequest { date: day, entity }).await }
            });
            let [sales, products, customers] = runs;
            let (sales, products, customers) = tokio::join!(sales, products, customers);
            let error = |source| LocalRunError::Extract { day, source };
            let (sales, products, customers) = (
                sales.map_err(error)?,
                products.map_err(error)?,
                customers.map_err(error)?,
            );
            writeln!(
                report,
                "{day}  extracted {} sales, {} products, {} customers",
                sales.rows, products.rows, customers.rows
            )
            .map_err(LocalRunError::Report)?;
        }
        Ok(())
    }
    .await;
    server.abort();
    outcome
}
