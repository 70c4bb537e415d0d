//! The local pipeline on a real PostgreSQL: the warehouse's tables after
//! several days are compared with a model of what they must hold, computed in
//! Rust from the API's own data, independently of the SQL.

use std::collections::BTreeMap;
use std::path::Path;

use showcase_dataset::sales::SalesDay;
use showcase_dataset::{Cents, Customer, Day, Dimension, Product, Sale};
use showcase_deploy::local::postgres::LocalPostgres;
use showcase_deploy::local::warehouse::{Warehouse, WarehouseError};
use showcase_deploy::local::{LocalRunError, Pipeline};
use showcase_extractor::encode::{RowEncoder, SalesParquetEncoder};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

const ROWS: u64 = 300;

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

struct Harness {
    _dir: tempfile::TempDir,
    _cluster: LocalPostgres,
    lake: std::path::PathBuf,
    pipeline: Pipeline,
    sql: Client,
    schema: String,
}

async fn harness(schema: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalPostgres::start(&dir.path().join("pg")).unwrap();
    let lake = dir.path().join("lake");
    let warehouse = Warehouse::connect(&cluster.url(), schema).await.unwrap();
    let pipeline = Pipeline::start(ROWS, &lake, warehouse).await.unwrap();
    let (sql, connection) = tokio_postgres::connect(&cluster.url(), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    Harness {
        _dir: dir,
        _cluster: cluster,
        lake,
        pipeline,
        sql,
        schema: schema.to_owned(),
    }
}

impl Harness {
    async fn rows(&self, query: &str) -> Vec<Vec<String>> {
        let query = query.replace("{s}", &self.schema);
        self.sql
            .simple_query(&query)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e:?}"))
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Every table of the star schema, fully ordered.
    async fn dump(&self) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for (table, order) in [
            ("dim_date", "date_key"),
            ("dim_products", "product_key"),
            ("dim_customers", "customer_key"),
            ("fact_sales", "transaction_code"),
            ("fact_sales_aggregate", "date_key"),
            ("rejects", "entity, run_date, reason, record"),
            ("quality_runs", "run_date, entity"),
        ] {
            all.push(vec![format!("-- {table}")]);
            all.extend(
                self.rows(&format!("SELECT * FROM {{s}}.{table} ORDER BY {order}"))
                    .await,
            );
        }
        all
    }

    async fn star_schema(&self) -> Vec<Vec<String>> {
        self.dump()
            .await
            .into_iter()
            .take_while(|row| row[0] != "-- rejects")
            .collect()
    }
}

/// What the warehouse must hold, built from the data API's data.
#[derive(Default)]
struct Model {
    products: BTreeMap<u32, Option<Product>>,
    customers: BTreeMap<u32, Vec<CustomerVersion>>,
    facts: BTreeMap<String, (Sale, String)>,
}

#[derive(Clone, Debug)]
struct CustomerVersion {
    row: Option<Customer>,
    effective: String,
    expired: String,
    current: bool,
}

impl Model {
    fn run(&mut self, d: Day) {
        let sales: Vec<Sale> = SalesDay::new(d, ROWS).unwrap().rows(0..ROWS).collect();
        for product in Product::as_of(d) {
            self.products.insert(product.product_id, Some(product));
        }
        for sale in &sales {
            self.products.entry(sale.product_id).or_insert(None);
        }
        let day_before = Day::from_days_since_unix_epoch(d.days_since_unix_epoch() - 1)
            .unwrap()
            .to_string();
        for customer in Customer::as_of(d) {
            let versions = self.customers.entry(customer.customer_id).or_default();
            match versions.last_mut() {
                None => versions.push(CustomerVersion {
                    row: Some(customer),
                    effective: d.to_string(),
                    expired: "9999-12-31".into(),
                    current: true,
                }),
                Some(current) if current.row.is_none() => current.row = Some(customer),
                Some(current) if current.row.as_ref() != Some(&customer) => {
                    current.expired = day_before.clone();
                    current.current = false;
                    versions.push(CustomerVersion {
                        row: Some(customer),
                        effective: d.to_string(),
                        expired: "9999-12-31".into(),
                        current: true,
                    });
                }
                Some(_) => {}
            }
        }
        for sale in &sales {
            self.customers.entry(sale.customer_id).or_insert_with(|| {
                vec![CustomerVersion {
                    row: None,
                    effective: "1900-01-01".into(),
                    expired: "9999-12-31".into(),
                    current: true,
                }]
            });
        }
        for sale in sales {
            let version = self.customers[&sale.customer_id]
                .iter()
                .find(|v| {
                    v.effective.as_str() <= d.to_string().as_str()
                        && d.to_string().as_str() <= v.expired.as_str()
                })
                .map(|v| v.effective.clone())
                .unwrap();
            self.facts
                .insert(sale.transaction_code.clone(), (sale, version));
        }
    }
}

