#![cfg(feature = "deploy")]
//! `migrate --from-cloudformation` on the seed's stack (moto): the plan
//! first, then the lake adopted with every object version byte-identical,
//! the CloudFormation stack and the seed's functions and roles gone, ours up
//! and in sync; a second run has nothing left; a wrong stack or bucket
//! changes nothing.

mod seed_stack;

use seed_stack::*;
use showcase_testkit::MotoServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_adopts_the_seed_lake_byte_for_byte_and_retires_the_rest() {
    build_once();
    let moto = MotoServer::start();
    let before = deploy_seed(&moto).await;
    // As on AWS: the bucket carries CloudFormation's tags, which every tag
    // write must keep, and which plans and drift ignore.
    moto.add_cloudformation_bucket_tags(LAKE, CFN_STACK, "PipelineBucket");
    let dir = tempfile::tempdir().unwrap();
    let stack_toml = dir.path().join("stack.toml");
    std::fs::write(&stack_toml, STACK_TOML).unwrap();
    let dags = fixtures().join("dags");
    let migrate = |extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--from-cloudformation",
            CFN_STACK,
            "--skip-build",
        ];
        args.extend(extra);
        command(&moto, &stack_toml, LAKE, &args).output().unwrap()
    };

    // The plan, and nothing else.
    let dry = migrate(&["--dry-run", "--seed-dags", dags.to_str().unwrap()]);
    let plan = text(&dry);
    assert_eq!(dry.status.code(), Some(2), "{plan}");
    for expected in [
        "AWS::S3::Bucket showcase-data-pipeline (PipelineBucket) → lake_bucket.showcase-data-pipeline: kept with every object and version",
        "no object is read, copied, rewritten or deleted",
        "AWS::Lambda::Function showcase_data_pipeline_sales_to_s3 (SalesToS3) → replaced by function.seedmig-extractor and function.seedmig-data-api",
        "(SalesToS3Role) → replaced by function_role.",
        "hard-coded role arn:aws:iam::123456789012:role/service-role/AmazonRedshift-CommandsAccessRole (sql/s3_to_stage_sales.sql:5)",
        "[warehouse] kind = \"existing\", cluster = \"showcase-seed-cluster\"",
        "1. set DeletionPolicy: Retain on PipelineBucket (an UpdateStack changing nothing else)",
        "2. tag bucket showcase-data-pipeline showcase:stack=seedmig",
        "3. up: stack seedmig brought up around the bucket",
        "4. delete CloudFormation stack showcase-data-pipeline",
    ] {
        assert!(plan.contains(expected), "{expected:?} in:\n{plan}");
    }
    // Not at a terminal, without --yes: refused.
    let refused = migrate(&[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("pass --yes"), "{}", text(&refused));
    assert_eq!(bucket_deletion_policy(&moto).await, None, "nothing changed");
    assert!(!bucket_tags(&moto).await.contains_key("showcase:stack"));
    assert_eq!(function_names(&moto).await.len(), 5);

    let done = migrate(&["--yes"]);
    assert_eq!(done.status.code(), Some(0), "{}", text(&done));
    assert!(
        text(&done).contains("Migrated: CloudFormation stack showcase-data-pipeline is gone"),
        "{}",
        text(&done)
    );
    let again = migrate(&["--yes"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("Nothing left to migrate"),
        "{}",
        text(&again)
    );
    let tags = bucket_tags(&moto).await;
    assert_eq!(
        tags.get("aws:cloudformation:logical-id")
            .map(String::as_str),
        Some("PipelineBucket"),
        "{tags:?}"
    );
    // A tag added by hand is drift, and `up` rewrites the bucket's tag set
    // without it: S3 takes that only with CloudFormation's tags in it.
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
    let mut by_hand: Vec<aws_sdk_s3::types::Tag> = bucket_tags(&moto)
        .await
        .into_iter()
        .chain([("added-by-hand".to_owned(), "x".to_owned())])
        .map(|(k, v)| {
            aws_sdk_s3::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .unwrap()
        })
        .collect();
    by_hand.sort_by(|a, b| a.key().cmp(b.key()));
    s3.put_bucket_tagging()
        .bucket(LAKE)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(by_hand))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let up = command(&moto, &stack_toml, LAKE, &["up", "--skip-build"])
        .output()
        .unwrap();
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert!(
        text(&up).contains("lake_bucket.showcase-data-pipeline: updated"),
        "{}",
        text(&up)
    );
    let tags = bucket_tags(&moto).await;
    assert!(!tags.contains_key("added-by-hand"), "{tags:?}");
    assert!(tags.contains_key("aws:cloudformation:stack-id"), "{tags:?}");
    // CloudFormation's own tags (AWS puts them on what a stack made and nobody
    // can remove them; moto takes them by hand on these) are no part of drift:
    // assert_migrated's drift must stay clean.
    let config = moto.sdk_config(REGION).await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let function = lambda
        .get_function()
        .function_name("seedmig-extractor")
        .send()
        .await
        .unwrap();
    let arn = function.configuration().unwrap().function_arn().unwrap();
    lambda
        .tag_resource()
        .resource(arn)
        .tags("aws:cloudformation:stack-name", CFN_STACK)
        .send()
        .await
        .unwrap();
    let role = role_names(&moto)
        .await
        .into_iter()
        .find(|r| r.starts_with("seedmig-"))
        .unwrap();
    aws_sdk_iam::Client::new(&config)
        .tag_role()
        .role_name(role)
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("aws:cloudformation:logical-id")
                .value("SalesToS3Role")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_migrated(&moto, &stack_toml, &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_stack_or_a_bucket_the_stack_does_not_hold_changes_nothing() {
    let moto = MotoServer::start();
    let before = deploy_seed(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let stack_toml = dir.path().join("stack.toml");
    std::fs::write(&stack_toml, STACK_TOML).unwrap();
    let config = moto.sdk_config(REGION).await;
    aws_sdk_s3::Client::new(&config)
        .create_bucket()
        .bucket("someone-elses-lake")
        .send()
        .await
        .unwrap();

    let no_stack = command(
        &moto,
        &stack_toml,
        LAKE,
        &[
            "migrate",
            "--from-cloudformation",
            "showcase-data-pipelin",
            "--yes",
        ],
    )
    .output()
    .unwrap();
    assert_eq!(no_stack.status.code(), Some(1), "{}", text(&no_stack));
    assert!(
        text(&no_stack).contains(
            "CloudFormation stack showcase-data-pipelin does not exist in us-east-1 (check the name and stack.region); nothing was changed"
        ),
        "{}",
        text(&no_stack)
    );

    let wrong_bucket = command(
        &moto,
        &stack_toml,
        "someone-elses-lake",
        &["migrate", "--from-cloudformation", CFN_STACK, "--yes"],
    )
    .output()
    .unwrap();
    assert_eq!(
        wrong_bucket.status.code(),
        Some(1),
        "{}",
        text(&wrong_bucket)
    );
    assert!(
        text(&wrong_bucket).contains(
            "lake.bucket = \"someone-elses-lake\" is not a bucket of CloudFormation stack showcase-data-pipeline; its buckets: showcase-data-pipeline (PipelineBucket)"
        ),
        "{}",
        text(&wrong_bucket)
    );

    // Nothing changed anywhere.
    assert_eq!(cfn_status(&moto).await.as_deref(), Some("CREATE_COMPLETE"));
    assert_eq!(bucket_deletion_policy(&moto).await, None);
    assert!(bucket_tags(&moto).await.is_empty());
    let s3 = aws_sdk_s3::Client::new(&config);
    assert!(
        s3.get_bucket_tagging()
            .bucket("someone-elses-lake")
            .send()
            .await
            .is_err(),
        "the other bucket stays untagged"
    );
    let functions = function_names(&moto).await;
    assert_eq!(functions.len(), 5, "{functions:?}");
    assert!(functions.iter().all(|f| !f.starts_with("seedmig")));
    assert_eq!(lake_versions(&moto).await, before);
}
