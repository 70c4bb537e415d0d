//! Failures are loud and leave nothing half-written: retried when transient,
//! final otherwise, and the lake keeps the previous object or none.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use common::*;
use showcase_data_api::ApiSettings;
use showcase_extractor::{Entity, ExtractError, ExtractRequest, Extractor, LakeLocation};
use tower::ServiceExt;

/// A data API that answers the first `good` requests from the real router and
/// then fails with `status`; counts requests.
#[derive(Clone)]
struct Flaky {
    served: Arc<AtomicUsize>,
    good: usize,
    fail_first: usize,
    status: StatusCode,
    sales_per_day: u64,
}

async fn flaky(State(api): State<Flaky>, request: Request) -> Response {
    let n = api.served.fetch_add(1, Ordering::SeqCst);
    if n < api.fail_first || n >= api.fail_first + api.good {
        return (api.status, "upstream trouble").into_response();
    }
    let real = showcase_data_api::router(ApiSettings {
        sales_per_day: api.sales_per_day,
    });
    real.oneshot(request.map(Body::new)).await.into_response()
}

async fn serve_flaky(api: Flaky) -> String {
    serve(Router::new().fallback(flaky).with_state(api)).await
}

fn request(entity: Entity) -> ExtractRequest {
    ExtractRequest {
        date: "2024-05-01".parse().unwrap(),
        entity,
    }
}

#[tokio::test]
async fn transient_errors_are_retried_then_succeed() {
    let served = Arc::new(AtomicUsize::new(0));
    let api = serve_flaky(Flaky {
        served: served.clone(),
        good: usize::MAX / 2,
        fail_first: 2,
        status: StatusCode::SERVICE_UNAVAILABLE,
        sales_per_day: 50,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let location = LakeLocation::Directory(dir.path().to_owned());
    let summary = Extractor::new(settings(&api, location))
        .await
        .run(&request(Entity::Sales))
        .await
        .unwrap();
    assert_eq!(summary.rows, 50);
    assert_eq!(served.load(Ordering::SeqCst), 3, "two 503s, then the page");
}

#[tokio::test]
async fn persistent_errors_fail_after_the_retries_and_write_nothing() {
    let served = Arc::new(AtomicUsize::new(0));
    let api = serve_flaky(Flaky {
        served: served.clone(),
        good: 0,
        fail_first: 0,
        status: StatusCode::BAD_GATEWAY,
        sales_per_day: 50,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let location = LakeLocation::Directory(dir.path().to_owned());
    let error = Extractor::new(settings(&api, location))
        .await
        .run(&request(Entity::Sales))
        .await
        .unwrap_err();
    match &error {
        ExtractError::ApiStatus {
            status: 502,
            attempts: 4,
            url,
            ..
        } => assert!(url.contains("/sales?date=2024-05-01")),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        served.load(Ordering::SeqCst),
        4,
        "one try and three retries"
    );
    assert!(error.to_string().contains("502"), "{error}");
    assert_no_files(dir.path());
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let served = Arc::new(AtomicUsize::new(0));
    let api = serve_flaky(Flaky {
        served: served.clone(),
        good: 0,
        fail_first: 0,
        status: StatusCode::FORBIDDEN,
        sales_per_day: 50,
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let error = Extractor::new(settings(
        &api,
        LakeLocation::Directory(dir.path().to_owned()),
    ))
    .await
    .run(&request(Entity::Products))
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            ExtractError::ApiStatus {
                status: 403,
                attempts: 1,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_api_key_is_sent_when_configured() {
    async fn guarded(request: Request) -> Response {
        if request.headers().get("x-api-key").map(|v| v.as_bytes()) != Some(b"secret-key") {
            return (StatusCode::FORBIDDEN, "{\"message\":\"Forbidden\"}").into_response();
        }
        showcase_data_api::router(ApiSettings::default())
            .oneshot(request.map(Body::new))
            .await
            .into_response()
    }
    let api = serve(Router::new().fallback(guarded)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut with_key = settings(&api, LakeLocation::Directory(dir.path().to_owned()));
    with_key.api_key = Some("secret-key".into());
    let summary = Extractor::new(with_key.clone())
        .await
        .run(&request(Entity::Customers))
        .await
        .unwrap();
    assert!(summary.rows >= 30);
    with_key.api_key = None;
    let error = Extractor::new(with_key)
        .await
        .run(&request(Entity::Customers))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExtractError::ApiStatus { status: 403, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_malformed_response_is_an_error_naming_the_url() {
    async fn broken() -> &'static str {
        "{\"entity\": \"sales\", \"rows\": \"not a list\"}"
    }
    let api = serve(Router::new().fallback(broken)).await;
    let dir = tempfile::tempdir().unwrap();
    let error = Extractor::new(settings(
        &api,
        LakeLocation::Directory(dir.path().to_owned()),
    ))
    .await
    .run(&request(Entity::Sales))
    .await
    .unwrap_err();
    match &error {
        ExtractError::MalformedResponse { url, .. } => assert!(url.starts_with(&api)),
        other => panic!("unexpected {other:?}"),
    }
    assert_no_files(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_mid_upload_keeps_the_previous_object_and_leaves_no_upload_open() {
    let moto = moto();
    let client = s3_client(&moto).await;
    let bucket = "failing-lake";
    client.create_bucket().bucket(bucket).send().await.unwrap();
    let location = LakeLocation::S3 {
        bucket: bucket.into(),
        prefix: "raw/".into(),
    };
    // A good run first: the object a failed rerun must not damage.
    let healthy = serve_api(300_000).await;
    Extractor::with_lake(
        settings(&healthy, location.clone()),
        s3_lake(&client, bucket),
    )
    .run(&request(Entity::Sales))
    .await
    .unwrap();
    let before = get_object(&client, bucket, "raw/2024-05-01/sales.parquet")
        .await
        .unwrap();
    assert!(
        before.len() > 5 * TEST_PART_SIZE,
        "the failed rerun must get past several parts"
    );
    // The rerun gets 25 pages (250,000 rows, several parts uploaded), then 503s.
    let served = Arc::new(AtomicUsize::new(0));
    let failing = serve_flaky(Flaky {
        served,
        good: 25,
        fail_first: 0,
        status: StatusCode::SERVICE_UNAVAILABLE,
        sales_per_day: 300_000,
    })
    .await;
    let error = Extractor::with_lake(settings(&failing, location), s3_lake(&client, bucket))
        .run(&request(Entity::Sales))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ExtractError::ApiStatus { status: 503, .. }),
        "{error:?}"
    );
    let after = get_object(&client, bucket, "raw/2024-05-01/sales.parquet")
        .await
        .unwrap();
    assert_eq!(before, after, "the previous object is untouched");
    let uploads = client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(
        uploads.uploads().is_empty(),
        "the failed multipart upload was aborted: {:?}",
        uploads.uploads()
    );
}

fn assert_no_files(dir: &std::path::Path) {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path)
            } else {
                found.push(path)
            }
        }
    }
    assert!(
        found.is_empty(),
        "nothing may be left in the lake: {found:?}"
    );
}
