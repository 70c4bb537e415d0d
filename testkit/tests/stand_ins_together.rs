//! The two stand-ins together, as the pipeline on AWS uses them: the real
//! extractor binary invoked through `Invoke` writes a day into moto's S3, and
//! the pipeline's own Redshift SQL (sql/setup, sql/redshift) loads it through
//! the Data API (tune.sql included). The loaded staging rows equal what the
//! local runner's decoding reads from the same objects.

use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_redshiftdata::types::StatusString;
use serde_json::{Value, json};
use showcase_testkit::{
    LambdaFunction, LambdaInvoke, MotoServer, Postgres, RedshiftData, cargo_bin, workspace_root,
};

const DAY: &str = "2024-03-01";
const SCHEMA: &str = "showcase";
const COPY_ROLE: &str = "arn:aws:iam::123456789012:role/showcase-copy";

/// A pipeline SQL file with the stack's names put in.
fn render(path: &str) -> String {
    let text = std::fs::read_to_string(workspace_root().join(path)).unwrap();
    let rendered = text
        .replace("{{ params.schema }}", SCHEMA)
        .replace("{{ params.lake_bucket }}", "lake")
        .replace("{{ params.lake_prefix }}", "prefix/")
        .replace("{{ params.copy_role_arn }}", COPY_ROLE)
        .replace("{{ ds }}", DAY);
    assert!(
        !rendered.contains("{{"),
        "{path} has a parameter this test does not know"
    );
    rendered
}

async fn run_sql(client: &aws_sdk_redshiftdata::Client, sql: String) {
    let id = client
        .execute_statement()
        .cluster_identifier("showcase-warehouse")
        .database("showcase")
        .sql(sql)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    loop {
        let described = client.describe_statement().id(&id).send().await.unwrap();
        match described.status() {
            Some(StatusString::Finished) => return,
            Some(StatusString::Failed | StatusString::Aborted) => {
                panic!("{:?}", described.error())
            }
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_extractor_lands_a_day_in_s3_and_copy_loads_it_as_the_local_runner_reads_it() {
    let extractor = tokio::task::spawn_blocking(|| cargo_bin("showcase-extractor", "extractor"))
        .await
        .unwrap();
    let moto = MotoServer::start();
    let config = moto.sdk_config("us-east-1").await;
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket("lake").send().await.unwrap();

    // The data API, served in this test.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let router = showcase_data_api::router(showcase_data_api::ApiSettings { sales_per_day: 700 });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let lambda = LambdaInvoke::new();
    moto.serve_lambda(&lambda);
    lambda.register(
        "showcase-extractor",
        LambdaFunction::new(&extractor)
            .env([
                ("API_BASE_URL", api.as_str()),
                ("LAKE_URL", "s3://lake/prefix/"),
            ])
            .timeout(Duration::from_secs(60)),
    );
    let functions = aws_sdk_lambda::Client::new(&config);
    for entity in ["sales", "products", "customers"] {
        let answer = functions
            .invoke()
            .function_name("showcase-extractor")
            .payload(Blob::new(
                json!({"date": DAY, "entity": entity}).to_string(),
            ))
            .send()
            .await
            .unwrap();
        let summary: Value = serde_json::from_slice(answer.payload().unwrap().as_ref()).unwrap();
        assert_eq!(
            answer.function_error(),
            None,
            "{summary}\n{}",
            lambda.log("showcase-extractor")
        );
        assert!(summary["rows"].as_u64().unwrap() > 0, "{summary}");
        let extension = if entity == "sales" { "parquet" } else { "csv" };
        assert_eq!(
            summary["keys"],
            json!([format!("s3://lake/prefix/{DAY}/{entity}.{extension}")])
        );
    }
    // A request the extractor refuses fails the invocation with its message.
    let refused = functions
        .invoke()
        .function_name("showcase-extractor")
        .payload(Blob::new(
            json!({"date": DAY, "entity": "orders"}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.function_error(), Some("Unhandled"));
    let error: Value = serde_json::from_slice(refused.payload().unwrap().as_ref()).unwrap();
    assert!(
        error["errorMessage"].as_str().unwrap().contains("orders"),
        "{error}"
    );

    // The warehouse: the pipeline's own Redshift SQL through the Data API.
    let postgres = Postgres::start();
    postgres.create_database("showcase").await;
    let warehouse = RedshiftData::new(&postgres.url("postgres"));
    moto.serve_redshift_data(&warehouse);
    let data_api = aws_sdk_redshiftdata::Client::new(&config);
    run_sql(&data_api, render("sql/setup/schema.sql")).await;
    // Redshift's physical design: checked against the tables, no change on PostgreSQL.
    run_sql(&data_api, render("sql/redshift/tune.sql")).await;
    for entity in ["sales", "products", "customers"] {
        run_sql(
            &data_api,
            render(&format!("sql/redshift/load_stage_{entity}.sql")),
        )
        .await;
    }

    // Sales: what the local runner's decoding (showcase_extractor::encode::read_sales) reads.
    let object = s3
        .get_object()
        .bucket("lake")
        .key(format!("prefix/{DAY}/sales.parquet"))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let mut expected: Vec<Vec<String>> = showcase_extractor::encode::read_sales(object)
        .unwrap()
        .map(|sale| {
            let sale = sale.unwrap();
            vec![
                sale.transaction_code,
                sale.date.to_string(),
                sale.product_id.to_string(),
                sale.customer_id.to_string(),
                sale.quantity_sold.to_string(),
                sale.revenue.to_string(),
            ]
        })
        .collect();
    expected.sort();
    let loaded = table(&postgres, "stage_sales").await;
    assert_eq!(loaded.len(), 700);
    assert_eq!(loaded, expected);

    // Dimensions: the CSV objects' records, header skipped.
    for entity in ["products", "customers"] {
        let object = s3
            .get_object()
            .bucket("lake")
            .key(format!("prefix/{DAY}/{entity}.csv"))
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes();
        let mut expected: Vec<Vec<String>> = csv::Reader::from_reader(object.as_ref())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        expected.sort();
        assert!(!expected.is_empty());
        assert_eq!(table(&postgres, &format!("stage_{entity}")).await, expected);
    }
}

/// Every row of a staging table as text (NULL as ""), sorted.
async fn table(postgres: &Postgres, name: &str) -> Vec<Vec<String>> {
    let client = postgres.connect("showcase").await;
    let mut rows: Vec<Vec<String>> = client
        .simple_query(&format!("SELECT * FROM {SCHEMA}.{name}"))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or_default().to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    rows.sort();
    rows
}
