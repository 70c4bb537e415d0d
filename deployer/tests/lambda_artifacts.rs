//! The real Lambda artifacts: built with the product's `build`, checked for
//! Amazon Linux 2023, rebuilt elsewhere for reproducibility, and run through
//! the Lambda Runtime API protocol the way Lambda runs them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};
use showcase_deploy::build::{self, Architecture, Artifact, BuildOptions, code_sha256};
use showcase_testkit::{MotoServer, Outcome, RuntimeApi, workspace_root};

fn artifacts() -> &'static [Artifact] {
    static BUILT: OnceLock<Vec<Artifact>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let options = BuildOptions::for_workspace(&workspace_root(), Architecture::X86_64);
        build::build(&options).unwrap_or_else(|e| panic!("build failed: {e}"))
    })
}

fn artifact(function: &str) -> &'static Artifact {
    artifacts().iter().find(|a| a.function == function).unwrap()
}

/// Unpacks `bootstrap` from a function's zip into a fresh directory.
fn unpack(function: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::open(&artifact(function).zip).unwrap();
    let mut archive = zip::ZipArchive::new(file).unwrap();
    let mut entry = archive.by_name("bootstrap").unwrap();
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    let path = dir.path().join("bootstrap");
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (dir, path)
}

#[test]
fn zips_hold_one_executable_bootstrap_that_runs_on_amazon_linux_2023() {
    for function in ["data-api", "extractor"] {
        let artifact = artifact(function);
        let zip_bytes = std::fs::read(&artifact.zip).unwrap();
        assert_eq!(code_sha256(&zip_bytes), artifact.code_sha256);
        assert!(
            zip_bytes.len() <= 10 * 1024 * 1024,
            "{function}: {} bytes zipped",
            zip_bytes.len()
        );
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        assert_eq!(
            archive.by_index(0).unwrap().unix_mode().map(|m| m & 0o777),
            Some(0o755)
        );
        let (_dir, bootstrap) = unpack(function);
        // objdump is the independent judge of what the dynamic linker will ask for.
        let dump = Command::new("objdump")
            .arg("-T")
            .arg(&bootstrap)
            .output()
            .expect("objdump (binutils) is installed");
        let text = String::from_utf8_lossy(&dump.stdout);
        let mut versions: Vec<(u32, u32)> = text
            .split_whitespace()
            .filter_map(|w| {
                w.strip_prefix("(GLIBC_")
                    .or_else(|| w.strip_prefix("GLIBC_"))
            })
            .filter_map(|v| {
                let mut parts = v.trim_end_matches(')').split('.');
                Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
            })
            .collect();
        versions.sort();
        let highest = versions.last().copied();
        assert!(
            highest.is_none_or(|v| v <= (2, 34)),
            "{function} needs glibc {highest:?}"
        );
        assert_eq!(
            artifact.glibc.as_deref(),
            highest.map(|(a, b)| format!("{a}.{b}")).as_deref()
        );
    }
}

#[test]
fn binaries_carry_no_build_machine_paths() {
    let root = workspace_root().display().to_string();
    for function in ["data-api", "extractor"] {
        let (_dir, bootstrap) = unpack(function);
        let bytes = std::fs::read(bootstrap).unwrap();
        assert!(
            !bytes.windows(root.len()).any(|w| w == root.as_bytes()),
            "{function} contains {root}"
        );
    }
}

/// Copies the sources (not the build output) to a new directory.
fn copy_sources(to: &Path) {
    let root = workspace_root();
    let listed = Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["ls-files", "-co", "--exclude-standard"])
        .output()
        .unwrap();
    for file in String::from_utf8_lossy(&listed.stdout).lines() {
        let from = root.join(file);
        if from.is_file() {
            let target = to.join(file);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&from, &target).unwrap();
        }
    }
}

#[test]
fn a_build_elsewhere_is_byte_identical() {
    let original = artifacts();
    let copy = tempfile::tempdir().unwrap();
    copy_sources(copy.path());
    let mut options = BuildOptions::for_workspace(copy.path(), Architecture::X86_64);
    // The original's build directory (so dependencies are not recompiled; safe
    // only because the sources are identical), other source and zip paths.
    options.target_dir =
        BuildOptions::for_workspace(&workspace_root(), Architecture::X86_64).target_dir;
    options.out_dir = copy.path().join("zips");
    options.tools_dir = workspace_root().join(".venv/bin");
    let rebuilt = build::build(&options).unwrap();
    for (a, b) in original.iter().zip(&rebuilt) {
        assert_eq!(
            a.code_sha256,
            b.code_sha256,
            "{} differs when built from {}",
            a.function,
            copy.path().display()
        );
    }
    // Deliberately no modified rebuild in the shared directory: cargo decides
    // freshness by mtimes of workspace-relative paths, so a *different* build
    // from another checkout would leave a stale binary for the original's next
    // build. `BuildOptions::for_workspace` gives each checkout its own directory
    // for that reason; this test overrides it.
}

fn start(bootstrap: &Path, env: Vec<(String, String)>) -> Child {
    Command::new(bootstrap)
        .env_clear()
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rest_proxy_event(path: &str, query: &[(&str, &str)]) -> Value {
    let single: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!([v])))
        .collect();
    json!({
        "resource": path, "path": path, "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "x-api-key": "k"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"], "x-api-key": ["k"]},
        "queryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(single) },
        "multiValueQueryStringParameters": if query.is_empty() { Value::Null } else { Value::Object(multi) },
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
            "identity": {"sourceIp": "127.0.0.1", "apiKey": "k"}, "resourcePath": path, "httpMethod": "GET",
            "apiId": "abc123", "path": format!("/prod{path}"), "protocol": "HTTP/1.1", "requestTimeEpoch": 0
        },
        "body": null, "isBase64Encoded": false
    })
}

