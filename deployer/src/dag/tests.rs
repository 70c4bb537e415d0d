use super::*;
use crate::aws_run::{SqlNames, SqlTarget};

pub(crate) fn target(auth: SqlAuth) -> AwsTarget {
    AwsTarget {
        extractor_function: "demo-extractor".into(),
        sql: SqlTarget {
            endpoint: SqlEndpoint::Cluster("demo-warehouse".into()),
            database: "showcase".into(),
            auth,
        },
        names: SqlNames {
            schema: "showcase_data_pipeline".into(),
            lake_bucket: "demo-lake".into(),
            lake_prefix: "raw/".into(),
            copy_role_arn: "arn:aws:iam::123456789012:role/demo-warehouse-copy-role".into(),
        },
    }
}

fn input(target: &AwsTarget) -> DagInput<'_> {
    DagInput {
        stack_name: "demo",
        region: "us-east-1",
        target,
        schedule: Default::default(),
    }
}

#[test]
fn the_same_stack_renders_the_same_bytes_and_every_task_once() {
    let target = target(SqlAuth::Secret(
        "arn:aws:secretsmanager:us-east-1:1:secret:x".into(),
    ));
    let files = render(&input(&target)).unwrap();
    assert_eq!(files, render(&input(&target)).unwrap());
    assert_eq!(files[0].path, "demo_pipeline.py");
    let dag = &files[0].text;
    for task in &TASKS {
        assert_eq!(
            dag.matches(&format!("task_id=\"{}\"", task.id)).count(),
            1,
            "{}",
            task.id
        );
    }
    for (up, down) in edges() {
        assert!(dag.contains(&format!("        (\"{up}\", \"{down}\"),\n")));
    }
    assert!(dag.contains("\"secret_arn\": \"arn:aws:secretsmanager:us-east-1:1:secret:x\""));
    assert!(!dag.contains("\"db_user\": "));
    assert!(dag.contains(r#"payload="{\"date\":\"{{ ds }}\",\"entity\":\"sales\"}""#));
    let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    paths.dedup();
    assert_eq!(paths.len(), files.len());
}

#[test]
fn statement_files_rendered_are_what_run_sends() {
    let target = target(SqlAuth::DbUser("admin".into()));
    let files = render(&input(&target)).unwrap();
    assert!(files[0].text.contains("\"db_user\": \"admin\""));
    let day: Day = "2024-03-01".parse().unwrap();
    for (task, expected) in statements::day_plan(&target.names, day).unwrap() {
        let Some(expected) = expected else { continue };
        let prefix = format!("demo_pipeline/{}/", task.id);
        let ours: Vec<String> = files
            .iter()
            .filter(|f| f.path.starts_with(&prefix))
            .map(|f| {
                let text = f.text.strip_suffix('\n').unwrap_or(&f.text);
                let file = crate::pipeline::SqlFile {
                    path: "x",
                    text: Box::leak(text.to_owned().into_boxed_str()),
                };
                crate::pipeline::render(&file, &target.names.params(day)).unwrap()
            })
            .collect();
        match task.step {
            Step::Check(_) => assert_eq!(ours, [expected.join(";\n")], "{}", task.id),
            _ if task.id == "setup_schema" => {
                assert_eq!(ours, expected);
                let tune: Vec<String> = files
                    .iter()
                    .filter(|f| f.path.starts_with("demo_pipeline/tune/"))
                    .map(|f| f.text.trim_end().to_owned())
                    .collect();
                let expected = statements::tune(&target.names, day).unwrap();
                let rendered: Vec<String> = tune
                    .iter()
                    .map(|t| t.replace("{{ params.schema }}", &target.names.schema))
                    .collect();
                assert_eq!(rendered, expected);
            }
            _ => assert_eq!(ours, expected, "{}", task.id),
        }
    }
}

#[test]
fn a_workgroup_with_iam_names_no_cluster_and_no_user() {
    let mut target = target(SqlAuth::Iam);
    target.sql.endpoint = SqlEndpoint::Workgroup("wg".into());
    let dag = &render(&input(&target)).unwrap()[0].text;
    assert!(dag.contains("\"workgroup_name\": \"wg\""));
    assert!(!dag.contains("\"cluster_identifier\": ") && !dag.contains("\"secret_arn\": "));
    assert!(mermaid().contains("setup_schema --> extract_sales"));
}

#[test]
fn the_readme_draws_the_graph_as_it_is() {
    let readme = include_str!("../../../README.md");
    assert!(
        readme.contains(&format!("```mermaid\n{}```", mermaid())),
        "README.md's DAG picture is stale: it should be\n{}",
        mermaid()
    );
}

#[test]
fn the_schedule_and_start_date_are_the_stacks() {
    let target = target(SqlAuth::Iam);
    let mut input = input(&target);
    input.schedule = DagSchedule {
        start_date: "2024-03-05".into(),
        cron: "30 2 * * *".into(),
    };
    let files = render(&input).unwrap();
    let dag = &files[0].text;
    assert!(
        dag.contains("schedule=CronDataIntervalTimetable(\"30 2 * * *\", timezone=\"UTC\")"),
        "{dag}"
    );
    assert!(
        dag.contains("start_date=datetime(2024, 3, 5, tzinfo=timezone.utc)"),
        "{dag}"
    );
    // The files are the same whatever the schedule: only the DAG file says when.
    let default = render(&self::input(&target)).unwrap();
    assert_eq!(
        files.iter().map(|f| &f.path).collect::<Vec<_>>(),
        default.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    assert_eq!(files[1..], default[1..]);
}
