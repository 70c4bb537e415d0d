//! The front applies the tags a CreateBucket carries (S3 does, moto 5.2.5
//! ignores them): GetBucketTagging lists them at once.

use showcase_testkit::MotoServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_created_with_tags_carries_them() {
    let moto = MotoServer::start();
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config("us-east-1").await);
    let tag = aws_sdk_s3::types::Tag::builder()
        .key("showcase:stack")
        .value("demo")
        .build()
        .unwrap();
    s3.create_bucket()
        .bucket("tagged-at-birth")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .tags(tag)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tags = s3
        .get_bucket_tagging()
        .bucket("tagged-at-birth")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}\n{}", moto.log()));
    let tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags, [("showcase:stack", "demo")]);
}
