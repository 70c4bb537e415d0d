//! `stack.toml` validation: the shipped file is valid, and each of many bad
//! files gets its own message at the right line and column.

use std::path::Path;

use showcase_deploy::config::{self, FunctionName, QuotaPeriod, Vars};

const GOOD: &str = r#"
[stack]
name = "showcase"
region = "eu-west-1"

[lake]
bucket = "my-lake-bucket"
"#;

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

/// (file text, line, column, a fragment of the message)
const BAD: &[(&str, usize, usize, &str)] = &[
    // Syntax and shape.
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake\n",
        4,
        6,
        "unclosed table, expected `]`",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n",
        1,
        1,
        "missing field `lake`",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\ncolour = \"blue\"\n[lake]\nbucket = \"abc\"\n",
        4,
        1,
        "unknown field `colour`",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.loader]\n",
        6,
        12,
        "unknown field `loader`, expected `data-api` or `extractor`",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nmemory_mb = \"lots\"\n",
        7,
        13,
        "invalid type: string \"lots\", expected i64",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nmemroy_mb = 512\n",
        7,
        1,
        "unknown field `memroy_mb`",
    ),
    // Stack.
    (
        "[stack]\nname = \"Showcase\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n",
        2,
        8,
        "'Showcase' is not allowed",
    ),
    (
        "[stack]\nname = \"a-very-long-stack-name-indeed\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n",
        2,
        8,
        "1 to 24",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-9\"\n[lake]\nbucket = \"abc\"\n",
        3,
        10,
        "'eu-west-9' is not an AWS region",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\ntags = { \"aws:owner\" = \"me\" }\n[lake]\nbucket = \"abc\"\n",
        4,
        10,
        "reserved",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\ntags = { \"showcase:stack\" = \"other\" }\n[lake]\nbucket = \"abc\"\n",
        4,
        10,
        "reserved",
    ),
    // Lake.
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"My_Lake\"\n",
        5,
        10,
        "only lowercase letters, digits, - and .",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"ab\"\n",
        5,
        10,
        "3 to 63 characters",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"192.168.1.1\"\n",
        5,
        10,
        "IP address",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"-lake\"\n",
        5,
        10,
        "start and end with a letter or digit",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"xn--lake\"\n",
        5,
        10,
        "reserved by S3",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"my.lake\"\n",
        5,
        10,
        "break HTTPS",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\nprefix = \"/raw\"\n",
        6,
        10,
        "no leading /",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\nlifecycle = [{ prefix = \"x/\" }]\n",
        6,
        14,
        "needs expire_days",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\nlifecycle = [{ expire_days = 0 }]\n",
        6,
        30,
        "0 is out of range",
    ),
    // Functions.
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nmemory_mb = 64\n",
        7,
        13,
        "64 is out of range: allowed 128 to 10240 MB",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nmemory_mb = 20000\n",
        7,
        13,
        "allowed 128 to 10240 MB",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.data-api]\ntimeout_s = 901\n",
        7,
        13,
        "allowed 1 to 900 seconds",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.data-api]\narchitecture = \"arm\"\n",
        7,
        16,
        "allowed \"x86_64\" or \"arm64\"",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.data-api]\nlog_retention_days = 10\n",
        7,
        22,
        "not a CloudWatch retention",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.data-api]\nenvironment = { DB_PASSWORD = \"x\" }\n",
        7,
        17,
        "looks like a secret",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nenvironment = { AWS_REGION = \"x\" }\n",
        7,
        17,
        "reserved by Lambda",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nenvironment = { LAKE_URL = \"x\" }\n",
        7,
        17,
        "set by showcase-deploy",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nreserved_concurrency = -1\n",
        7,
        24,
        "-1 is out of range",
    ),
    // API.
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nstage = \"prod stage\"\n",
        7,
        9,
        "not a stage name",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nroutes = [\"/sales\", \"/orders\"]\n",
        7,
        21,
        "'/orders' is not a route",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nroutes = [\"/sales\", \"/sales\"]\n",
        7,
        21,
        "listed twice",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nroutes = []\n",
        7,
        10,
        "at least one route",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nrate_limit = 0\n",
        7,
        14,
        "0 is out of range",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nquota_limit = 100\nquota_period = \"YEAR\"\n",
        8,
        16,
        "not a quota period",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[api]\nquota_period = \"DAY\"\n",
        7,
        16,
        "needs quota_limit",
    ),
];

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
