//! `showcase-deploy schema` and `stack.schema.json`: the committed file is what
//! the command prints, `stack.toml` points editors at it, and a JSON Schema
//! validator (Python's `jsonschema`, pinned in scripts/stand-ins.sh) agrees
//! with `validate`: it accepts every file `validate` accepts and rejects each
//! bad file whose mistake a schema can express.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use showcase_deploy::config::{self, Vars};
use showcase_testkit::{tool, workspace_root};
use stack_files::{BAD, GOOD};

mod stack_files;

fn schema_command() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_committed_schema_is_what_the_command_prints() {
    let committed =
        std::fs::read_to_string(workspace_root().join("stack.schema.json")).unwrap_or_default();
    assert!(
        committed == schema_command(),
        "stack.schema.json is stale: run `cargo run -p showcase-deploy --no-default-features -- schema > stack.schema.json`"
    );
    assert_eq!(schema_command(), config::json_schema_text());
}

#[test]
fn the_shipped_stack_file_points_editors_at_the_schema() {
    let text = std::fs::read_to_string(workspace_root().join("stack.toml")).unwrap();
    assert_eq!(text.lines().next(), Some("#:schema ./stack.schema.json"));
}

/// What `validate` says: accepted or not (with `lake_bucket` set, as in the suite).
fn validate(text: &str) -> bool {
    config::parse(
        text,
        Path::new("stack.toml"),
        &Vars::default().with("lake_bucket", "lake-from-var"),
    )
    .is_ok()
}

/// The TOML document as JSON, what an editor hands the schema; None if not TOML.
fn as_json(text: &str) -> Option<Value> {
    let document: toml::Table = toml::from_str(text).ok()?;
    Some(serde_json::to_value(document).unwrap())
}

/// Each instance's schema errors (empty: valid), from one validator process.
fn schema_errors(instances: &[Value]) -> Vec<Vec<String>> {
    const DRIVER: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)
for instance in json.load(sys.stdin):
    errors = validator.iter_errors(instance)
    print(json.dumps(sorted("/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors)))
"#;
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("stack.schema.json");
    std::fs::write(&schema, config::json_schema_text()).unwrap();
    let mut child = Command::new(tool("python"))
        .args(["-c", DRIVER])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(instances).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the validator failed (scripts/stand-ins.sh installs jsonschema into .venv): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Vec<String>> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), instances.len());
    lines
}

const BASE: &str =
    "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n";

/// Files with every key set, one per warehouse kind `validate` accepts.
fn full_files() -> Vec<String> {
    let common = r#"#:schema ./stack.schema.json
[stack]
name = "full-stack-1"
region = "us-east-2"
tags = { team = "data", "cost-centre" = "${var.lake_bucket}" }

[lake]
bucket = "${var.lake_bucket}"
prefix = "raw/"
versioning = false
lifecycle = [
  { prefix = "tmp/", expire_days = 1 },
  { noncurrent_expire_days = 36500 },
  { abort_incomplete_upload_days = 7 },
]

[functions.data-api]
memory_mb = 10240
timeout_s = 1
architecture = "arm64"
reserved_concurrency = 0
log_retention_days = 3653
environment = { SALES_ROWS_PER_DAY = "1000", Mode = "${var.lake_bucket}" }

[functions.extractor]
memory_mb = 128
timeout_s = 900
architecture = "x86_64"
reserved_concurrency = 1000
log_retention_days = 1
environment = {}

[api]
stage = "v1_beta-2"
routes = ["/customers", "/sales"]
rate_limit = 0.5
burst_limit = 5000
quota_limit = 2000000000
quota_period = "MONTH"
"#;
    let cluster = r#"
[warehouse]
kind = "cluster"
database = "analytics_1"
admin_user = "admin"
port = 8215
subnet_ids = ["subnet-0a1", "subnet-${var.lake_bucket}"]
security_group_ids = ["sg-0b2"]
node_type = "ra3.xlplus"
nodes = 128
snapshot_retention_days = 35
maintenance_window = "sun:23:30-mon:00:00"
encrypted = true
publicly_accessible = false
"#;
    vec![
        format!("{common}{cluster}"),
        format!(
            "{common}\n[warehouse]\nkind = \"existing\"\ndatabase = \"dev\"\ncluster = \"seed-cluster\"\n"
        ),
        format!("{common}\n[warehouse]\nkind = \"existing\"\nworkgroup = \"seed\"\n"),
        format!("{common}\n[warehouse]\nkind = \"serverless\"\n"),
        format!(
            "{common}\n[warehouse]\nkind = \"serverless\"\ndatabase = \"dwh\"\nadmin_user = \"admin\"\nport = 5431\nbase_capacity = 4\nmax_capacity = 512\nsubnet_ids = [\"subnet-0a1\"]\nsecurity_group_ids = [\"sg-0b2\"]\nencrypted = true\npublicly_accessible = false\n"
        ),
    ]
}

