//! The Redshift Data API stand-in, driven by the real AWS SDK client through
//! moto's front: statements run on a throwaway PostgreSQL, COPY reads moto's S3.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::{Field, SqlParameter, StatusString};
use showcase_testkit::{MotoServer, Postgres, RedshiftData, RedshiftDataSettings};

const CLUSTER: &str = "showcase-warehouse";
const DATABASE: &str = "showcase";

struct Setup {
    moto: MotoServer,
    postgres: Postgres,
    stand_in: RedshiftData,
    client: Client,
}

async fn setup_with(settings: RedshiftDataSettings) -> Setup {
    let moto = MotoServer::start();
    let postgres = Postgres::start();
    postgres.create_database(DATABASE).await;
    let stand_in = RedshiftData::with_settings(&postgres.url("postgres"), settings);
    moto.serve_redshift_data(&stand_in);
    let client = Client::new(&moto.sdk_config("us-east-1").await);
    Setup {
        moto,
        postgres,
        stand_in,
        client,
    }
}

async fn setup() -> Setup {
    setup_with(RedshiftDataSettings::default()).await
}

/// Polls DescribeStatement until the statement ends; returns the statuses seen and the last answer.
async fn wait(client: &Client, id: &str) -> (Vec<String>, DescribeStatementOutput) {
    let mut seen: Vec<String> = Vec::new();
    for _ in 0..3000 {
        let described = client.describe_statement().id(id).send().await.unwrap();
        let status = described.status().unwrap().as_str().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if matches!(status.as_str(), "FINISHED" | "FAILED" | "ABORTED") {
            return (seen, described);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("statement {id} never ended: {seen:?}");
}

async fn execute(client: &Client, sql: &str) -> DescribeStatementOutput {
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .db_user("admin")
        .sql(sql)
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    wait(client, &id).await.1
}

async fn batch(client: &Client, sqls: &[&str]) -> DescribeStatementOutput {
    let mut request = client
        .batch_execute_statement()
        .workgroup_name("showcase-workgroup")
        .database(DATABASE)
        .secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:x");
    for sql in sqls {
        request = request.sqls(*sql);
    }
    let id = request.send().await.unwrap().id().unwrap().to_owned();
    wait(client, &id).await.1
}

fn finished(described: &DescribeStatementOutput) {
    assert_eq!(
        described.status(),
        Some(&StatusString::Finished),
        "{:?}",
        described.error()
    );
}

/// The rows of `sql`, each value as PostgreSQL prints it (NULL as "NULL").
async fn rows(postgres: &Postgres, sql: &str) -> Vec<Vec<String>> {
    let client = postgres.connect(DATABASE).await;
    client
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_runs_asynchronously_and_returns_typed_records() {
    let setup = setup_with(RedshiftDataSettings {
        min_running: Duration::from_millis(300),
        ..RedshiftDataSettings::default()
    })
    .await;
    let client = &setup.client;
    finished(
        &execute(
            client,
            "CREATE TABLE sales (id BIGINT NOT NULL, code VARCHAR(16), revenue DECIMAL(12,2), \
             ok BOOLEAN, ratio DOUBLE PRECISION, day DATE, small SMALLINT)",
        )
        .await,
    );
    let inserted = execute(
        client,
        "INSERT INTO sales VALUES (1, 'a''b', 12.50, true, 0.25, '2024-03-01', 7), \
         (2, NULL, -0.05, false, NULL, NULL, NULL)",
    )
    .await;
    finished(&inserted);
    assert_eq!(inserted.result_rows(), 2);
    assert_eq!(inserted.has_result_set(), Some(false));

    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .sql("SELECT * FROM sales ORDER BY id")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (seen, described) = wait(client, &id).await;
    assert_eq!(seen.last().map(String::as_str), Some("FINISHED"));
    assert!(seen.contains(&"STARTED".to_owned()), "{seen:?}");
    assert_eq!(described.has_result_set(), Some(true));
    assert_eq!(described.result_rows(), 2);
    assert_eq!(described.cluster_identifier(), Some(CLUSTER));
    assert_eq!(
        described.query_string(),
        Some("SELECT * FROM sales ORDER BY id")
    );
    assert!(described.duration() > 0);
    assert!(described.redshift_pid() > 0);

    let result = client.get_statement_result().id(&id).send().await.unwrap();
    assert_eq!(result.total_num_rows(), 2);
    assert_eq!(result.next_token(), None);
    let names: Vec<(&str, &str)> = result
        .column_metadata()
        .iter()
        .map(|c| (c.name().unwrap(), c.type_name().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("id", "int8"),
            ("code", "varchar"),
            ("revenue", "numeric"),
            ("ok", "bool"),
            ("ratio", "float8"),
            ("day", "date"),
            ("small", "int2")
        ]
    );
    let revenue = &result.column_metadata()[2];
    assert_eq!((revenue.precision(), revenue.scale()), (12, 2));
    assert_eq!(result.column_metadata()[0].table_name(), Some("sales"));
    assert_eq!(result.column_metadata()[0].nullable(), 0);
    assert_eq!(
        result.records()[0],
        [
            Field::LongValue(1),
            Field::StringValue("a'b".into()),
            Field::StringValue("12.50".into()),
            Field::BooleanValue(true),
            Field::DoubleValue(0.25),
            Field::StringValue("2024-03-01".into()),
            Field::LongValue(7),
        ]
    );
    assert_eq!(
        result.records()[1],
        [
            Field::LongValue(2),
            Field::IsNull(true),
            Field::StringValue("-0.05".into()),
            Field::BooleanValue(false),
            Field::IsNull(true),
            Field::IsNull(true),
            Field::IsNull(true),
        ]
    );
    // What the client sent is on record.
    let records = setup.stand_in.statements();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].db_user.as_deref(), Some("admin"));
    assert!(records.iter().all(|r| r.status == "FINISHED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_parameters_are_bound_and_a_failure_carries_postgresql_s_error() {
    let setup = setup().await;
    let client = &setup.client;
    let parameter = |name: &str, value: &str| {
        SqlParameter::builder()
            .name(name)
            .value(value)
            .build()
            .unwrap()
    };
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .sql("SELECT :day::date + 1 AS next_day, :name AS name, 41 + :n AS answer, ':day' AS kept")
        .parameters(parameter("day", "2024-02-28"))
        .parameters(parameter("name", "O'Brien"))
        .parameters(parameter("n", "1"))
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (_, described) = wait(client, &id).await;
    finished(&described);
    assert_eq!(described.query_parameters().len(), 3);
    let result = client.get_statement_result().id(&id).send().await.unwrap();
    assert_eq!(
        result.records()[0],
        [
            Field::StringValue("2024-02-29".into()),
            Field::StringValue("O'Brien".into()),
            Field::LongValue(42),
            Field::StringValue(":day".into()),
        ]
    );

    // As on Redshift: parameters go with one statement only.
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .sql("SELECT :n; SELECT 2")
        .parameters(parameter("n", "1"))
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (_, described) = wait(client, &id).await;
    assert_eq!(described.status(), Some(&StatusString::Failed));
    assert!(
        described
            .error()
            .unwrap()
            .contains("cannot insert multiple commands into a prepared statement")
    );

    let failed = execute(client, "SELECT * FROM no_such_table").await;
    assert_eq!(failed.status(), Some(&StatusString::Failed));
    assert_eq!(
        failed.error(),
        Some("ERROR: relation \"no_such_table\" does not exist")
    );
    let no_result = client
        .get_statement_result()
        .id(failed.id())
        .send()
        .await
        .unwrap_err();
    assert!(
        no_result
            .as_service_error()
            .unwrap()
            .is_validation_exception(),
        "{no_result:?}"
    );

    // A database that does not exist fails the statement, as on Redshift.
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database("nowhere")
        .sql("SELECT 1")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (_, described) = wait(client, &id).await;
    assert_eq!(described.status(), Some(&StatusString::Failed));
    assert!(
        described
            .error()
            .unwrap()
            .contains("\"nowhere\" does not exist")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_one_transaction_all_or_nothing() {
    let setup = setup().await;
    let client = &setup.client;
    finished(&execute(client, "CREATE TABLE t (id INT PRIMARY KEY)").await);
    let failed = batch(
        client,
        &[
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (2)",
            "INSERT INTO t VALUES (1)",
            "INSERT INTO t VALUES (3)",
        ],
    )
    .await;
    assert_eq!(failed.status(), Some(&StatusString::Failed));
    let error = failed.error().unwrap();
    assert!(
        error.starts_with("ERROR: duplicate key value violates unique constraint \"t_pkey\""),
        "{error}"
    );
    assert!(
        error.contains("DETAIL: Key (id)=(1) already exists."),
        "{error}"
    );
    let subs: Vec<(&str, &str)> = failed
        .sub_statements()
        .iter()
        .map(|s| (s.id(), s.status().unwrap().as_str()))
        .collect();
    let parent = failed.id();
    assert_eq!(
        subs,
        [
            (format!("{parent}:1").as_str(), "FINISHED"),
            (format!("{parent}:2").as_str(), "FINISHED"),
            (format!("{parent}:3").as_str(), "FAILED"),
            (format!("{parent}:4").as_str(), "ABORTED"),
        ]
    );
    assert_eq!(failed.sub_statements()[2].error(), Some(error));
    assert_eq!(
        rows(&setup.postgres, "SELECT count(*) FROM t").await,
        [["0"]]
    );

    // A good batch commits everything; each sub-statement has its own result.
    let done = batch(
        client,
        &[
            "INSERT INTO t VALUES (1), (2)",
            "UPDATE t SET id = id * 10",
            "SELECT id FROM t ORDER BY id",
        ],
    )
    .await;
    finished(&done);
    assert_eq!(done.has_result_set(), Some(true));
    let counts: Vec<i64> = done
        .sub_statements()
        .iter()
        .map(|s| s.result_rows())
        .collect();
    assert_eq!(counts, [2, 2, 2]);
    let third = client
        .get_statement_result()
        .id(format!("{}:3", done.id()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        third.records(),
        [[Field::LongValue(10)], [Field::LongValue(20)]]
    );
    let one = client
        .describe_statement()
        .id(format!("{}:2", done.id()))
        .send()
        .await
        .unwrap();
    assert_eq!(one.query_string(), Some("UPDATE t SET id = id * 10"));
    assert_eq!(one.status(), Some(&StatusString::Finished));
    assert_eq!(
        rows(&setup.postgres, "SELECT count(*) FROM t").await,
        [["2"]]
    );

    // AUTO_COMMIT: each statement commits on its own; the run stops at the failure.
    let id = client
        .batch_execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .execution_mode(aws_sdk_redshiftdata::types::ExecutionMode::AutoCommit)
        .sqls("INSERT INTO t VALUES (30)")
        .sqls("INSERT INTO t VALUES (30)")
        .sqls("INSERT INTO t VALUES (40)")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (_, auto) = wait(client, &id).await;
    assert_eq!(auto.status(), Some(&StatusString::Failed));
    assert_eq!(
        rows(&setup.postgres, "SELECT count(*) FROM t").await,
        [["3"]]
    );
    finished(&execute(client, "DELETE FROM t WHERE id = 30").await);

    // A whole SQL file (several statements in one Sql) is one transaction too.
    let file = execute(
        client,
        "-- a file\nDELETE FROM t;\nINSERT INTO t VALUES (5);\nINSERT INTO t VALUES (5);\n",
    )
    .await;
    assert_eq!(file.status(), Some(&StatusString::Failed));
    assert_eq!(
        rows(&setup.postgres, "SELECT count(*) FROM t").await,
        [["2"]]
    );
}

/// A small Parquet file written with the parquet crate: column names differ
/// from the table's on purpose (COPY maps by position).
fn parquet_file() -> Vec<u8> {
    use parquet::data_type::{
        BoolType, ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type,
        Int64Type,
    };
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type(
            "message sales {
                required binary code (UTF8);
                required int32 sold_on (DATE);
                optional int64 units;
                required fixed_len_byte_array(6) amount (DECIMAL(12,2));
                optional boolean flag;
            }",
        )
        .unwrap(),
    );
    let mut buffer = Vec::new();
    let mut writer = SerializedFileWriter::new(
        &mut buffer,
        schema,
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let mut group = writer.next_row_group().unwrap();
    let mut index = 0;
    while let Some(mut column) = group.next_column().unwrap() {
        match index {
            0 => {
                let values: Vec<ByteArray> = ["T-1", "T-\"2\", quoted", "T-3"]
                    .map(ByteArray::from)
                    .to_vec();
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
            1 => {
                column
                    .typed::<Int32Type>()
                    .write_batch(&[19_783, 19_784, -1], None, None)
                    .unwrap();
            }
            2 => {
                column
                    .typed::<Int64Type>()
                    .write_batch(&[5, 9_000_000_000], Some(&[1, 0, 1]), None)
                    .unwrap();
            }
            3 => {
                let cents: [i64; 3] = [1250, -5, 99_999_999_999];
                let values: Vec<FixedLenByteArray> = cents
                    .iter()
                    .map(|c| FixedLenByteArray::from(c.to_be_bytes()[2..].to_vec()))
                    .collect();
                column
                    .typed::<FixedLenByteArrayType>()
                    .write_batch(&values, None, None)
                    .unwrap();
            }
            _ => {
                column
                    .typed::<BoolType>()
                    .write_batch(&[true], Some(&[0, 1, 0]), None)
                    .unwrap();
            }
        }
        column.close().unwrap();
        index += 1;
    }
    group.close().unwrap();
    writer.close().unwrap();
    buffer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_loads_csv_and_parquet_objects_from_moto_s3() {
    let setup = setup().await;
    let client = &setup.client;
    let s3 = aws_sdk_s3::Client::new(&setup.moto.sdk_config("us-east-1").await);
    s3.create_bucket().bucket("lake").send().await.unwrap();
    let put = |key: &'static str, body: Vec<u8>| {
        s3.put_object()
            .bucket("lake")
            .key(key)
            .body(body.into())
            .send()
    };
    put(
        "p/2024-03-01/products.csv",
        b"product_id,product_name,category,product_rating\n\
          1,\"Widget, large\",Tools,5\n\
          2,Gadget,,4\n\
          3,\"A name far too long\",\"Quote \"\"this\"\"\",\n"
            .to_vec(),
    )
    .await
    .unwrap();
    put("p/2024-03-01/sales.parquet", parquet_file())
        .await
        .unwrap();
    finished(
        &batch(
            client,
            &[
                "CREATE SCHEMA showcase",
                "CREATE TABLE showcase.stage_products (product_id VARCHAR(1024), \
                 product_name VARCHAR(8), category VARCHAR(1024), product_rating INTEGER)",
                "CREATE TABLE showcase.stage_sales (transaction_code VARCHAR(64), \
                 sale_date DATE, units BIGINT, revenue DECIMAL(12, 2), flag BOOLEAN)",
                "INSERT INTO showcase.stage_products VALUES ('old', 'old', 'old', 0)",
            ],
        )
        .await,
    );

    // The pipeline's own forms (sql/redshift/load_stage_*.sql), in one batch each.
    let products = batch(
        client,
        &[
            "DELETE FROM showcase.stage_products",
            "COPY showcase.stage_products (\n    product_id, product_name, category, product_rating\n)\n\
             FROM 's3://lake/p/2024-03-01/products.csv'\n\
             IAM_ROLE 'arn:aws:iam::123456789012:role/showcase-copy'\n\
             FORMAT AS CSV\nIGNOREHEADER 1\nTRUNCATECOLUMNS",
        ],
    )
    .await;
    finished(&products);
    assert_eq!(products.sub_statements()[1].result_rows(), 3);
    assert_eq!(
        rows(
            &setup.postgres,
            "SELECT product_id, product_name, coalesce(category, 'NULL'), \
             coalesce(product_rating::text, 'NULL') FROM showcase.stage_products ORDER BY 1"
        )
        .await,
        [
            ["1", "Widget, ", "Tools", "5"],
            // An empty field: '' in a VARCHAR (Redshift without EMPTYASNULL), NULL in an INTEGER.
            ["2", "Gadget", "", "4"],
            ["3", "A name f", "Quote \"this\"", "NULL"],
        ]
    );

    let sales = execute(
        client,
        "DELETE FROM showcase.stage_sales;\n\
         COPY showcase.stage_sales\n\
         FROM 's3://lake/p/2024-03-01/sales.parquet'\n\
         IAM_ROLE 'arn:aws:iam::123456789012:role/showcase-copy'\n\
         FORMAT AS PARQUET;",
    )
    .await;
    finished(&sales);
    assert_eq!(sales.result_rows(), 3);
    assert_eq!(
        rows(
            &setup.postgres,
            "SELECT transaction_code, sale_date::text, coalesce(units::text, 'NULL'), \
             revenue::text, coalesce(flag::text, 'NULL') FROM showcase.stage_sales ORDER BY 2"
        )
        .await,
        [
            ["T-3", "1969-12-31", "9000000000", "999999999.99", "NULL"],
            ["T-1", "2024-03-01", "5", "12.50", "NULL"],
            ["T-\"2\", quoted", "2024-03-02", "NULL", "-0.05", "true"],
        ]
    );

    // A COPY that fails (nothing under the prefix) rolls back its batch.
    let missing = batch(
        client,
        &[
            "DELETE FROM showcase.stage_sales",
            "COPY showcase.stage_sales FROM 's3://lake/p/2024-03-02/sales.parquet' \
             IAM_ROLE 'arn:aws:iam::123456789012:role/showcase-copy' FORMAT AS PARQUET",
        ],
    )
    .await;
    assert_eq!(missing.status(), Some(&StatusString::Failed));
    assert!(
        missing
            .error()
            .unwrap()
            .contains("p/2024-03-02/sales.parquet"),
        "{:?}",
        missing.error()
    );
    assert_eq!(
        rows(&setup.postgres, "SELECT count(*) FROM showcase.stage_sales").await,
        [["3"]]
    );

    // A Parquet file whose columns do not line up with the table fails, naming both counts.
    let mismatch = execute(
        client,
        "COPY showcase.stage_products FROM 's3://lake/p/2024-03-01/sales.parquet' \
         IAM_ROLE default FORMAT AS PARQUET",
    )
    .await;
    assert_eq!(mismatch.status(), Some(&StatusString::Failed));
    assert!(
        mismatch
            .error()
            .unwrap()
            .starts_with("ERROR: Load into table 'showcase.stage_products' failed"),
        "{:?}",
        mismatch.error()
    );
    // What the stand-in cannot serve fails loudly, never silently.
    let gzip = execute(
        client,
        "COPY showcase.stage_products FROM 's3://lake/p/' IAM_ROLE default CSV GZIP",
    )
    .await;
    assert!(gzip.error().unwrap().contains("GZIP"), "{:?}", gzip.error());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redshift_physical_design_statements_are_checked_no_ops() {
    let setup = setup().await;
    let client = &setup.client;
    finished(&execute(client, "CREATE TABLE f (customer_key INT, date_key INT)").await);
    let tune = batch(
        client,
        &[
            "ALTER TABLE f\nALTER DISTSTYLE KEY DISTKEY customer_key",
            "ALTER TABLE f\nALTER SORTKEY (date_key)",
            "ALTER TABLE f ALTER DISTSTYLE ALL",
            "ALTER TABLE f ALTER COMPOUND SORTKEY (date_key, customer_key)",
        ],
    )
    .await;
    finished(&tune);
    let wrong = execute(client, "ALTER TABLE f ALTER SORTKEY (no_such_column)").await;
    assert_eq!(wrong.status(), Some(&StatusString::Failed));
    assert!(wrong.error().unwrap().contains("no_such_column"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_aborts_a_running_statement() {
    let setup = setup().await;
    let client = &setup.client;
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .sql("SELECT pg_sleep(30)")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    loop {
        let described = client.describe_statement().id(&id).send().await.unwrap();
        if described.status() == Some(&StatusString::Started) && described.redshift_pid() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let cancelled = client.cancel_statement().id(&id).send().await.unwrap();
    assert_eq!(cancelled.status(), Some(true));
    let started = std::time::Instant::now();
    let (_, described) = wait(client, &id).await;
    assert_eq!(described.status(), Some(&StatusString::Aborted));
    assert!(started.elapsed() < Duration::from_secs(10));
    let again = client.cancel_statement().id(&id).send().await.unwrap_err();
    assert!(again.as_service_error().unwrap().is_validation_exception());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_page_and_statements_list() {
    let setup = setup_with(RedshiftDataSettings {
        page_rows: 2,
        ..RedshiftDataSettings::default()
    })
    .await;
    let client = &setup.client;
    let id = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .statement_name("paging-test")
        .sql("SELECT generate_series(1, 5) AS n")
        .send()
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    finished(&wait(client, &id).await.1);
    let mut values = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = client
            .get_statement_result()
            .id(&id)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.total_num_rows(), 5);
        values.extend(page.records().iter().map(|r| r[0].clone()));
        pages += 1;
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(values, (1..=5).map(Field::LongValue).collect::<Vec<_>>());

    // WaitTimeSeconds: the answer says how it ended.
    let waited = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .database(DATABASE)
        .sql("SELECT 1")
        .wait_time_seconds(10)
        .send()
        .await
        .unwrap();
    assert_eq!(
        waited.status(),
        Some(&aws_sdk_redshiftdata::types::StatementStatusString::Finished)
    );
    assert_eq!(waited.has_result_set(), Some(true));
    let listed = client
        .list_statements()
        .statement_name("paging")
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = listed.statements().iter().map(|s| s.id()).collect();
    assert_eq!(ids, [id.as_str()]);
    let all = client.list_statements().send().await.unwrap();
    assert_eq!(all.statements().len(), 2);
    assert_eq!(all.statements()[0].query_string(), Some("SELECT 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_aws_error_shapes_and_moto_serves_the_rest() {
    let setup = setup().await;
    let client = &setup.client;
    let missing = client
        .describe_statement()
        .id("00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception(),
        "{missing:?}"
    );
    let malformed = client
        .describe_statement()
        .id("not-an-id")
        .send()
        .await
        .unwrap_err();
    assert!(
        malformed
            .as_service_error()
            .unwrap()
            .is_validation_exception()
    );
    let nowhere = client
        .execute_statement()
        .database(DATABASE)
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    assert!(
        nowhere
            .as_service_error()
            .unwrap()
            .is_validation_exception()
    );
    let both = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .workgroup_name("w")
        .database(DATABASE)
        .sql("SELECT 1")
        .send()
        .await
        .unwrap_err();
    assert!(both.as_service_error().unwrap().is_validation_exception());

    // The raw wire: awsJson1_1 error documents.
    let http = reqwest::Client::new();
    let post = |target: &str, body: &'static str| {
        http.post(setup.moto.endpoint())
            .header("x-amz-target", target)
            .header("content-type", "application/x-amz-json-1.1")
            .body(body)
            .send()
    };
    let answer = post("RedshiftData.ExecuteStatement", "{not json")
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let document: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(document["__type"], "SerializationException");
    let answer = post("RedshiftData.ExecuteStatement", r#"{"Sql": "SELECT 1"}"#)
        .await
        .unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(document["__type"], "ValidationException");
    assert!(
        document["message"]
            .as_str()
            .unwrap()
            .contains("ClusterIdentifier")
    );
    let answer = post(
        "RedshiftData.DescribeStatement",
        r#"{"Id": "00000000-0000-4000-8000-000000000000"}"#,
    )
    .await
    .unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert_eq!(document["__type"], "ResourceNotFoundException");
    assert_eq!(
        document["ResourceId"],
        "00000000-0000-4000-8000-000000000000"
    );
    let answer = post("RedshiftData.DescribeTable", "{}").await.unwrap();
    let document: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
    assert!(document["message"].as_str().unwrap().contains("stand-in"));

    // Every other call still reaches moto through the same endpoint.
    let s3 = aws_sdk_s3::Client::new(&setup.moto.sdk_config("us-east-1").await);
    s3.create_bucket()
        .bucket("still-moto")
        .send()
        .await
        .unwrap();
    let buckets = s3.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1);
}
