//! The data API binary: on Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) it
//! serves API Gateway events; elsewhere it serves HTTP on `--listen ADDR`
//! (default 127.0.0.1:8080). Either way one JSON log line per request on stdout.

use std::process::ExitCode;

use showcase_data_api::{ApiSettings, IGNORE_STAGE_IN_PATH, logged, router};

const USAGE: &str = "usage: data-api [--listen ADDR]   (ADDR default 127.0.0.1:8080; env SALES_ROWS_PER_DAY, default 50)";

fn main() -> ExitCode {
    install_log();
    let settings = match ApiSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(error = %error, "data-api cannot start");
            return ExitCode::from(2);
        }
    };
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    if on_lambda && std::env::var_os(IGNORE_STAGE_IN_PATH).is_none() {
        // API Gateway REST events carry the stage ("/prod/sales"); the routes are
        // stage-independent. Set before any thread exists, so this is sound.
        unsafe { std::env::set_var(IGNORE_STAGE_IN_PATH, "true") };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(error = %error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let app = logged(router(settings));
    let outcome = if on_lambda {
        // Debug, not Display: the runtime client's errors keep their causes there.
        runtime
            .block_on(lambda_http::run(app))
            .map_err(|e| format!("the Lambda runtime stopped: {e:?}"))
    } else {
        let listen = match parse_listen(std::env::args().skip(1).collect()) {
            Ok(listen) => listen,
            Err(message) => {
                eprintln!("data-api: {message}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let address = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(url = format!("http://{address}"), "data API listening");
            axum::serve(listener, app).await.map_err(|e| e.to_string())
        })
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error, "data-api stopped");
            ExitCode::FAILURE
        }
    }
}

/// One JSON object per line on stdout, what CloudWatch Logs Insights parses.
fn install_log() {
    let json = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        // The runtime's span (request id, X-Ray trace id) once, not twice.
        .with_span_list(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stdout)
        .finish();
    // Fails only if a subscriber is already set, and nothing before main sets one.
    drop(tracing::subscriber::set_global_default(json));
}

fn parse_listen(args: Vec<String>) -> Result<String, String> {
    match args.as_slice() {
        [] => Ok("127.0.0.1:8080".to_owned()),
        [flag, address] if flag == "--listen" => Ok(address.clone()),
        [flag] if flag == "--help" || flag == "-h" => Err("help".to_owned()),
        other => Err(format!("unexpected arguments {other:?}")),
    }
}
