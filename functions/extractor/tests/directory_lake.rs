//! The local lake: a directory, written atomically, identical on rerun.

mod common;

use common::*;
use showcase_dataset::{Day, Sale};
use showcase_extractor::{Entity, ExtractRequest, Extractor, LakeLocation};

#[tokio::test]
async fn a_day_lands_in_date_partitions_and_matches_the_api() {
    let api = serve_api(25_001).await;
    let dir = tempfile::tempdir().unwrap();
    let extractor = Extractor::new(settings(
        &api,
        LakeLocation::Directory(dir.path().to_owned()),
    ))
    .await;
    let d: Day = "2024-07-01".parse().unwrap();
    for entity in Entity::ALL {
        extractor
            .run(&ExtractRequest { date: d, entity })
            .await
            .unwrap();
    }
    let day_dir = dir.path().join("2024-07-01");
    let mut names: Vec<String> = std::fs::read_dir(&day_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["customers.csv", "products.csv", "sales.parquet"],
        "no temporary files remain"
    );
    let first = std::fs::read(day_dir.join("sales.parquet")).unwrap();
    let expected: Vec<Sale> = api_rows(&api, "sales", d).await;
    assert_eq!(read_sales_parquet(first.clone().into()), expected);
    extractor
        .run(&ExtractRequest {
            date: d,
            entity: Entity::Sales,
        })
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(day_dir.join("sales.parquet")).unwrap(),
        first,
        "rerun gives identical bytes"
    );
}
