//! The extractor binary. On Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) it
//! handles `{"date": "YYYY-MM-DD", "entity": "sales|products|customers"}` events;
//! elsewhere `extractor --date D --entity E` runs one extraction and prints its
//! summary. Configuration comes from the environment (see `ExtractorSettings`).

use std::process::ExitCode;

use lambda_runtime::{LambdaEvent, service_fn};
use showcase_extractor::lake::error_chain;
use showcase_extractor::{Entity, ExtractRequest, Extractor, ExtractorSettings};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;

const USAGE: &str = "usage: extractor --date YYYY-MM-DD --entity sales|products|customers
environment: API_BASE_URL (required), LAKE_URL (required: s3://bucket/prefix/ or a directory),
             API_KEY or API_KEY_PARAMETER (an SSM parameter holding it),
             LAKE_KEY_LAYOUT (default {date}/{entity}.{ext}), PAGE_SIZE (default 10000)";

fn main() -> ExitCode {
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    install_log(on_lambda);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(
                error = error_chain(&error),
                "cannot start the async runtime"
            );
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(on_lambda))
}

/// One JSON object per line, what CloudWatch Logs Insights parses: on Lambda to
/// stdout, on the command line to stderr so that stdout is only the summary.
fn install_log(on_lambda: bool) {
    // lambda_runtime logs each handler error again, as its Debug text: the
    // invocation's line already says it, with the request and every cause. Its
    // other use of that target, a caught panic, cannot happen: release aborts.
    let filter = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("lambda_runtime::layers::panic", LevelFilter::OFF);
    let writer = if on_lambda {
        BoxMakeWriter::new(std::io::stdout)
    } else {
        BoxMakeWriter::new(std::io::stderr)
    };
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        // The runtime's span (request id, X-Ray trace id) once, not twice.
        .with_span_list(false)
        .with_writer(writer);
    let subscriber = tracing_subscriber::registry().with(filter).with(json);
    // Fails only if a subscriber is already set, and nothing before main sets one.
    drop(tracing::subscriber::set_global_default(subscriber));
}

async fn run(on_lambda: bool) -> ExitCode {
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
            tracing::error!(error = error_chain(&error), "extractor cannot start");
            if !on_lambda {
                eprintln!("{USAGE}");
            }
            return ExitCode::from(2);
        }
    };
    let extractor = Extractor::new(settings).await;
    match request {
        // The log line (on stderr) already says why a run failed.
        Some(request) => match extractor.invoke(None, &request).await {
            Ok(summary) => {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(_) => ExitCode::FAILURE,
        },
        None => {
            let extractor = &extractor;
            // An error here reaches the Runtime API as a function error, so the
            // Airflow task fails instead of recording "Request failed" as success.
            let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
                extractor
                    .invoke_event(Some(&event.context.request_id), event.payload)
                    .await
            });
            match lambda_runtime::run(handler).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(error = error_chain(&*error), "the Lambda runtime stopped");
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
