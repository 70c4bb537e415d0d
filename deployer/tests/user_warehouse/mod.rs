//! A serverless warehouse the user made by hand (for `kind = "existing"`),
//! on testkit's Redshift Serverless stand-in, waited for until AVAILABLE.

use aws_sdk_redshiftserverless::types::WorkgroupStatus;

pub async fn make_workgroup(config: &aws_config::SdkConfig, namespace: &str, workgroup: &str) {
    let serverless = aws_sdk_redshiftserverless::Client::new(config);
    serverless
        .create_namespace()
        .namespace_name(namespace)
        .send()
        .await
        .unwrap();
    serverless
        .create_workgroup()
        .workgroup_name(workgroup)
        .namespace_name(namespace)
        .base_capacity(8)
        .send()
        .await
        .unwrap();
    for _ in 0..200 {
        let answer = serverless
            .get_workgroup()
            .workgroup_name(workgroup)
            .send()
            .await
            .unwrap();
        if answer.workgroup().and_then(|w| w.status()) == Some(&WorkgroupStatus::Available) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("workgroup {workgroup} never became AVAILABLE");
}
