//! `stack.toml` validation: the shipped file is valid, and each of many bad
//! files gets its own message at the right line and column.

use std::path::Path;

use showcase_deploy::config::{self, FunctionName, QuotaPeriod, Vars};
use stack_files::{BAD, GOOD};

mod stack_files;

fn parse(text: &str) -> Result<config::Stack, config::ConfigErrors> {
    config::parse(
        text,
        Path::new("stack.toml"),
        &Vars::default().with("lake_bucket", "lake-from-var"),
    )
}

#[test]
fn the_shipped_stack_file_is_valid() {
    let vars = Vars::default().with("lake_bucket", "acme-showcase-lake");
    let stack = config::load(
        &showcase_testkit::workspace_root().join("stack.toml"),
        &vars,
    )
    .unwrap();
    assert_eq!(stack.name, "showcase");
    assert_eq!(stack.lake.bucket, "acme-showcase-lake");
    assert_eq!(stack.functions[&FunctionName::Extractor].timeout_s, 300);
    assert_eq!(
        stack.functions[&FunctionName::DataApi].environment["SALES_ROWS_PER_DAY"],
        "50"
    );
    assert_eq!(stack.api.routes, ["/sales", "/products", "/customers"]);
    assert_eq!(stack.api.quota, Some((10_000, QuotaPeriod::Day)));
    assert_eq!(stack.lake.lifecycle.len(), 2);
}

#[test]
fn defaults_fill_what_a_minimal_file_leaves_out() {
    let stack = parse(GOOD).unwrap();
    let api = &stack.functions[&FunctionName::DataApi];
    assert_eq!(
        (api.memory_mb, api.timeout_s, api.log_retention_days),
        (256, 29, 14)
    );
    assert!(stack.lake.versioning);
    assert_eq!(stack.api.stage, "prod");
}

#[test]
fn a_missing_variable_names_how_to_set_it() {
    let text = GOOD.replace("my-lake-bucket", "${var.bucket}");
    let error = config::parse(&text, Path::new("stack.toml"), &Vars::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "stack.toml:7:10: lake.bucket: variable bucket is not set: pass --var bucket=VALUE or set SHOWCASE_VAR_bucket"
    );
}

#[test]
fn each_bad_file_is_refused_with_its_message_and_position() {
    assert!(BAD.len() >= 20);
    let mut failures = Vec::new();
    for (text, line, column, fragment) in BAD {
        match parse(text) {
            Ok(_) => failures.push(format!("accepted:\n{text}")),
            Err(errors) => {
                let first = &errors.0[0];
                let shown = errors.to_string();
                if (first.line, first.column) != (*line, *column)
                    || !shown.contains(fragment)
                    || !shown.starts_with("stack.toml:")
                {
                    failures.push(format!(
                        "expected {line}:{column} '{fragment}', got '{shown}' for:\n{text}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_mistakes_are_reported_at_once() {
    let text = "[stack]\nname = \"Bad Name\"\nregion = \"mars-1\"\n[lake]\nbucket = \"UPPER\"\n";
    let errors = parse(text).unwrap_err();
    let lines: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 3, 5], "{errors}");
}

#[test]
fn validate_reports_positions_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stack.toml");
    std::fs::write(&file, "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"${var.lake}\"\n[functions.extractor]\nmemory_mb = 64\n").unwrap();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .arg("validate")
            .arg("--stack")
            .arg(&file)
            .args(extra)
            .env_remove("SHOWCASE_VAR_lake")
            .output()
            .unwrap()
    };
    let output = run(&["--var", "lake=good-lake"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains(&format!(
            "{}:7:13: functions.extractor.memory_mb: 64 is out of range",
            file.display()
        )),
        "{stderr}"
    );
    std::fs::write(
        &file,
        std::fs::read_to_string(&file).unwrap().replace("64", "512"),
    )
    .unwrap();
    let output = run(&["--var", "lake=good-lake"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("lake s3://good-lake/"));
    let output = run(&[]);
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("5:10: lake.bucket: variable lake is not set")
    );
}