/// Warehouse mistakes (from `warehouse.rs`'s own tests and more).
const BAD_WAREHOUSES: &[&str] = &[
    "kind = \"warehouse\"\n",
    "kind = \"cluster\"\nnode_type = \"dc2.large\"\n",
    "kind = \"cluster\"\nport = 5000\n",
    "kind = \"cluster\"\nmaintenance_window = \"sunday\"\n",
    "kind = \"cluster\"\ndatabase = \"Show-Case\"\n",
    "kind = \"cluster\"\nsubnet_ids = [\"vpc-1\"]\n",
    "kind = \"cluster\"\nsecurity_group_ids = [\"subnet-1\"]\n",
    "kind = \"cluster\"\npublicly_accessible = true\n",
    "kind = \"cluster\"\nencrypted = false\n",
    "kind = \"cluster\"\ncluster = \"mine\"\n",
    "kind = \"cluster\"\nnodes = 0\n",
    "kind = \"existing\"\n",
    "kind = \"existing\"\ncluster = \"a\"\nworkgroup = \"b\"\n",
    "kind = \"existing\"\ncluster = \"a\"\nnode_type = \"ra3.large\"\n",
    "kind = \"serverless\"\nbase_capacity = 2\n",
    "kind = \"serverless\"\nbase_capacity = 12\n",
    "kind = \"serverless\"\nnode_type = \"ra3.large\"\n",
    "database = \"x\"\n",
];

