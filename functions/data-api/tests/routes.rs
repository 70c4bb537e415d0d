//! Every route and every client mistake, through the same Router the Lambda runs.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use showcase_data_api::{ApiSettings, MAX_PAGE_SIZE, router};
use tower::ServiceExt;

async fn call(settings: ApiSettings, method: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let response = router(settings).oneshot(request).await.unwrap();
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "{uri}"
    );
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, body.to_vec())
}

async fn get_json(uri: &str) -> (StatusCode, Value) {
    let (status, body) = call(ApiSettings::default(), "GET", uri).await;
    (status, serde_json::from_slice(&body).unwrap())
}

async fn all_pages(settings: &ApiSettings, path: &str, limit: u64) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let uri = match &token {
            Some(t) => format!("{path}{sep}limit={limit}&page_token={t}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let (status, body) = call(settings.clone(), "GET", &uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let page: Value = serde_json::from_slice(&body).unwrap();
        let page_rows = page["rows"].as_array().unwrap();
        assert!(page_rows.len() as u64 <= limit);
        rows.extend(page_rows.iter().cloned());
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return rows,
        }
    }
}

#[tokio::test]
async fn sales_for_a_day_have_the_documented_shape() {
    let (status, page) = get_json("/sales?date=2024-03-05").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["entity"], "sales");
    assert_eq!(page["date"], "2024-03-05");
    assert_eq!(page["total_rows"], 50);
    assert_eq!(page["next_page_token"], Value::Null);
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 50);
    let mut codes = std::collections::BTreeSet::new();
    for row in rows {
        let fields: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(fields.len(), 6, "{row}");
        assert_eq!(row["date"], "2024-03-05");
        assert!(row["product_id"].as_u64().unwrap() >= 1);
        assert!(row["customer_id"].as_u64().unwrap() >= 1);
        assert!((1..=20).contains(&row["quantity_sold"].as_u64().unwrap()));
        let revenue = row["revenue"].as_str().unwrap();
        let (_, cents) = revenue.split_once('.').unwrap();
        assert_eq!(cents.len(), 2, "revenue {revenue} has two decimals");
        assert!(codes.insert(row["transaction_code"].as_str().unwrap().to_owned()));
    }
}

#[tokio::test]
async fn same_day_is_byte_identical_and_days_differ() {
    let settings = ApiSettings { sales_per_day: 500 };
    let (_, first) = call(settings.clone(), "GET", "/sales?date=2024-03-05").await;
    let (_, again) = call(settings.clone(), "GET", "/sales?date=2024-03-05").await;
    let (_, next_day) = call(settings.clone(), "GET", "/sales?date=2024-03-06").await;
    assert_eq!(first, again);
    assert_ne!(first, next_day);
    let (_, products) = call(settings.clone(), "GET", "/products?date=2024-03-05").await;
    let (_, products_again) = call(settings, "GET", "/products?date=2024-03-05").await;
    assert_eq!(products, products_again);
}

#[tokio::test]
async fn pages_concatenate_to_the_whole_day() {
    let settings = ApiSettings { sales_per_day: 103 };
    let (_, whole) = call(settings.clone(), "GET", "/sales?date=2024-04-01&limit=1000").await;
    let whole: Value = serde_json::from_slice(&whole).unwrap();
    let paged = all_pages(&settings, "/sales?date=2024-04-01", 10).await;
    assert_eq!(&paged, whole["rows"].as_array().unwrap());
    assert_eq!(paged.len(), 103);
    let customers = all_pages(&settings, "/customers?date=2024-04-01", 7).await;
    let (_, all_customers) = get_json("/customers?date=2024-04-01").await;
    assert_eq!(&customers, all_customers["rows"].as_array().unwrap());
}

