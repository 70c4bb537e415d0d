//! The extractor end to end: the real data API on localhost, moto's server as S3.

mod common;

use common::*;
use showcase_dataset::{Customer, Day, Product, Sale};
use showcase_extractor::{Entity, ExtractRequest, Extractor, LakeLocation};

const BUCKET: &str = "showcase-lake";

async fn moto_with_bucket() -> (showcase_testkit::MotoServer, aws_sdk_s3::Client) {
    let moto = moto();
    let client = s3_client(&moto).await;
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    (moto, client)
}

fn extractor(api: &str, client: &aws_sdk_s3::Client) -> Extractor {
    let location = LakeLocation::S3 {
        bucket: BUCKET.into(),
        prefix: "raw/".into(),
    };
    Extractor::with_lake(settings(api, location), s3_lake(client, BUCKET))
}

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_day_of_sales_goes_up_multipart_and_reads_back_row_by_row() {
    let (_moto, client) = moto_with_bucket().await;
    // About 2.6 MB of Parquet: several test-sized parts.
    let api = serve_api(300_000).await;
    let d = day("2024-02-10");
    let summary = extractor(&api, &client)
        .run(&ExtractRequest {
            date: d,
            entity: Entity::Sales,
        })
        .await
        .unwrap();
    assert_eq!(summary.rows, 300_000);
    assert_eq!(
        summary.keys,
        ["s3://showcase-lake/raw/2024-02-10/sales.parquet"]
    );
    let object = get_object(&client, BUCKET, "raw/2024-02-10/sales.parquet")
        .await
        .unwrap();
    assert_eq!(object.len() as u64, summary.bytes);
    assert!(
        object.len() > TEST_PART_SIZE * 3,
        "{} bytes: too small for several parts",
        object.len()
    );
    let written = read_sales_parquet(object);
    let expected: Vec<Sale> = api_rows(&api, "sales", d).await;
    assert_eq!(written.len(), expected.len());
    for (index, (w, e)) in written.iter().zip(&expected).enumerate() {
        assert_eq!(w, e, "row {index}");
    }
    let uploads = client
        .list_multipart_uploads()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "no upload left open");
}

#[tokio::test]
async fn dimensions_land_as_csv_equal_to_the_api() {
    let (_moto, client) = moto_with_bucket().await;
    let api = serve_api(50).await;
    let d = day("2024-03-01");
    let extractor = extractor(&api, &client);
    let products = extractor
        .run(&ExtractRequest {
            date: d,
            entity: Entity::Products,
        })
        .await
        .unwrap();
    let customers = extractor
        .run(&ExtractRequest {
            date: d,
            entity: Entity::Customers,
        })
        .await
        .unwrap();
    let product_csv = get_object(&client, BUCKET, "raw/2024-03-01/products.csv")
        .await
        .unwrap();
    let customer_csv = get_object(&client, BUCKET, "raw/2024-03-01/customers.csv")
        .await
        .unwrap();
    let expected_products: Vec<Product> = api_rows(&api, "products", d).await;
    let expected_customers: Vec<Customer> = api_rows(&api, "customers", d).await;
    assert_eq!(read_products_csv(&product_csv), expected_products);
    assert_eq!(read_customers_csv(&customer_csv), expected_customers);
    assert_eq!(products.rows, expected_products.len() as u64);
    assert_eq!(customers.rows, expected_customers.len() as u64);
    // Names with commas and ampersands survive quoting.
    assert!(
        String::from_utf8_lossy(&customer_csv).contains("\"Tokyo Robotics & AI\"")
            || String::from_utf8_lossy(&customer_csv).contains("Tokyo Robotics & AI")
    );
}

#[tokio::test]
async fn a_rerun_replaces_the_same_keys_with_identical_bytes() {
    let (_moto, client) = moto_with_bucket().await;
    let api = serve_api(5_000).await;
    let extractor = extractor(&api, &client);
    let mut first = Vec::new();
    for entity in Entity::ALL {
        extractor
            .run(&ExtractRequest {
                date: day("2024-04-04"),
                entity,
            })
            .await
            .unwrap();
        first.push(
            get_object(
                &client,
                BUCKET,
                &format!("raw/2024-04-04/{entity}.{}", entity.extension()),
            )
            .await
            .unwrap(),
        );
    }
    for (entity, before) in Entity::ALL.into_iter().zip(first) {
        extractor
            .run(&ExtractRequest {
                date: day("2024-04-04"),
                entity,
            })
            .await
            .unwrap();
        let after = get_object(
            &client,
            BUCKET,
            &format!("raw/2024-04-04/{entity}.{}", entity.extension()),
        )
        .await
        .unwrap();
        assert_eq!(before, after, "{entity}");
    }
    let listed = client
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.contents().len(), 3, "a rerun adds no objects");
    extractor
        .run(&ExtractRequest {
            date: day("2024-04-05"),
            entity: Entity::Sales,
        })
        .await
        .unwrap();
    let other_day = get_object(&client, BUCKET, "raw/2024-04-05/sales.parquet")
        .await
        .unwrap();
    let same_day = get_object(&client, BUCKET, "raw/2024-04-04/sales.parquet")
        .await
        .unwrap();
    assert_ne!(other_day, same_day);
}
