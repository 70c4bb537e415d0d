//! A lake object corrupted by hand (a Parquet file cut in half, a CSV row
//! whose quote is never closed, bytes that are not UTF-8 in a CSV) is refused by the load
//! that reads it: the day fails at that entity's `load_stage_*` task naming
//! the lake key, and no table is half-loaded — that staging table keeps what
//! it held (its TRUNCATE and COPY are one transaction), and the dimensions,
//! facts, aggregate, rejects and quality runs are what the last good run
//! left, row for row. On a real PostgreSQL, through the local runner.

use showcase_dataset::Day;
use showcase_deploy::local::postgres::LocalPostgres;
use showcase_deploy::local::warehouse::{Warehouse, WarehouseError};
use showcase_deploy::local::{LocalRunError, Pipeline};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

const ROWS: u64 = 200;

async fn rows(sql: &Client, query: &str) -> Vec<String> {
    sql.simple_query(query)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e:?}"))
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL"))
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            _ => None,
        })
        .collect()
}

/// Every table the load must not half-change, fully ordered.
async fn tables(sql: &Client, stage: &str) -> Vec<String> {
    let mut all = Vec::new();
    for table in [
        "dim_date",
        "dim_products",
        "dim_customers",
        "fact_sales",
        "fact_sales_aggregate",
        "rejects",
        "quality_runs",
        stage,
    ] {
        all.push(format!("-- {table}"));
        let mut table_rows = rows(sql, &format!("SELECT t::text FROM corrupt.{table} t")).await;
        table_rows.sort();
        all.extend(table_rows);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_lake_object_fails_its_load_naming_the_key_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalPostgres::start(&dir.path().join("pg")).unwrap();
    let lake = dir.path().join("lake");
    let warehouse = Warehouse::connect(&cluster.url(), "corrupt").await.unwrap();
    let mut pipeline = Pipeline::start(ROWS, &lake, warehouse).await.unwrap();
    let (sql, connection) = tokio_postgres::connect(&cluster.url(), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let d1: Day = "2024-03-01".parse().unwrap();
    let d2: Day = "2024-03-02".parse().unwrap();
    pipeline.run_day(d1).await.unwrap();
    pipeline.run_day(d2).await.unwrap();

    type Corrupt = fn(&[u8]) -> Vec<u8>;
    let cases: [(&str, &str, &str, Corrupt); 3] = [
        (
            "sales.parquet",
            "stage_sales",
            "load_stage_sales",
            |bytes| bytes[..bytes.len() / 2].to_vec(),
        ),
        (
            "customers.csv",
            "stage_customers",
            "load_stage_customers",
            |bytes| {
                let mut text = bytes.to_vec();
                // A quote never closed: the rest of the file is one field.
                text.extend_from_slice(b"1,\"Smith, J\n");
                text
            },
        ),
        (
            "products.csv",
            "stage_products",
            "load_stage_products",
            |bytes| {
                // Bytes that are not UTF-8 half-way through (a file overwritten
                // by a binary): a row with a wrong value is quality's to reject,
                // this no load can read.
                let mut junk = bytes[..bytes.len() / 2].to_vec();
                junk.extend_from_slice(&[0xff, 0xfe, 0x00, 0x81]);
                junk.extend_from_slice(&bytes[bytes.len() / 2..]);
                junk
            },
        ),
    ];
    for (file, stage, task, corrupt) in cases {
        let key = format!("2024-03-02/{file}");
        let path = lake.join(&key);
        let good = std::fs::read(&path).unwrap();
        let before = tables(&sql, stage).await;
        std::fs::write(&path, corrupt(&good)).unwrap();

        let error = pipeline
            .reload_day(d2)
            .await
            .expect_err(&format!("{file} corrupted"));
        match &error {
            LocalRunError::Warehouse {
                task: failed,
                source: WarehouseError::Load { path: named, .. },
                ..
            } => {
                assert_eq!(*failed, task, "{error}");
                assert!(named.ends_with(&key), "names the key: {error}");
            }
            other => panic!("{file}: expected {task} to fail, got {other}"),
        }
        assert!(error.to_string().contains(&key), "{error}");
        assert_eq!(
            tables(&sql, stage).await,
            before,
            "{file}: no table half-loaded"
        );
        // Put right, the day loads again.
        std::fs::write(&path, &good).unwrap();
        pipeline.reload_day(d2).await.unwrap();
    }
}
