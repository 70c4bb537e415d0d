//! The MWAA stand-in, driven by the real AWS SDK client: the SDK's `api.`
//! host prefix reaches it, the environment's update moves through UPDATING,
//! and InvokeRestApi answers Airflow's REST shapes.

use std::time::{Duration, Instant};

use aws_sdk_mwaa::Client;
use aws_sdk_mwaa::types::{EnvironmentStatus, RestApiMethod};
use aws_smithy_types::Document;
use showcase_testkit::{Mwaa, MwaaEnvironment};

async fn client(mwaa: &Mwaa) -> Client {
    let (_, endpoint) = mwaa
        .aws_env()
        .into_iter()
        .find(|(key, _)| key == "AWS_ENDPOINT_URL_MWAA")
        .unwrap();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await;
    Client::new(&config)
}

async fn status(client: &Client, name: &str) -> aws_sdk_mwaa::types::Environment {
    client
        .get_environment()
        .name(name)
        .send()
        .await
        .unwrap()
        .environment
        .unwrap()
}

#[tokio::test]
async fn get_environment_reaches_the_stand_in_despite_the_host_prefix() {
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available("env", "dag-bucket"));
    let client = client(&mwaa).await;
    let environment = status(&client, "env").await;
    assert_eq!(environment.status(), Some(&EnvironmentStatus::Available));
    assert_eq!(
        environment.source_bucket_arn(),
        Some("arn:aws:s3:::dag-bucket")
    );
    assert_eq!(environment.dag_s3_path(), Some("dags"));
    assert_eq!(environment.airflow_version(), Some("2.11.0"));
    let missing = client.get_environment().name("nope").send().await;
    let error = missing.unwrap_err().into_service_error();
    assert!(error.is_resource_not_found_exception(), "{error:?}");
    assert_eq!(mwaa.calls().len(), 2);
}

#[tokio::test]
async fn an_update_is_updating_then_available_or_failed_with_its_error() {
    let mwaa = Mwaa::start();
    mwaa.set_update_delay(Duration::from_millis(300));
    mwaa.add_environment(MwaaEnvironment::available("env", "dag-bucket"));
    let client = client(&mwaa).await;
    client
        .update_environment()
        .name("env")
        .requirements_s3_path("requirements.txt")
        .requirements_s3_object_version("v2")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(&client, "env").await.status(),
        Some(&EnvironmentStatus::Updating)
    );
    let again = client.update_environment().name("env").send().await;
    assert!(
        again.is_err(),
        "an updating environment refuses another update"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let environment = loop {
        let environment = status(&client, "env").await;
        if environment.status() != Some(&EnvironmentStatus::Updating) || Instant::now() > deadline {
            break environment;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(environment.status(), Some(&EnvironmentStatus::Available));
    assert_eq!(environment.requirements_s3_object_version(), Some("v2"));

    mwaa.fail_next_update(
        "env",
        "INCORRECT_REQUIREMENTS",
        "pip could not install foo==9",
    );
    client
        .update_environment()
        .name("env")
        .requirements_s3_object_version("v3")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let environment = status(&client, "env").await;
    assert_eq!(environment.status(), Some(&EnvironmentStatus::UpdateFailed));
    assert_eq!(environment.requirements_s3_object_version(), Some("v2"));
    let error = environment.last_update().and_then(|u| u.error()).unwrap();
    assert_eq!(error.error_code(), Some("INCORRECT_REQUIREMENTS"));
    assert_eq!(error.error_message(), Some("pip could not install foo==9"));
}

fn text(document: Option<&Document>, key: &str) -> String {
    match document {
        Some(Document::Object(map)) => match map.get(key) {
            Some(Document::String(text)) => text.clone(),
            other => panic!("{key}: {other:?}"),
        },
        other => panic!("not an object: {other:?}"),
    }
}

#[tokio::test]
async fn invoke_rest_api_triggers_and_follows_a_dag_run() {
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available("env", "dag-bucket"));
    mwaa.register_dag("demo_pipeline", &["extract", "load", "report"]);
    mwaa.fail_task("demo_pipeline", "load");
    mwaa.set_task_time(Duration::from_millis(200));
    let client = client(&mwaa).await;
    let body = Document::Object(
        [
            ("dag_run_id".to_owned(), Document::String("r1".into())),
            (
                "logical_date".to_owned(),
                Document::String("2024-03-01T00:00:00Z".into()),
            ),
        ]
        .into(),
    );
    let created = client
        .invoke_rest_api()
        .name("env")
        .method(RestApiMethod::Post)
        .path("/dags/demo_pipeline/dagRuns")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(created.rest_api_status_code(), Some(200));
    assert_eq!(text(created.rest_api_response(), "state"), "queued");
    let duplicate = client
        .invoke_rest_api()
        .name("env")
        .method(RestApiMethod::Post)
        .path("/dags/demo_pipeline/dagRuns")
        .body(body)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(duplicate.is_rest_api_client_exception(), "{duplicate:?}");
    let state = || async {
        let run = client
            .invoke_rest_api()
            .name("env")
            .method(RestApiMethod::Get)
            .path("/dags/demo_pipeline/dagRuns/r1")
            .send()
            .await
            .unwrap();
        text(run.rest_api_response(), "state")
    };
    assert_eq!(state().await, "running");
    // extract done at 200 ms, load fails at 400 ms.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(state().await, "failed");
    let tasks = client
        .invoke_rest_api()
        .name("env")
        .method(RestApiMethod::Get)
        .path("/dags/demo_pipeline/dagRuns/r1/taskInstances")
        .send()
        .await
        .unwrap();
    let Some(Document::Object(answer)) = tasks.rest_api_response() else {
        panic!("{tasks:?}")
    };
    let Some(Document::Array(instances)) = answer.get("task_instances") else {
        panic!("{answer:?}")
    };
    let states: Vec<(String, String)> = instances
        .iter()
        .map(|i| (text(Some(i), "task_id"), text(Some(i), "state")))
        .collect();
    assert_eq!(
        states,
        [
            ("extract".to_owned(), "success".to_owned()),
            ("load".to_owned(), "failed".to_owned()),
            ("report".to_owned(), "upstream_failed".to_owned()),
        ]
    );
}