fn response(outcome: &Outcome) -> &Value {
    match outcome {
        Outcome::Response(value) => value,
        Outcome::Error(error) => panic!("function error: {error}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_api_bootstrap_answers_api_gateway_rest_events() {
    let (_dir, bootstrap) = unpack("data-api");
    let runtime = RuntimeApi::start(vec![
        rest_proxy_event("/sales", &[("date", "2024-01-05"), ("limit", "20")]),
        rest_proxy_event("/customers", &[("date", "2024-01-05")]),
        rest_proxy_event("/sales", &[("date", "2024-02-30")]),
        rest_proxy_event("/orders", &[]),
    ])
    .await;
    let mut env = runtime.lambda_env("data-api");
    env.push(("SALES_ROWS_PER_DAY".into(), "45".into()));
    let _function = KillOnDrop(start(&bootstrap, env));
    let answered = runtime.answered(4, Duration::from_secs(30)).await;
    let statuses: Vec<u64> = answered
        .iter()
        .map(|i| response(&i.outcome)["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 200, 400, 404]);
    let sales: Value =
        serde_json::from_str(response(&answered[0].outcome)["body"].as_str().unwrap()).unwrap();
    assert_eq!(sales["total_rows"], 45);
    assert_eq!(sales["rows"].as_array().unwrap().len(), 20);
    assert!(sales["next_page_token"].is_string());
    let bad: Value =
        serde_json::from_str(response(&answered[2].outcome)["body"].as_str().unwrap()).unwrap();
    assert_eq!(bad["parameter"], "date");
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extractor_bootstrap_writes_to_s3_and_reports_errors_as_function_errors() {
    let (_dir, bootstrap) = unpack("extractor");
    let moto = MotoServer::start();
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config("us-east-1").await);
    s3.create_bucket().bucket("lake").send().await.unwrap();
    let api = serve(showcase_data_api::router(showcase_data_api::ApiSettings {
        sales_per_day: 1234,
    }))
    .await;

    let runtime = RuntimeApi::start(vec![
        json!({"date": "2024-01-05", "entity": "sales"}),
        json!({"date": "2024-01-05", "entity": "customers"}),
        json!({"date": "5 January", "entity": "sales"}),
    ])
    .await;
    let mut env = runtime.lambda_env("extractor");
    env.extend(moto.aws_env());
    env.push(("API_BASE_URL".into(), api.clone()));
    env.push(("LAKE_URL".into(), "s3://lake/raw/".into()));
    let _function = KillOnDrop(start(&bootstrap, env));
    let answered = runtime.answered(3, Duration::from_secs(60)).await;
    let summary = response(&answered[0].outcome);
    assert_eq!(summary["rows"], 1234);
    assert_eq!(
        summary["keys"],
        json!(["s3://lake/raw/2024-01-05/sales.parquet"])
    );
    let object = s3
        .get_object()
        .bucket("lake")
        .key("raw/2024-01-05/sales.parquet")
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_length(), summary["bytes"].as_i64());
    assert_eq!(response(&answered[1].outcome)["entity"], "customers");
    match &answered[2].outcome {
        Outcome::Error(error) => assert!(
            error["errorMessage"]
                .as_str()
                .unwrap()
                .contains("YYYY-MM-DD"),
            "{error}"
        ),
        other => panic!("a bad event must be a function error, got {other:?}"),
    }

    // An API that refuses the request (e.g. a missing API key) fails the invocation.
    async fn forbidden() -> (axum::http::StatusCode, &'static str) {
        (
            axum::http::StatusCode::FORBIDDEN,
            "{\"message\":\"Forbidden\"}",
        )
    }
    let refusing = serve(axum::Router::new().fallback(forbidden)).await;
    let runtime =
        RuntimeApi::start(vec![json!({"date": "2024-01-06", "entity": "products"})]).await;
    let mut env = runtime.lambda_env("extractor");
    env.extend(moto.aws_env());
    env.push(("API_BASE_URL".into(), refusing));
    env.push(("LAKE_URL".into(), "s3://lake/raw/".into()));
    let _function = KillOnDrop(start(&bootstrap, env));
    let answered = runtime.answered(1, Duration::from_secs(60)).await;
    match &answered[0].outcome {
        Outcome::Error(error) => assert!(
            error["errorMessage"].as_str().unwrap().contains("403"),
            "{error}"
        ),
        other => panic!("expected a function error, got {other:?}"),
    }
    let listed = s3
        .list_objects_v2()
        .bucket("lake")
        .prefix("raw/2024-01-06/")
        .send()
        .await
        .unwrap();
    assert!(
        listed.contents().is_empty(),
        "a failed extraction writes nothing"
    );
}

#[test]
fn arm64_is_selectable_and_fails_clearly_without_its_rust_target() {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot
        .join("lib/rustlib/aarch64-unknown-linux-gnu/lib")
        .is_dir()
    {
        return; // the target is installed here: the arm64 build is a normal build
    }
    let mut options = BuildOptions::for_workspace(&workspace_root(), Architecture::Arm64);
    options.out_dir = tempfile::tempdir().unwrap().path().to_owned();
    let error = build::build(&options).unwrap_err().to_string();
    assert!(error.contains("aarch64-unknown-linux-gnu"), "{error}");
    assert!(
        error.contains("rustup target add aarch64-unknown-linux-gnu"),
        "{error}"
    );
    assert!(
        error.contains("x86_64"),
        "the message offers the working alternative: {error}"
    );
}