/// One key at a time around its limits, for the agreement check (both ways).
fn edges() -> Vec<String> {
    let mut files = Vec::new();
    let mut section = |header: &str, lines: &[&str]| {
        for line in lines {
            files.push(format!("{BASE}{header}\n{line}\n"));
        }
    };
    section(
        "[functions.extractor]",
        &[
            "memory_mb = 127",
            "memory_mb = 128",
            "memory_mb = 10240",
            "memory_mb = 10241",
            "timeout_s = 0",
            "timeout_s = 900",
            "reserved_concurrency = 1001",
            "log_retention_days = 13",
            "log_retention_days = 3654",
            "architecture = \"ARM64\"",
            "environment = { A1 = \"x\" }",
            "environment = { a_b = \"x\" }",
            "environment = { \"1A\" = \"x\" }",
            "environment = { \"A-B\" = \"x\" }",
            "environment = { My_Token = \"x\" }",
            "environment = { privATE_KEY_PATH = \"x\" }",
            "environment = { _HANDLER = \"x\" }",
            "environment = { API_BASE_URL = \"x\" }",
            "environment = { API_KEY_PARAMETER = \"x\" }",
            "environment = { A = 1 }",
        ],
    );
    section(
        "[functions.data-api]",
        &["timeout_s = 29", "environment = { LAKE_URL = \"x\" }"],
    );
    section(
        "[api]",
        &[
            "stage = \"a\"",
            "stage = \"\"",
            "stage = \"a.b\"",
            &format!("stage = \"{}\"", "s".repeat(128)),
            &format!("stage = \"{}\"", "s".repeat(129)),
            "stage = \"${var.lake_bucket}\"",
            "routes = [\"/products\"]",
            "routes = [\"sales\"]",
            "rate_limit = 10000",
            "rate_limit = 10000.5",
            "rate_limit = -1",
            "burst_limit = 0",
            "burst_limit = 5001",
            "quota_limit = 0",
            "quota_limit = 2000000001",
            "quota_limit = 5\nquota_period = \"WEEK\"",
            "quota_limit = 5\nquota_period = \"day\"",
        ],
    );
    section(
        "[warehouse]",
        &[
            "kind = \"cluster\"\nnodes = 129",
            "kind = \"cluster\"\nsnapshot_retention_days = 0",
            "kind = \"cluster\"\nsnapshot_retention_days = 36",
            "kind = \"cluster\"\nport = 5430",
            "kind = \"cluster\"\nport = 5431",
            "kind = \"cluster\"\nport = 5455",
            "kind = \"cluster\"\nport = 5456",
            "kind = \"cluster\"\nport = 8190",
            "kind = \"cluster\"\nport = 8191",
            "kind = \"cluster\"\nport = 8216",
            "kind = \"cluster\"\nnode_type = \"ra3.large\"",
            "kind = \"cluster\"\nnode_type = \"ra3.4xlarge\"",
            "kind = \"cluster\"\nnode_type = \"ra3.16xlarge\"",
            "kind = \"cluster\"\nmaintenance_window = \"mon:00:00-sat:23:59\"",
            "kind = \"cluster\"\nmaintenance_window = \"sun:24:00-sun:05:30\"",
            "kind = \"cluster\"\nmaintenance_window = \"sun:5:00-sun:05:30\"",
            "kind = \"cluster\"\nmaintenance_window = \"Sun:05:00-sun:05:30\"",
            "kind = \"cluster\"\nmaintenance_window = \"sun:05:60-sun:05:30\"",
            "kind = \"cluster\"\nmaintenance_window = \"sun:05:00\"",
            "kind = \"cluster\"\ndatabase = \"a\"",
            "kind = \"cluster\"\ndatabase = \"_a\"",
            "kind = \"cluster\"\ndatabase = \"1a\"",
            &format!("kind = \"cluster\"\nadmin_user = \"a{}\"", "b".repeat(62)),
            &format!("kind = \"cluster\"\nadmin_user = \"a{}\"", "b".repeat(63)),
            "kind = \"cluster\"\nsubnet_ids = [\"subnet\"]",
            "kind = \"existing\"\nworkgroup = \"w\"\ndatabase = \"d\"",
            "kind = \"existing\"\nworkgroup = \"w\"\nport = 5439",
        ],
    );
    section(
        "",
        &[
            "lifecycle = [{ expire_days = 36500 }]",
            "lifecycle = [{ expire_days = 36501 }]",
            "lifecycle = [{ prefix = \"a\", noncurrent_expire_days = 1 }]",
            "prefix = \"raw\"",
            "prefix = \"a/b/\"",
            "prefix = \"a//b\"",
            "prefix = \"/\"",
            "versioning = \"yes\"",
        ],
    );
    let replaced = |from: &str, to: &[&str]| -> Vec<String> {
        to.iter().map(|t| BASE.replace(from, t)).collect()
    };
    let long_name = format!("\"a{}\"", "b".repeat(23));
    let too_long_name = format!("\"a{}\"", "b".repeat(24));
    files.extend(replaced(
        "\"demo\"",
        &[
            "\"a\"",
            "\"a-\"",
            "\"ab-1\"",
            "\"1a\"",
            "\"a_b\"",
            &long_name,
            &too_long_name,
            "\"${var.lake_bucket}\"",
        ],
    ));
    files.extend(replaced(
        "\"eu-west-1\"",
        &["\"us-east-1\"", "\"EU-WEST-1\"", "\"sa-east-1\"", "\"\""],
    ));
    let bucket_63 = format!("\"a{}\"", "b".repeat(62));
    let bucket_64 = format!("\"a{}\"", "b".repeat(63));
    files.extend(replaced(
        "\"demo-lake\"",
        &[
            "\"abc\"",
            &bucket_63,
            &bucket_64,
            "\"a-b\"",
            "\"ab-\"",
            "\"a--b\"",
            "\"abc-s3alias\"",
            "\"abc--ol-s3\"",
            "\"sthree-abc\"",
            "\"a.b.c\"",
            "\"a..b\"",
        ],
    ));
    files.extend(replaced(
        "region = \"eu-west-1\"\n",
        &[
            "region = \"eu-west-1\"\ntags = { \"a:b\" = \"c\" }\n",
            "region = \"eu-west-1\"\ntags = { \"showcase:kind\" = \"c\" }\n",
            "region = \"eu-west-1\"\ntags = { \"\" = \"c\" }\n",
            &format!(
                "region = \"eu-west-1\"\ntags = {{ a = \"{}\" }}\n",
                "v".repeat(256)
            ),
            &format!(
                "region = \"eu-west-1\"\ntags = {{ a = \"{}\" }}\n",
                "v".repeat(257)
            ),
            &format!(
                "region = \"eu-west-1\"\ntags = {{ {} = \"c\" }}\n",
                "k".repeat(129)
            ),
        ],
    ));
    files
}

