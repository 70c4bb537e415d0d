//! The extractor binary. On Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) it
//! handles `{"date": "YYYY-MM-DD", "entity": "sales|products|customers"}` events;
//! elsewhere `extractor --date D --entity E` runs one extraction and prints its
//! summary. Configuration comes from the environment (see `ExtractorSettings`).

use std::process::ExitCode;

use lambda_runtime::{LambdaEvent, service_fn};
use showcase_extractor::{Entity, ExtractRequest, Extractor, ExtractorSettings};

const USAGE: &str = "usage: extractor --date YYYY-MM-DD --entity sales|products|customers
environment: API_BASE_URL (required), LAKE_URL (required: s3://bucket/prefix/ or a directory),
             API_KEY, LAKE_KEY_LAYOUT (default {date}/{entity}.{ext}), PAGE_SIZE (default 10000)";

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("extractor: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run())
}

async fn run() -> ExitCode {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let request = if on_lambda {
        None
    } else {
        match parse_args(std::env::args().skip(1).collect()) {
            Ok(request) => Some(request),
            Err(message) => {
                eprintln!("extractor: {message}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    };
    let settings = match ExtractorSettings::from_env() {
        Ok(settings) => settings.resolve_api_key().await,
        Err(error) => Err(error),
    };
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("extractor: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let extractor = Extractor::new(settings).await;
    match request {
        Some(request) => match extractor.run(&request).await {
            Ok(summary) => {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("extractor: {error}");
                ExitCode::FAILURE
            }
        },
        None => {
            let extractor = &extractor;
            let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
                let request = ExtractRequest::from_event(event.payload)?;
                // An error here reaches the Runtime API as a function error, so the
                // Airflow task fails instead of recording "Request failed" as success.
                let summary = extractor.run(&request).await?;
                Ok::<_, lambda_runtime::Error>(summary)
            });
            match lambda_runtime::run(handler).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("extractor: {error}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn parse_args(args: Vec<String>) -> Result<ExtractRequest, String> {
    let mut date = None;
    let mut entity = None;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = || {
            rest.clone()
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--date" => date = Some(value()?.parse().map_err(|e| format!("--date: {e}"))?),
            "--entity" => {
                entity = Some(
                    value()?
                        .parse::<Entity>()
                        .map_err(|e| format!("--entity: {e}"))?,
                )
            }
            "--help" | "-h" => return Err("help".into()),
            other => return Err(format!("unexpected argument '{other}'")),
        }
        rest.next();
    }
    match (date, entity) {
        (Some(date), Some(entity)) => Ok(ExtractRequest { date, entity }),
        _ => Err("both --date and --entity are required".into()),
    }
}
