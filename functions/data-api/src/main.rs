//! The data API binary: on Lambda (when `AWS_LAMBDA_RUNTIME_API` is set) it
//! serves API Gateway events; elsewhere it serves HTTP on `--listen ADDR`
//! (default 127.0.0.1:8080).

use std::process::ExitCode;

use showcase_data_api::{ApiSettings, IGNORE_STAGE_IN_PATH, router, serve};

const USAGE: &str = "usage: data-api [--listen ADDR]   (ADDR default 127.0.0.1:8080; env SALES_ROWS_PER_DAY, default 50)";

fn main() -> ExitCode {
    let settings = match ApiSettings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("data-api: {error}");
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
            eprintln!("data-api: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = if on_lambda {
        runtime
            .block_on(lambda_http::run(router(settings)))
            .map_err(|e| e.to_string())
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
            println!("data API listening on http://{address}");
            serve(listener, settings).await.map_err(|e| e.to_string())
        })
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("data-api: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_listen(args: Vec<String>) -> Result<String, String> {
    match args.as_slice() {
        [] => Ok("127.0.0.1:8080".to_owned()),
        [flag, address] if flag == "--listen" => Ok(address.clone()),
        [flag] if flag == "--help" || flag == "-h" => Err("help".to_owned()),
        other => Err(format!("unexpected arguments {other:?}")),
    }
}