#[tokio::test]
async fn a_million_row_day_pages_under_five_megabytes() {
    let settings = ApiSettings {
        sales_per_day: 1_000_000,
    };
    let (status, body) = call(
        settings.clone(),
        "GET",
        &format!("/sales?date=2025-01-01&limit={MAX_PAGE_SIZE}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.len() < 5 * 1024 * 1024,
        "a full page is {} bytes",
        body.len()
    );
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["total_rows"], 1_000_000);
    assert!(page["next_page_token"].is_string());
    let last_token = page["next_page_token"].as_str().unwrap();
    // The last row of the day is reachable by offset, without generating the rows before it.
    let (_, default_page) = call(
        settings,
        "GET",
        &format!("/sales?date=2025-01-01&limit={MAX_PAGE_SIZE}&page_token={last_token}"),
    )
    .await;
    let second: Value = serde_json::from_slice(&default_page).unwrap();
    assert_eq!(second["rows"][0]["transaction_code"], "TX20250101-0020001");
}

#[tokio::test]
async fn dimensions_grow_and_change_with_the_date() {
    let (status, early) = get_json("/products?date=2024-01-01").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(early["total_rows"], 30);
    assert_eq!(early["rows"][0]["product_name"], "QuantumBlaze Tablet");
    let (_, later) = get_json("/products?date=2024-02-01").await;
    assert!(later["total_rows"].as_u64().unwrap() > 30);
    let (_, customers) = get_json("/customers?date=2024-02-01").await;
    assert_eq!(customers["rows"][0]["customer_id"], 1);
    assert!(customers["rows"][0]["company_name"].is_string());
    let (status, today) = get_json("/customers").await;
    assert_eq!(status, StatusCode::OK, "date defaults to today");
    assert!(today["total_rows"].as_u64().unwrap() >= customers["total_rows"].as_u64().unwrap());
}

async fn assert_bad_request(uri: &str, parameter: &str) {
    let (status, body) = get_json(uri).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
    assert_eq!(body["error"], "bad_request", "{uri}");
    assert_eq!(body["parameter"], parameter, "{uri}: {body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert!(!body["allowed"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn client_mistakes_are_400_naming_the_parameter() {
    assert_bad_request("/sales", "date").await;
    assert_bad_request("/sales?date=2024-13-01", "date").await;
    assert_bad_request("/sales?date=01/02/2024", "date").await;
    assert_bad_request("/sales?date=1999-12-31", "date").await;
    assert_bad_request("/products?date=tomorrow", "date").await;
    assert_bad_request("/sales?date=2024-01-01&limit=0", "limit").await;
    assert_bad_request(
        &format!("/sales?date=2024-01-01&limit={}", MAX_PAGE_SIZE + 1),
        "limit",
    )
    .await;
    assert_bad_request("/sales?date=2024-01-01&limit=ten", "limit").await;
    assert_bad_request("/sales?date=2024-01-01&limit=-5", "limit").await;
    assert_bad_request(
        "/sales?date=2024-01-01&page_token=not-a-token",
        "page_token",
    )
    .await;
    assert_bad_request("/sales?date=2024-01-01&page_token=%FF%FE", "page_token").await;
    assert_bad_request("/customers?colour=red", "colour").await;
    assert_bad_request("/sales?date=2024-01-01&date=2024-01-02", "date").await;
}

#[tokio::test]
async fn a_page_token_cannot_be_reused_for_another_query() {
    let settings = ApiSettings { sales_per_day: 30 };
    let (_, body) = call(settings.clone(), "GET", "/sales?date=2024-01-01&limit=10").await;
    let token = serde_json::from_slice::<Value>(&body).unwrap()["next_page_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for uri in [
        format!("/sales?date=2024-01-02&page_token={token}"),
        format!("/products?date=2024-01-01&page_token={token}"),
    ] {
        let (status, body) = call(settings.clone(), "GET", &uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["parameter"],
            "page_token"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json_errors() {
    let (status, body) = get_json("/orders").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert!(body["allowed"].as_str().unwrap().contains("/sales"));
    let (status, body) = call(ApiSettings::default(), "POST", "/sales?date=2024-01-01").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"],
        "method_not_allowed"
    );
}
