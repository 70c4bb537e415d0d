//! The stand-ins as boto3 sees them (Airflow's Amazon provider calls AWS
//! through boto3): the same endpoint, the same answers as the Rust SDK gets.

use std::process::Command;

use serde_json::Value;
use showcase_testkit::{LambdaFunction, LambdaInvoke, MotoServer, Postgres, RedshiftData, tool};

const SCRIPT: &str = r#"
import json, time
import boto3

data = boto3.client("redshift-data")
lam = boto3.client("lambda")
out = {}

def wait(statement_id):
    while True:
        described = data.describe_statement(Id=statement_id)
        if described["Status"] in ("FINISHED", "FAILED", "ABORTED"):
            return described
        time.sleep(0.01)

run = data.batch_execute_statement(
    ClusterIdentifier="showcase-warehouse", Database="showcase", DbUser="admin",
    Sqls=["CREATE TABLE t (id INT, name VARCHAR(10))",
          "INSERT INTO t VALUES (1, 'one'), (2, NULL)"])
out["batch"] = wait(run["Id"])["Status"]
run = data.execute_statement(
    ClusterIdentifier="showcase-warehouse", Database="showcase",
    Sql="SELECT id, name FROM t WHERE id >= :low ORDER BY id",
    Parameters=[{"name": "low", "value": "1"}])
out["select"] = wait(run["Id"])["Status"]
pages = data.get_paginator("get_statement_result").paginate(Id=run["Id"])
out["records"] = [record for page in pages for record in page["Records"]]
failed = data.execute_statement(ClusterIdentifier="showcase-warehouse", Database="showcase",
                                Sql="SELECT * FROM missing")
out["failed"] = wait(failed["Id"]).get("Error")
try:
    data.describe_statement(Id="00000000-0000-4000-8000-000000000000")
except data.exceptions.ResourceNotFoundException as error:
    out["not_found"] = error.response["Error"]["Code"]

answer = lam.invoke(FunctionName="echo", Payload=json.dumps({"echo": {"ok": True}}))
out["invoke"] = [answer["StatusCode"], answer.get("FunctionError"),
                 json.loads(answer["Payload"].read())]
answer = lam.invoke(FunctionName="echo", Payload=json.dumps({"fail": "no"}))
out["invoke_error"] = [answer.get("FunctionError"), json.loads(answer["Payload"].read())]
try:
    lam.invoke(FunctionName="missing")
except lam.exceptions.ResourceNotFoundException as error:
    out["invoke_missing"] = error.response["Error"]["Code"]
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_reaches_both_stand_ins_at_moto_s_endpoint() {
    let moto = MotoServer::start();
    let postgres = Postgres::start();
    postgres.create_database("showcase").await;
    let warehouse = RedshiftData::new(&postgres.url("postgres"));
    moto.serve_redshift_data(&warehouse);
    let lambda = LambdaInvoke::new();
    lambda.register(
        "echo",
        LambdaFunction::new(env!("CARGO_BIN_EXE_echo-bootstrap")),
    );
    moto.serve_lambda(&lambda);

    let env = moto.aws_env();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(tool("python3"))
            .args(["-c", SCRIPT])
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["batch"], "FINISHED");
    assert_eq!(out["select"], "FINISHED");
    assert_eq!(
        out["records"],
        serde_json::json!([
            [{"longValue": 1}, {"stringValue": "one"}],
            [{"longValue": 2}, {"isNull": true}]
        ])
    );
    assert_eq!(out["failed"], "ERROR: relation \"missing\" does not exist");
    assert_eq!(out["not_found"], "ResourceNotFoundException");
    assert_eq!(out["invoke"], serde_json::json!([200, null, {"ok": true}]));
    assert_eq!(out["invoke_error"][0], "Unhandled");
    assert_eq!(out["invoke_error"][1]["errorMessage"], "no");
    assert_eq!(out["invoke_missing"], "ResourceNotFoundException");
}
