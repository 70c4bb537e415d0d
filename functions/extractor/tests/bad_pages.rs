//! A bad page after a good one (what `failures.rs` does not cover: it fails
//! the first page, into an empty lake): the data API hangs, answers 5xx,
//! sends truncated JSON or a row of the wrong type on page 2 of 3, after a
//! good run put the day's object in the lake. Each time the extraction fails
//! naming that page (its URL with its `page_token`), after the retries and
//! the attempt timeout where the failure is transient, and the lake keeps the
//! previous object byte for byte, with no temporary file beside it.

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use common::*;
use showcase_data_api::ApiSettings;
use showcase_extractor::{
    Entity, ExtractError, ExtractRequest, Extractor, LakeLocation, RetryPolicy,
};
use tower::ServiceExt;

const ROWS: u64 = 50;
/// Three pages of sales.
const PAGE_SIZE: u64 = 20;

#[derive(Debug, Clone, Copy)]
enum Bad {
    Hang,
    Unavailable,
    Truncated,
    WrongType,
}

/// The real API for the first page; `bad` for the ones after it.
async fn serve_bad(bad: Bad) -> String {
    let handler = move |request: Request| async move {
        let later_page = request
            .uri()
            .query()
            .is_some_and(|q| q.contains("page_token="));
        let real = showcase_data_api::router(ApiSettings {
            sales_per_day: ROWS,
        });
        if !later_page {
            return real.oneshot(request.map(Body::new)).await.into_response();
        }
        match bad {
            Bad::Hang => {
                std::future::pending::<()>().await;
                unreachable!()
            }
            Bad::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response(),
            Bad::Truncated | Bad::WrongType => {
                let page = real.oneshot(request.map(Body::new)).await.into_response();
                let body = axum::body::to_bytes(page.into_body(), usize::MAX)
                    .await
                    .unwrap();
                let body = match bad {
                    Bad::Truncated => body.slice(..body.len() / 2).to_vec(),
                    _ => {
                        let mut page: serde_json::Value = serde_json::from_slice(&body).unwrap();
                        let row = page["rows"][0].as_object_mut().unwrap();
                        for value in row.values_mut() {
                            *value = serde_json::json!([]);
                        }
                        serde_json::to_vec(&page).unwrap()
                    }
                };
                Response::builder()
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap()
            }
        }
    };
    serve(Router::new().fallback(handler)).await
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_later_page_fails_naming_it_and_keeps_the_previous_object() {
    let request = ExtractRequest {
        date: "2024-05-01".parse().unwrap(),
        entity: Entity::Sales,
    };
    for bad in [Bad::Hang, Bad::Unavailable, Bad::Truncated, Bad::WrongType] {
        let dir = tempfile::tempdir().unwrap();
        let location = LakeLocation::Directory(dir.path().to_owned());
        let mut good = settings(&serve_api(ROWS).await, location.clone());
        good.page_size = PAGE_SIZE;
        Extractor::new(good).await.run(&request).await.unwrap();
        let object = dir.path().join("2024-05-01/sales.parquet");
        let before = std::fs::read(&object).unwrap();

        let mut failing = settings(&serve_bad(bad).await, location);
        failing.page_size = PAGE_SIZE;
        failing.retry = RetryPolicy {
            retries: 2,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            attempt_timeout: Duration::from_millis(300),
        };
        let started = Instant::now();
        let error = Extractor::new(failing)
            .await
            .run(&request)
            .await
            .unwrap_err();
        let took = started.elapsed();
        let url = match (&bad, &error) {
            (Bad::Hang, ExtractError::ApiUnreachable { url, attempts, .. }) => {
                assert_eq!(*attempts, 3, "one try and two retries: {error}");
                assert!(
                    took >= Duration::from_millis(900) && took < Duration::from_secs(10),
                    "three attempts of 300 ms: {took:?}"
                );
                url
            }
            (Bad::Unavailable, ExtractError::ApiStatus { url, attempts, .. }) => {
                assert_eq!(*attempts, 3, "{error}");
                url
            }
            (Bad::Truncated | Bad::WrongType, ExtractError::MalformedResponse { url, .. }) => url,
            _ => panic!("{bad:?}: unexpected {error:?}"),
        };
        assert!(
            url.contains("/sales?date=2024-05-01") && url.contains("page_token="),
            "{bad:?}: names the page: {error}"
        );
        assert!(
            error.to_string().contains("page_token="),
            "{bad:?}: the message names the page: {error}"
        );
        assert_eq!(
            std::fs::read(&object).unwrap(),
            before,
            "{bad:?}: the previous object is untouched"
        );
        assert_eq!(
            files(dir.path()),
            vec![object],
            "{bad:?}: nothing else left in the lake"
        );
    }
}