/// What a JSON Schema cannot say, so these bad files pass it (each with why).
/// Anything else `validate` refuses, the schema must refuse too.
const BEYOND_A_SCHEMA: &[(&str, &str)] = &[
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[functions.extractor]\nmemory_mb = 256.0\n",
        "JSON Schema's integer is any number without a fraction, 256.0 included; TOML's float is not an integer",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"${var.lake_bucket}\"\n[lake]\nbucket = \"abc\"\n",
        "a string holding a ${var.NAME} is checked once substituted (here into lake-from-var, no region)",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"${var.unset}\"\n",
        "whether a variable is set is known only when the command runs",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[orchestrator]\nstart_date = \"2023-12-31\"\n",
        "a date before the data API's first day has a valid shape; the schema checks the shape",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[orchestrator]\nstart_date = \"2024-02-30\"\n",
        "a day a month does not have: the schema checks the shape, not the calendar",
    ),
];

#[test]
fn a_json_schema_validator_agrees_with_validate() {
    struct Case {
        text: String,
        accepted: bool,
        /// Must the schema's verdict be `validate`'s?
        must_agree: bool,
    }
    let mut cases = Vec::new();
    let mut not_toml = 0;
    let mut add = |text: String, must_agree: bool| {
        let accepted = validate(&text);
        cases.push(Case {
            text,
            accepted,
            must_agree,
        });
    };
    let shipped = std::fs::read_to_string(workspace_root().join("stack.toml")).unwrap();
    for good in [GOOD.to_owned(), BASE.to_owned(), shipped]
        .into_iter()
        .chain(full_files())
    {
        assert!(validate(&good), "validate refuses a good file:\n{good}");
        add(good, true);
    }
    for (text, ..) in BAD {
        assert!(!validate(text), "validate accepts a bad file:\n{text}");
        if as_json(text).is_none() {
            // Not TOML: the editor's TOML parser says so before any schema.
            not_toml += 1;
            continue;
        }
        add((*text).to_owned(), true);
    }
    for warehouse in BAD_WAREHOUSES {
        let text = format!("{BASE}[warehouse]\n{warehouse}");
        assert!(!validate(&text), "validate accepts a bad file:\n{text}");
        add(text, true);
    }
    for text in edges() {
        add(text, true);
    }
    for (text, _why) in BEYOND_A_SCHEMA {
        assert!(!validate(text), "validate accepts:\n{text}");
        add((*text).to_owned(), false);
    }
    assert_eq!(not_toml, 1, "one bad file is a TOML syntax error");
    let edges_accepted = cases.iter().filter(|c| c.accepted).count();
    assert!(
        edges_accepted > 20 && cases.len() - edges_accepted > 60,
        "both sides covered"
    );

    let instances: Vec<Value> = cases
        .iter()
        .map(|c| as_json(&c.text).unwrap_or_else(|| panic!("not TOML:\n{}", c.text)))
        .collect();
    let verdicts = schema_errors(&instances);
    let mut disagreements = Vec::new();
    for (case, errors) in cases.iter().zip(&verdicts) {
        let schema_accepts = errors.is_empty();
        if case.must_agree && schema_accepts != case.accepted {
            disagreements.push(format!(
                "validate {}, the schema {} {errors:?}:\n{}",
                if case.accepted { "accepts" } else { "refuses" },
                if schema_accepts { "accepts" } else { "refuses" },
                case.text
            ));
        }
        if !case.must_agree {
            assert!(
                schema_accepts,
                "the schema now expresses this; move it out of BEYOND_A_SCHEMA:\n{}",
                case.text
            );
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreement(s):\n\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
}