fn flag(value: bool) -> String {
    if value { "t".into() } else { "f".into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_days_match_an_independent_model() {
    let mut h = harness("scenario").await;
    let mut model = Model::default();
    let days: Vec<Day> = day("2024-03-01").through(day("2024-03-06")).collect();
    for d in &days {
        let outcome = h.pipeline.run_day(*d).await.unwrap();
        model.run(*d);
        assert_eq!(outcome.figures.facts_loaded, ROWS);
    }

    // Dimension: products, SCD1 (latest attributes; inferred rows have no attributes).
    let products = h.rows("SELECT product_id, product_name, category, product_rating, is_inferred FROM {s}.dim_products ORDER BY product_id").await;
    let expected: Vec<Vec<String>> = model
        .products
        .iter()
        .map(|(id, row)| match row {
            Some(p) => vec![
                id.to_string(),
                p.product_name.clone(),
                p.category.clone(),
                p.product_rating.to_string(),
                flag(false),
            ],
            None => vec![
                id.to_string(),
                "Unknown".into(),
                "Unknown".into(),
                "NULL".into(),
                flag(true),
            ],
        })
        .collect();
    assert_eq!(products, expected);

    // Dimension: customers, SCD2 history.
    let customers = h
        .rows("SELECT customer_id, company_name, industry, customer_satisfaction_rating, effective_date, expired_date, is_current, is_inferred FROM {s}.dim_customers ORDER BY customer_id, effective_date")
        .await;
    let expected: Vec<Vec<String>> = model
        .customers
        .iter()
        .flat_map(|(id, versions)| {
            versions.iter().map(move |v| {
                let (name, industry, rating) = match &v.row {
                    Some(c) => (
                        c.company_name.clone(),
                        c.industry.clone(),
                        c.customer_satisfaction_rating.to_string(),
                    ),
                    None => ("Unknown".into(), "Unknown".into(), "NULL".into()),
                };
                vec![
                    id.to_string(),
                    name,
                    industry,
                    rating,
                    v.effective.clone(),
                    v.expired.clone(),
                    flag(v.current),
                    flag(v.row.is_none()),
                ]
            })
        })
        .collect();
    assert_eq!(customers, expected);

    // The scenario must exercise what it claims to.
    let versioned = model.customers.values().filter(|v| v.len() > 1).count();
    assert!(versioned >= 3, "only {versioned} customers changed");
    let completed_late = h.rows("SELECT COUNT(*) FROM {s}.dim_customers WHERE effective_date = DATE '1900-01-01' AND NOT is_inferred").await;
    assert_ne!(
        completed_late[0][0], "0",
        "some inferred customer was completed in place"
    );
    let first = Product::as_of(days[0]);
    let last = Product::as_of(days[5]);
    assert!(
        first.iter().zip(&last).any(|(a, b)| a != b),
        "some product changed (SCD1 overwrite)"
    );

    // Facts: every sale, on the product and on the customer version valid that day.
    let facts = h
        .rows(
            "SELECT f.transaction_code, f.date_key, p.product_id, c.customer_id, c.effective_date, f.quantity_sold, f.revenue
             FROM {s}.fact_sales f JOIN {s}.dim_products p ON p.product_key = f.product_key
             JOIN {s}.dim_customers c ON c.customer_key = f.customer_key ORDER BY f.transaction_code",
        )
        .await;
    let expected: Vec<Vec<String>> = model
        .facts
        .values()
        .map(|(s, version)| {
            vec![
                s.transaction_code.clone(),
                s.date.compact(),
                s.product_id.to_string(),
                s.customer_id.to_string(),
                version.clone(),
                s.quantity_sold.to_string(),
                s.revenue.to_string(),
            ]
        })
        .collect();
    assert_eq!(facts.len(), days.len() * ROWS as usize);
    assert_eq!(facts, expected);

    // Gold: the aggregate equals the day's facts.
    let aggregate = h.rows("SELECT date_key, total_quantity, total_revenue, transaction_count FROM {s}.fact_sales_aggregate ORDER BY date_key").await;
    let expected: Vec<Vec<String>> = days
        .iter()
        .map(|d| {
            let day_sales: Vec<&Sale> = model
                .facts
                .values()
                .map(|(s, _)| s)
                .filter(|s| s.date == *d)
                .collect();
            let quantity: u64 = day_sales.iter().map(|s| u64::from(s.quantity_sold)).sum();
            let revenue = Cents(day_sales.iter().map(|s| s.revenue.0).sum());
            vec![
                d.compact(),
                quantity.to_string(),
                revenue.to_string(),
                day_sales.len().to_string(),
            ]
        })
        .collect();
    assert_eq!(aggregate, expected);
    let dates = h
        .rows("SELECT date_key, day_of_week, is_weekend FROM {s}.dim_date ORDER BY date_key")
        .await;
    assert_eq!(dates.len(), 6);
    assert_eq!(dates[1], ["20240302", "6", "t"], "2024-03-02 is a Saturday");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reruns_in_and_out_of_order_leave_every_table_identical() {
    let mut h = harness("reruns").await;
    for d in day("2024-03-01").through(day("2024-03-04")) {
        h.pipeline.run_day(d).await.unwrap();
    }
    let before = h.dump().await;
    h.pipeline.run_day(day("2024-03-04")).await.unwrap();
    assert_eq!(h.dump().await, before, "the same date twice");
    // Older dates after later ones: SCD2 history is never rewritten backwards.
    h.pipeline.run_day(day("2024-03-02")).await.unwrap();
    assert_eq!(h.dump().await, before, "an older date rerun");
    for d in day("2024-03-01").through(day("2024-03-04")) {
        h.pipeline.run_day(d).await.unwrap();
    }
    assert_eq!(h.dump().await, before, "the whole range twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_first_run_out_of_order_keep_history_consistent() {
    let mut h = harness("out_of_order").await;
    for d in ["2024-03-01", "2024-03-04", "2024-03-02", "2024-03-03"] {
        h.pipeline.run_day(day(d)).await.unwrap();
    }
    let current = h.rows("SELECT customer_id, COUNT(*) FROM {s}.dim_customers WHERE is_current GROUP BY customer_id HAVING COUNT(*) <> 1").await;
    assert!(
        current.is_empty(),
        "exactly one current version per customer: {current:?}"
    );
    let overlapping = h
        .rows(
            "SELECT a.customer_id FROM {s}.dim_customers a JOIN {s}.dim_customers b
             ON a.customer_id = b.customer_id AND a.customer_key < b.customer_key
             AND a.effective_date <= b.expired_date AND b.effective_date <= a.expired_date",
        )
        .await;
    assert!(
        overlapping.is_empty(),
        "versions never overlap: {overlapping:?}"
    );
    let facts = h
        .rows("SELECT COUNT(*), COUNT(DISTINCT date_key) FROM {s}.fact_sales")
        .await;
    assert_eq!(facts, [[(4 * ROWS).to_string(), "4".to_string()]]);
}

fn write_sales(path: &Path, sales: Vec<Sale>) {
    let mut encoder = SalesParquetEncoder::new().unwrap();
    let mut bytes = Vec::new();
    for sale in sales {
        encoder.push(sale).unwrap();
        bytes.extend(encoder.take_ready());
    }
    bytes.extend(encoder.finish().unwrap());
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_in_the_lake_are_removed_or_rejected_and_counted() {
    let mut h = harness("bad_data").await;
    let d = day("2024-03-01");
    h.pipeline.run_day(d).await.unwrap();
    let day_dir = h.lake.join("2024-03-01");

    let mut sales: Vec<Sale> = SalesDay::new(d, ROWS).unwrap().rows(0..ROWS).collect();
    let duplicate = sales[0].clone();
    let mut other_day = sales[1].clone();
    other_day.transaction_code = "TX-OTHER-DAY".into();
    other_day.date = day("2024-02-29");
    let mut same_code = sales[2].clone();
    same_code.quantity_sold += 1;
    sales.extend([duplicate, other_day, same_code]);
    write_sales(&day_dir.join("sales.parquet"), sales);

    let mut customers = std::fs::read_to_string(day_dir.join("customers.csv")).unwrap();
    let first_line = customers.lines().nth(1).unwrap().to_owned();
    customers.push_str(&format!(
        "{first_line}\nabc,Broken Id Ltd.,Technology,50\n77777,,Technology,50\n"
    ));
    std::fs::write(day_dir.join("customers.csv"), customers).unwrap();
    let mut products = std::fs::read_to_string(day_dir.join("products.csv")).unwrap();
    products.push_str("88888,Odd Widget,Gadgets,high\n");
    std::fs::write(day_dir.join("products.csv"), products).unwrap();

    let outcome = h.pipeline.reload_day(d).await.unwrap();
    let quality = h.rows("SELECT entity, rows_staged, duplicates_removed, rows_rejected, rows_clean FROM {s}.quality_runs ORDER BY entity").await;
    let products_total = Product::as_of(d).len();
    let customers_total = Customer::as_of(d).len();
    assert_eq!(
        quality,
        [
            vec![
                "customers".to_string(),
                (customers_total + 3).to_string(),
                "1".into(),
                "2".into(),
                customers_total.to_string()
            ],
            vec![
                "products".to_string(),
                (products_total + 1).to_string(),
                "0".into(),
                "1".into(),
                products_total.to_string()
            ],
            vec![
                "sales".to_string(),
                (ROWS + 3).to_string(),
                "1".into(),
                "2".into(),
                ROWS.to_string()
            ],
        ]
    );
    assert_eq!(outcome.figures.rejected, 5);
    assert_eq!(outcome.figures.duplicates_removed, 2);
    assert_eq!(
        outcome.figures.facts_loaded, ROWS,
        "facts hold exactly the clean sales"
    );
    let reasons = h.rows("SELECT entity, reason FROM {s}.rejects WHERE run_date = DATE '2024-03-01' ORDER BY entity, reason").await;
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r[0] == "sales" && r[1].contains("transaction_code")),
        "{reasons:?}"
    );
    let stray = h
        .rows("SELECT COUNT(*) FROM {s}.dim_customers WHERE customer_id = 77777")
        .await;
    assert_eq!(stray[0][0], "0");
}

/// While a day's SQL runs, the next day is extracted beside the lake; it
/// reaches the lake only when that day is run, and nothing is left behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_day_is_extracted_ahead_and_reaches_the_lake_only_when_run() {
    let mut h = harness("ahead").await;
    let lake = h.lake.clone();
    let days_in_lake = || {
        let mut days: Vec<String> = std::fs::read_dir(&lake)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        days.sort();
        days
    };
    // Told nothing about the days to come, the pipeline guesses none.
    h.pipeline.run_day(day("2024-02-28")).await.unwrap();
    assert_eq!(h.pipeline.extracting_ahead(), None);
    std::fs::remove_dir_all(lake.join("2024-02-28")).unwrap();
    h.pipeline.will_run_through(day("2024-03-05"));
    h.pipeline.run_day(day("2024-03-01")).await.unwrap();
    assert_eq!(h.pipeline.extracting_ahead(), Some(day("2024-03-02")));
    assert_eq!(days_in_lake(), ["2024-03-01"]);
    let second = h.pipeline.run_day(day("2024-03-02")).await.unwrap();
    assert_eq!(h.pipeline.extracting_ahead(), Some(day("2024-03-03")));
    assert_eq!(days_in_lake(), ["2024-03-01", "2024-03-02"]);
    assert_eq!(second.figures.facts_loaded, ROWS);
    for summary in &second.extracted {
        let file = Path::new(&summary.keys[0]);
        assert!(file.starts_with(&lake) && file.is_file(), "{summary:?}");
    }
    // Not the day extracted ahead (2024-03-03): that one is thrown away.
    h.pipeline.run_day(day("2024-03-05")).await.unwrap();
    assert_eq!(days_in_lake(), ["2024-03-01", "2024-03-02", "2024-03-05"]);
    // The last day named: nothing after it is extracted.
    assert_eq!(h.pipeline.extracting_ahead(), None);
    let parent = lake.parent().unwrap().to_owned();
    let Harness { pipeline, .. } = h;
    drop(pipeline);
    let left: Vec<String> = std::fs::read_dir(&parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("prefetch"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Rows a Parquet file cannot hold (NULLs) and every way rows can collide,
/// straight into staging: quality_sales decides each as sql/README.md says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_sales_decides_every_kind_of_bad_or_colliding_row() {
    use showcase_deploy::pipeline::files;
    let dir = tempfile::tempdir().unwrap();
    let cluster = LocalPostgres::start(&dir.path().join("pg")).unwrap();
    let mut warehouse = Warehouse::connect(&cluster.url(), "edges").await.unwrap();
    let (sql, connection) = tokio_postgres::connect(&cluster.url(), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let d = day("2024-01-05");
    warehouse.run_sql(&files::SCHEMA, d).await.unwrap();
    sql.batch_execute(
        "INSERT INTO edges.stage_sales VALUES
           ('A', DATE '2024-01-05', 1, 1, 1, 1.00),
           ('A', DATE '2024-01-05', 1, 1, 1, 1.00),
           ('A', DATE '2024-01-05', 1, 1, 1, 1.00),
           ('B', DATE '2024-01-05', 1, 1, 2, 1.00),
           ('B', DATE '2024-01-05', 1, 1, 1, 1.00),
           ('B', DATE '2024-01-05', 1, 1, 3, NULL),
           ('C', DATE '2024-01-05', 1, 1, -1, 1.00),
           ('C', DATE '2024-01-05', 1, 1, -1, 1.00),
           ('C', DATE '2024-01-05', 1, 1, 5, 1.00),
           (NULL, DATE '2024-01-05', 1, 1, 1, 1.00),
           (NULL, DATE '2024-01-05', 1, 1, 1, 1.00),
           ('  ', DATE '2024-01-05', 1, 1, 1, 1.00),
           ('E', DATE '2024-01-04', 1, 1, 1, 1.00),
           ('F', DATE '2024-01-05', NULL, 1, 1, 1.00),
           ('G', DATE '2024-01-05', 1, 1, 1, -0.01),
           ('H', DATE '2024-01-05', 2, 2, 2, 2.00)",
    )
    .await
    .unwrap();
    let rows = |query: &'static str| {
        let sql = &sql;
        async move {
            sql.simple_query(query)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                            .collect::<Vec<_>>()
                            .join("|"),
                    ),
                    _ => None,
                })
                .collect::<Vec<String>>()
        }
    };
    let staged = "SELECT * FROM edges.stage_sales ORDER BY 1, 2, 3, 4, 5, 6";
    let runs =
        "SELECT rows_staged, duplicates_removed, rows_rejected, rows_clean FROM edges.quality_runs";
    let kept = [
        "A|2024-01-05|1|1|1|1.00",
        "B|2024-01-05|1|1|1|1.00",
        "C|2024-01-05|1|1|5|1.00",
        "H|2024-01-05|2|2|2|2.00",
    ];
    warehouse.run_sql(&files::QUALITY_SALES, d).await.unwrap();
    assert_eq!(rows(staged).await, kept);
    // 16 staged, 12 distinct (4 copies collapsed), 8 rejected, 4 kept.
    assert_eq!(rows(runs).await, ["16|4|8|4"]);
    assert_eq!(
        rows("SELECT reason, record FROM edges.rejects ORDER BY reason, record").await,
        [
            "duplicate transaction_code|B,2024-01-05,1,1,2,1.00",
            "missing product_id|F,2024-01-05,,1,1,1.00",
            "missing revenue|B,2024-01-05,1,1,3,",
            "missing transaction_code|  ,2024-01-05,1,1,1,1.00",
            "missing transaction_code|,2024-01-05,1,1,1,1.00",
            "negative quantity_sold|C,2024-01-05,1,1,-1,1.00",
            "negative revenue|G,2024-01-05,1,1,1,-0.01",
            "sale_date is not the run date|E,2024-01-04,1,1,1,1.00",
        ]
    );
    warehouse
        .check(&files::CHECK_SALES, d)
        .await
        .expect("the checks pass on what quality kept");
    // Again on the cleaned staging: nothing more is removed, nothing changes.
    warehouse.run_sql(&files::QUALITY_SALES, d).await.unwrap();
    assert_eq!(rows(staged).await, kept);
    assert_eq!(rows(runs).await, ["4|0|0|4"]);
    assert_eq!(rows("SELECT COUNT(*) FROM edges.rejects").await, ["0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_stops_the_run_before_dimensions_and_facts() {
    let mut h = harness("hard_fail").await;
    h.pipeline.run_day(day("2024-03-01")).await.unwrap();
    let before = h.star_schema().await;
    // 2024-03-02 arrives with dimension files but not a single sale.
    let from = h.lake.join("2024-03-01");
    let to = h.lake.join("2024-03-02");
    std::fs::create_dir_all(&to).unwrap();
    for file in ["products.csv", "customers.csv"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    write_sales(&to.join("sales.parquet"), Vec::new());
    let error = h.pipeline.reload_day(day("2024-03-02")).await.unwrap_err();
    match &error {
        LocalRunError::Warehouse {
            task: "check_sales",
            source: WarehouseError::CheckFailed { failed, .. },
            ..
        } => {
            assert!(failed.contains(&"has_sales_rows".to_string()), "{failed:?}");
        }
        other => panic!("expected check_sales to fail, got {other}"),
    }
    assert!(error.to_string().contains("has_sales_rows"), "{error}");
    assert_eq!(
        h.star_schema().await,
        before,
        "dimensions and facts untouched"
    );
}

/// What runs on Redshift is `files::ALL`: every file under sql/ but the
/// PostgreSQL-only ones in sql/postgres/, which the local runner alone runs.
#[test]
fn only_sql_postgres_is_left_out_of_what_runs_on_redshift() {
    use showcase_deploy::pipeline::files;
    let root = showcase_testkit::workspace_root().join("sql");
    let mut on_disk = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") {
                let relative = path.strip_prefix(&root).unwrap().to_str().unwrap();
                on_disk.push(relative.replace('\\', "/"));
            }
        }
    }
    on_disk.sort();
    let (postgres, redshift): (Vec<String>, Vec<String>) = on_disk
        .into_iter()
        .partition(|p| p.starts_with("postgres/"));
    let mut all: Vec<String> = files::ALL.iter().map(|f| f.path.to_owned()).collect();
    all.sort();
    assert_eq!(redshift, all);
    assert_eq!(postgres, [files::POSTGRES_TUNE.path]);
}

#[test]
fn every_sql_file_parses_as_redshift() {
    use showcase_deploy::pipeline::{SqlParams, files, render};
    let dir = tempfile::tempdir().unwrap();
    let params = SqlParams {
        ds: day("2024-01-05"),
        schema: "showcase_data_pipeline".into(),
        lake_bucket: "showcase-lake".into(),
        lake_prefix: "raw/".into(),
        copy_role_arn: "arn:aws:iam::123456789012:role/showcase-copy".into(),
    };
    for file in files::ALL {
        let path = dir.path().join(file.path.replace('/', "__"));
        std::fs::write(&path, render(&file, &params).unwrap()).unwrap();
    }
    // One run over the directory: sqlfluff exits non-zero if any file has an unparsable section.
    let output = std::process::Command::new(showcase_testkit::tool("sqlfluff"))
        .args(["parse", "--dialect", "redshift"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sqlfluff could not parse:\n{}",
        text.lines()
            .filter(|l| l.contains("unparsable") || l.contains("PRS") || l.contains("=="))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(!text.contains("unparsable"), "{text}");
    let parsed = text
        .lines()
        .filter(|l| l.trim_end().ends_with("|file:"))
        .count();
    assert_eq!(parsed, files::ALL.len(), "every file was parsed");
}
