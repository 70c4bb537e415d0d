//! The deploy engine's benchmark (issue: deploy engine): AWS requests and wall
//! time of a fresh `up`, a no-op `up`, `plan`, `drift` and `down` against
//! moto's server, directly and through a proxy adding 50 ms to every request
//! (a real region's round trip). Code: the real Lambda zips of `build`.
//!
//! Run: `scripts/stand-ins.sh && cargo run -p showcase-bench --bin deploy-bench`.
//! Results: bench/results/deploy.md.

use std::path::Path;
use std::time::{Duration, Instant};

use showcase_deploy::aws::Aws;
use showcase_deploy::build::{self, Architecture, BuildOptions};
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::engine;
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::{MotoServer, workspace_root};

struct Measure {
    name: &'static str,
    /// `Service Operation ×n`, for the no-op commands' breakdown.
    operations: Vec<String>,
    wall: Duration,
    requests: usize,
    mutating: usize,
}

fn quiet(_: engine::Event) {}

async fn run(
    latency: Duration,
    code: &std::collections::BTreeMap<FunctionName, Code>,
) -> Vec<Measure> {
    let moto = MotoServer::start_with_latency(latency);
    let stack = config::load(
        &workspace_root().join("stack.toml"),
        &Vars::default().with("lake_bucket", "bench-lake"),
    )
    .unwrap();
    let aws = Aws::connect_with(&stack.region, moto.config_loader()).await;
    let mut measures = Vec::new();
    let session = Session::new(aws.clone(), stack.clone(), code.clone());
    let mut measure = |name: &'static str, started: Instant, aws: &Aws| {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for request in aws.requests.all() {
            *counts
                .entry(format!("{} {}", request.service, request.operation))
                .or_default() += 1;
        }
        measures.push(Measure {
            operations: counts
                .into_iter()
                .map(|(operation, n)| format!("{operation} ×{n}"))
                .collect(),
            name,
            wall: started.elapsed(),
            requests: aws.requests.all().len(),
            mutating: aws.requests.mutating().len(),
        });
        aws.requests.clear();
    };

    let started = Instant::now();
    session.up(false, &|_| {}, &quiet).await.unwrap();
    measure(
        "fresh up (two passes: the API's URL reaches the extractor)",
        started,
        &aws,
    );

    let started = Instant::now();
    let plans = session.up(false, &|_| {}, &quiet).await.unwrap();
    assert!(!plans[0].has_changes(), "{plans:?}");
    measure("no-op up", started, &aws);

    let started = Instant::now();
    session.plan().await.unwrap();
    measure("plan", started, &aws);

    let started = Instant::now();
    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes());
    measure("drift", started, &aws);

    let started = Instant::now();
    let (prepared, plan) = session.down_plan().await.unwrap();
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    measure("down --delete-data", started, &aws);
    measures
}

fn main() {
    let options = BuildOptions::for_workspace(&workspace_root(), Architecture::X86_64);
    eprintln!("building the Lambda artifacts…");
    let code = build::build(&options)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|a| {
            let function = FunctionName::ALL
                .into_iter()
                .find(|f| f.as_str() == a.function)?;
            Some((
                function,
                Code {
                    zip: a.zip,
                    sha256: a.code_sha256,
                },
            ))
        })
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let direct = runtime.block_on(run(Duration::ZERO, &code));
    let slow = runtime.block_on(run(Duration::from_millis(50), &code));
    let mut report = String::from(
        "# Deploy engine benchmark\n\n\
         The shipped `stack.toml` (bucket, 2 roles, 2 log groups, 2 functions with the real zips, the data API with key and \
         usage plan) against moto's server, directly and through a proxy that adds 50 ms to every request. \
         Requests are counted by the SDK interceptor (each retry counts); mutating = not Get/List/Describe/Head. \
         Every command also lists what stack.toml may no longer declare (6 concurrent list requests: functions, \
         roles, log groups, parameters, REST APIs, buckets by tag) so that up can prune it.\n\n\
         Rerun: `scripts/stand-ins.sh && cargo run -p showcase-bench --bin deploy-bench`\n\n\
         Depth: the added wall time over 50 ms — how many requests deep the command's chain of \
         dependent calls is (its critical path); concurrent requests add nothing.\n\n\
         | command | requests (mutating) | wall, direct | wall, +50 ms/request | depth (round trips) |\n|---|---|---|---|---|\n",
    );
    for (a, b) in direct.iter().zip(&slow) {
        let depth = (b.wall.as_secs_f64() - a.wall.as_secs_f64()) / 0.050;
        report.push_str(&format!(
            "| {} | {} ({}) | {:.2} s | {:.2} s | {depth:.0} |\n",
            a.name,
            b.requests,
            b.mutating,
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64()
        ));
    }
    if let Some(fresh) = slow.iter().find(|m| m.name.starts_with("fresh up")) {
        report.push_str(&format!(
            "\nA fresh `up` makes {} requests ({} writes); its time at 50 ms is its critical path of dependent calls, \
             not its count: the data API (CreateRestApi, then per route a resource, its method and its integration — \
             one after the other, as API Gateway answers concurrent changes to one API with ConflictException — then \
             the invoke grant, a deployment, the stage's throttling, the key and the usage plan) after the data-api \
             function (after its role and log group), then a second pass that reads again and creates what needed the \
             API's URL and key (the extractor, the key's SSM parameter). Independent resources go side by side: the \
             bucket, the roles and the log groups cost one chain, not five.\n",
            fresh.requests, fresh.mutating
        ));
    }
    if let Some(drift) = slow.iter().find(|m| m.name == "drift") {
        report.push_str(&format!(
            "\nThe reads of `drift` (and of every plan): {}.\n",
            drift.operations.join(", ")
        ));
    }
    report.push_str("\nGoal: no-op `up` and `drift` make read requests only, concurrently, in at most 0.3 s at 50 ms per request; \
         no listing is sent twice in one command (one read phase shares its answers).\n");
    println!("{report}");
    std::fs::write(
        Path::new(&workspace_root()).join("bench/results/deploy.md"),
        report,
    )
    .unwrap();
}
