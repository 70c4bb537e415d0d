//! The functions' benchmark (issue: data API and extractors):
//! one day of 1,000,000 sales extracted from the locally served data API into
//! a lake on local disk and on moto's S3 (wall time, rows/s, peak RSS, median
//! of 3), zip sizes, and cold start through the Lambda Runtime API.
//!
//! Run: `cargo run -p showcase-bench --bin functions-bench` (after
//! scripts/stand-ins.sh). Results: bench/results/functions.md.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use showcase_bench::{ChildCost, measure, median, mib, unpack_bootstrap};
use showcase_deploy::build::{self, Architecture, BuildOptions};
use showcase_testkit::{MotoServer, RuntimeApi, free_port, workspace_root};

const ROWS: u64 = 1_000_000;
const RUNS: usize = 3;
const COLD_STARTS: usize = 10;

struct KillOnDrop(Child);
impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() {
    let root = workspace_root();
    let options = BuildOptions::for_workspace(&root, Architecture::X86_64);
    eprintln!("building the Lambda artifacts (release, cargo-zigbuild)…");
    let artifacts = build::build(&options).unwrap_or_else(|e| panic!("{e}"));
    let work = tempfile::tempdir().unwrap();
    let api_bin = unpack_bootstrap(&artifacts[0].zip, work.path(), "data-api");
    let extractor_bin = unpack_bootstrap(&artifacts[1].zip, work.path(), "extractor");

    let port = free_port();
    let _api = KillOnDrop(
        Command::new(&api_bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SALES_ROWS_PER_DAY", ROWS.to_string())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(port);
    let api_url = format!("http://127.0.0.1:{port}");

    let lake_dir = work.path().join("lake");
    let disk = extract_runs(
        &extractor_bin,
        &api_url,
        &[("LAKE_URL", lake_dir.to_str().unwrap())],
    );
    let parquet_bytes = std::fs::metadata(lake_dir.join("2025-01-15/sales.parquet"))
        .map(|m| m.len())
        .unwrap_or(0);

    let moto = MotoServer::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(create_bucket(&moto));
    let mut s3_env: Vec<(String, String)> = moto.aws_env();
    s3_env.push(("LAKE_URL".into(), "s3://bench-lake/raw/".into()));
    let s3_env_refs: Vec<(&str, &str)> = s3_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let s3 = extract_runs(&extractor_bin, &api_url, &s3_env_refs);

    let cold_api = runtime.block_on(cold_starts(&api_bin, json!({
        "resource": "/customers", "path": "/customers", "httpMethod": "GET",
        "headers": {}, "multiValueHeaders": {}, "queryStringParameters": {"date": "2025-01-15"},
        "multiValueQueryStringParameters": {"date": ["2025-01-15"]}, "pathParameters": null, "stageVariables": null,
        "requestContext": {"accountId": "1", "resourceId": "r", "stage": "prod", "requestId": "q", "identity": {"sourceIp": "127.0.0.1"},
            "resourcePath": "/customers", "httpMethod": "GET", "apiId": "a", "path": "/prod/customers", "protocol": "HTTP/1.1", "requestTimeEpoch": 0},
        "body": null, "isBase64Encoded": false
    }), vec![]));
    let cold_extractor = runtime.block_on(cold_starts(
        &extractor_bin,
        json!({"date": "2025-01-15", "entity": "products"}),
        vec![
            ("API_BASE_URL".into(), api_url.clone()),
            ("LAKE_URL".into(), lake_dir.display().to_string()),
        ],
    ));

    let report = render(
        &artifacts,
        &disk,
        &s3,
        parquet_bytes,
        cold_api,
        cold_extractor,
    );
    println!("{report}");
    let out = root.join("bench/results/functions.md");
    std::fs::write(&out, &report).unwrap();
    eprintln!("written to {}", out.display());
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the data API did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn create_bucket(moto: &MotoServer) {
    aws_sdk_s3::Client::new(&moto.sdk_config("us-east-1").await)
        .create_bucket()
        .bucket("bench-lake")
        .send()
        .await
        .unwrap();
}

/// Median wall time and the largest peak RSS of `RUNS` extractions of one day.
fn extract_runs(extractor: &Path, api: &str, env: &[(&str, &str)]) -> (Duration, u64) {
    let costs: Vec<ChildCost> = (0..RUNS)
        .map(|_| {
            let cost = measure(
                Command::new(extractor)
                    .args(["--date", "2025-01-15", "--entity", "sales"])
                    .env("API_BASE_URL", api)
                    .envs(env.iter().copied())
                    .stdout(Stdio::null()),
            );
            assert!(cost.success, "the extraction failed");
            cost
        })
        .collect();
    (
        median(costs.iter().map(|c| c.wall).collect()),
        costs.iter().map(|c| c.peak_rss).max().unwrap_or(0),
    )
}

/// Median time from process start to the first invocation answered.
async fn cold_starts(
    bootstrap: &Path,
    event: serde_json::Value,
    extra_env: Vec<(String, String)>,
) -> Duration {
    let mut times = Vec::new();
    for _ in 0..COLD_STARTS {
        let runtime = RuntimeApi::start(vec![event.clone()]).await;
        let mut env = runtime.lambda_env("bench");
        env.extend(extra_env.iter().cloned());
        let started = Instant::now();
        let _child = KillOnDrop(
            Command::new(bootstrap)
                .env_clear()
                .envs(env)
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let answered = runtime.answered(1, Duration::from_secs(30)).await;
        times.push(answered[0].answered_at.duration_since(started));
    }
    median(times)
}

fn render(
    artifacts: &[build::Artifact],
    disk: &(Duration, u64),
    s3: &(Duration, u64),
    parquet_bytes: u64,
    cold_api: Duration,
    cold_extractor: Duration,
) -> String {
    let rate = |d: Duration| ROWS as f64 / d.as_secs_f64();
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mut out = String::new();
    out.push_str("# Functions benchmark\n\n");
    out.push_str(&format!(
        "One day of {ROWS} sales rows, extracted by the release Lambda `bootstrap` (CLI mode) from the data API \
         `bootstrap` served on localhost. Median of {RUNS} runs; peak RSS is the extractor process's own (wait4). \
         Machine: {cores} cores, {machine}.\n\nRerun: `scripts/stand-ins.sh && cargo run -p showcase-bench --bin functions-bench`\n\n"
    ));
    out.push_str(
        "| measure | result | goal | seed (Python, same machine kind) |\n|---|---|---|---|\n",
    );
    out.push_str(&format!(
        "| extract+write, lake on local disk | {:.2} s, {:.0} rows/s | ≥ 335,000 rows/s | ~150 s, ~6,700 rows/s |\n",
        disk.0.as_secs_f64(),
        rate(disk.0)
    ));
    out.push_str(&format!(
        "| extract+write, lake on moto S3 | {:.2} s, {:.0} rows/s | ≥ 335,000 rows/s | ~150 s |\n",
        s3.0.as_secs_f64(),
        rate(s3.0)
    ));
    out.push_str(&format!(
        "| peak RSS, local disk | {:.1} MiB | ≤ 64 MiB | ~1.1 GB |\n",
        mib(disk.1)
    ));
    out.push_str(&format!(
        "| peak RSS, moto S3 | {:.1} MiB | ≤ 64 MiB | ~1.1 GB |\n",
        mib(s3.1)
    ));
    out.push_str(&format!(
        "| Parquet size | {:.1} bytes/row | — | ~43 bytes/row |\n",
        parquet_bytes as f64 / ROWS as f64
    ));
    for a in artifacts {
        out.push_str(&format!(
            "| zip size, {} | {:.2} MiB (binary {:.2} MiB) | ≤ 10 MiB | 99 MB zipped |\n",
            a.function,
            mib(a.zip_bytes),
            mib(a.binary_bytes)
        ));
    }
    out.push_str(&format!(
        "| cold start, data-api (process start → first answer via Runtime API, median of {COLD_STARTS}) | {:.1} ms | ≤ 50 ms | 0.6–0.7 s |\n",
        cold_api.as_secs_f64() * 1000.0
    ));
    out.push_str(&format!(
        "| cold start, extractor (incl. one products extraction to disk) | {:.1} ms | ≤ 50 ms | 0.6–0.7 s |\n",
        cold_extractor.as_secs_f64() * 1000.0
    ));
    out
}
