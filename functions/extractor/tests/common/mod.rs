//! Shared setup: the real data API on localhost, moto's S3, and readers for
//! the lake files that go through the file formats, not through our encoders.

#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, RowAccessor};
use showcase_data_api::ApiSettings;
use showcase_dataset::{Cents, Customer, Day, Product, Sale};
use showcase_extractor::lake::Lake;
use showcase_extractor::{ExtractorSettings, KeyLayout, LakeLocation, RetryPolicy};

pub const TEST_PART_SIZE: usize = 256 * 1024;

pub fn moto() -> showcase_testkit::MotoServer {
    showcase_testkit::MotoServer::start_with_env(&[(
        "S3_UPLOAD_PART_MIN_SIZE",
        &TEST_PART_SIZE.to_string(),
    )])
}

/// Serves `router` on a free local port; returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

pub async fn serve_api(sales_per_day: u64) -> String {
    serve(showcase_data_api::router(ApiSettings { sales_per_day })).await
}

pub async fn s3_client(moto: &showcase_testkit::MotoServer) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::new(&moto.sdk_config("us-east-1").await)
}

pub fn settings(api: &str, lake: LakeLocation) -> ExtractorSettings {
    ExtractorSettings {
        api_base_url: api.to_owned(),
        api_key: None,
        api_key_parameter: None,
        lake,
        layout: KeyLayout::default(),
        page_size: 10_000,
        retry: RetryPolicy {
            retries: 3,
            first_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
    }
}

pub fn s3_lake(client: &aws_sdk_s3::Client, bucket: &str) -> Lake {
    // Small parts (moto is started with a matching minimum) so that a few MB
    // of test data exercise the multipart path: several parts, complete, abort.
    Lake::S3 {
        client: client.clone(),
        bucket: bucket.to_owned(),
        prefix: "raw/".to_owned(),
        part_size: TEST_PART_SIZE,
    }
}

pub async fn get_object(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Bytes> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    Some(object.body.collect().await.unwrap().into_bytes())
}

/// All rows of a day straight from the data API, page by page.
pub async fn api_rows<R: serde::de::DeserializeOwned>(api: &str, entity: &str, day: Day) -> Vec<R> {
    let client = reqwest_like_get();
    let mut rows = Vec::new();
    let mut token = String::new();
    loop {
        let url = format!("{api}/{entity}?date={day}&limit=20000{token}");
        let page: serde_json::Value = client(&url).await;
        rows.extend(serde_json::from_value::<Vec<R>>(page["rows"].clone()).unwrap());
        match page["next_page_token"].as_str() {
            Some(next) => token = format!("&page_token={next}"),
            None => return rows,
        }
    }
}

fn reqwest_like_get()
-> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = serde_json::Value> + Send>> {
    |url: &str| {
        let url = url.to_owned();
        Box::pin(async move {
            // A raw HTTP/1.1 GET keeps the check independent of the extractor's client.
            let without_scheme = url.trim_start_matches("http://");
            let (host, path) = without_scheme.split_once('/').unwrap();
            let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            stream
                .write_all(
                    format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                        .as_bytes(),
                )
                .await
                .unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            serde_json::from_slice(&response[split..]).unwrap()
        })
    }
}

/// Reads a sales Parquet file back with parquet's generic row reader, and checks
/// the column types Redshift's COPY relies on.
pub fn read_sales_parquet(bytes: Bytes) -> Vec<Sale> {
    let reader = SerializedFileReader::new(bytes).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let columns: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| {
            format!(
                "{} {:?} {:?}",
                c.name(),
                c.physical_type(),
                c.logical_type_ref()
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            "transaction_code BYTE_ARRAY Some(String)",
            "sale_date INT32 Some(Date)",
            "product_id INT32 None",
            "customer_id INT32 None",
            "quantity_sold INT32 None",
            "revenue FIXED_LEN_BYTE_ARRAY Some(Decimal(DecimalType { scale: 2, precision: 12 }))",
        ]
    );
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            let row = row.unwrap();
            let days = match row.get_column_iter().nth(1).unwrap().1 {
                Field::Date(days) => *days,
                other => panic!("sale_date is {other:?}"),
            };
            let date = Day::from_days_since_unix_epoch(days).unwrap();
            let decimal = row.get_decimal(5).unwrap();
            assert_eq!((decimal.precision(), decimal.scale()), (12, 2));
            let data = decimal.data();
            let mut wide = [if data[0] & 0x80 != 0 { 0xFF } else { 0 }; 8];
            wide[8 - data.len()..].copy_from_slice(data);
            Sale {
                transaction_code: row.get_string(0).unwrap().clone(),
                date,
                product_id: row.get_int(2).unwrap() as u32,
                customer_id: row.get_int(3).unwrap() as u32,
                quantity_sold: row.get_int(4).unwrap() as u32,
                revenue: Cents(i64::from_be_bytes(wide)),
            }
        })
        .collect()
}

pub fn read_products_csv(bytes: &[u8]) -> Vec<Product> {
    let mut reader = csv::Reader::from_reader(bytes);
    assert_eq!(
        reader.headers().unwrap(),
        vec!["product_id", "product_name", "category", "product_rating"]
    );
    reader.deserialize().map(Result::unwrap).collect()
}

pub fn read_customers_csv(bytes: &[u8]) -> Vec<Customer> {
    let mut reader = csv::Reader::from_reader(bytes);
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "customer_id",
            "company_name",
            "industry",
            "customer_satisfaction_rating"
        ]
    );
    reader.deserialize().map(Result::unwrap).collect()
}
