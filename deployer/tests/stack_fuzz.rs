//! Property test of the stack file parser over generated and mutated
//! `stack.toml` files: it never panics, and every error it reports carries a
//! line and a column inside the file (line 1..=lines + 1, column 1..=that
//! line's length + 1), a message, and the file's path. Two sources of cases:
//! real files (the repository's `stack.toml`, every file the config tests
//! use, one with every section) cut, spliced and sprinkled with TOML's
//! punctuation, keys and values of the wrong type; and files assembled from
//! the schema's own tables and keys with values of any type.
//! `SHOWCASE_PROPTEST_CASES` sets the count (default 20,000; the bench runs
//! 10^6).

mod stack_files;

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};
use showcase_deploy::config::{self, Vars};

const EVERY_SECTION: &str = r#"
[stack]
name = "full"
region = "eu-west-1"
tags = { team = "data", "cost centre" = "42" }

[lake]
bucket = "${var.bucket}"
prefix = "raw/"
versioning = false
lifecycle = [{ prefix = "tmp/", expire_days = 7, noncurrent_expire_days = 3, abort_incomplete_upload_days = 1 }]

[functions.data-api]
memory_mb = 512
timeout_s = 29
architecture = "arm64"
reserved_concurrency = 5
log_retention_days = 30
environment = { SALES_ROWS_PER_DAY = "1000" }

[functions.extractor]
memory_mb = 1024
timeout_s = 900

[api]
stage = "v1"
routes = ["/sales"]
rate_limit = 5
burst_limit = 10
quota_limit = 100
quota_period = "WEEK"

[warehouse]
kind = "cluster"
database = "dw"
node_type = "ra3.xlplus"
nodes = 2
admin_user = "admin"
port = 5439
subnet_ids = ["subnet-1", "subnet-2"]
security_group_ids = ["sg-1"]
"#;

/// Pieces a mutation inserts: TOML's punctuation, the schema's keys and
/// sections, values of every type, odd text.
const PIECES: &[&str] = &[
    "=",
    "\"",
    "'",
    "[",
    "]",
    "[[",
    "]]",
    "{",
    "}",
    ",",
    ".",
    "\n",
    "#",
    " ",
    "\t",
    "\r\n",
    "\\",
    "\"\"\"",
    "'''",
    "[stack]",
    "[lake]",
    "[api]",
    "[warehouse]",
    "[functions.extractor]",
    "[functions.data-api]",
    "[functions.loader]",
    "name",
    "region",
    "bucket",
    "prefix",
    "tags",
    "memory_mb",
    "timeout_s",
    "routes",
    "stage",
    "kind",
    "nodes",
    "port",
    "lifecycle",
    "environment",
    "quota_period",
    "expire_days",
    "= 1",
    "= -1",
    "= 0",
    "= 99999999999999999999",
    "= 1.5",
    "= nan",
    "= inf",
    "= true",
    "= \"\"",
    "= []",
    "= {}",
    "= [1, \"a\"]",
    "= 1979-05-27T07:32:00Z",
    "= \"${var.x}\"",
    "${var.",
    "${",
    "}",
    "= \"${var.bucket}\"",
    "é",
    "😀",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "0x1F",
    "1_000",
    "+",
    "-",
    "_",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Removes `len` bytes at a position (a fraction of the text's length).
    Cut { at: f64, len: usize },
    /// Inserts a piece at a position.
    Insert { at: f64, piece: usize },
    /// Inserts arbitrary text.
    InsertText { at: f64, text: String },
    /// Repeats a line somewhere else.
    DuplicateLine { from: f64, to: f64 },
    /// Swaps two lines.
    SwapLines { a: f64, b: f64 },
    /// Replaces what follows the first `=` of a line with a piece.
    ReplaceValue { line: f64, piece: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0_f64;
    prop_oneof![
        (at.clone(), 1..40_usize).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (at.clone(), 0..PIECES.len()).prop_map(|(at, piece)| Mutation::Insert { at, piece }),
        (at.clone(), any::<String>()).prop_map(|(at, text)| Mutation::InsertText { at, text }),
        (at.clone(), at.clone()).prop_map(|(from, to)| Mutation::DuplicateLine { from, to }),
        (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::SwapLines { a, b }),
        (at, 0..PIECES.len()).prop_map(|(line, piece)| Mutation::ReplaceValue { line, piece }),
    ]
}

/// A char boundary near `fraction` of `text`.
fn position(text: &str, fraction: f64) -> usize {
    let mut at = ((text.len() as f64) * fraction) as usize;
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn line_index(lines: &[String], fraction: f64) -> usize {
    (((lines.len() as f64) * fraction) as usize).min(lines.len().saturating_sub(1))
}

fn apply(text: &mut String, mutation: &Mutation) {
    match mutation {
        Mutation::Cut { at, len } => {
            let start = position(text, *at);
            let mut end = (start + len).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, "");
        }
        Mutation::Insert { at, piece } => {
            let at = position(text, *at);
            text.insert_str(at, PIECES[*piece]);
        }
        Mutation::InsertText { at, text: inserted } => {
            let at = position(text, *at);
            text.insert_str(at, inserted);
        }
        Mutation::DuplicateLine { from, to } => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
            let line = lines[line_index(&lines, *from)].clone();
            let to = line_index(&lines, *to);
            lines.insert(to, line);
            *text = lines.join("\n");
        }
        Mutation::SwapLines { a, b } => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
            let (a, b) = (line_index(&lines, *a), line_index(&lines, *b));
            lines.swap(a, b);
            *text = lines.join("\n");
        }
        Mutation::ReplaceValue { line, piece } => {
            let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
            let index = line_index(&lines, *line);
            if let Some(eq) = lines[index].find('=') {
                let key = lines[index][..eq].to_owned();
                lines[index] = format!("{key}{}", PIECES[*piece]);
            }
            *text = lines.join("\n");
        }
    }
}

fn seeds() -> Vec<String> {
    let mut seeds = vec![
        include_str!("../../stack.toml").to_owned(),
        stack_files::GOOD.to_owned(),
        EVERY_SECTION.to_owned(),
    ];
    seeds.extend(stack_files::BAD.iter().map(|(text, ..)| (*text).to_owned()));
    seeds
}

/// A real file with a few mutations.
fn mutated() -> impl Strategy<Value = String> {
    let seeds = seeds();
    (0..seeds.len(), proptest::collection::vec(mutation(), 1..6)).prop_map(
        move |(seed, mutations)| {
            let mut text = seeds[seed].clone();
            for mutation in &mutations {
                apply(&mut text, mutation);
            }
            text
        },
    )
}

const TABLES: &[&str] = &[
    "stack",
    "lake",
    "api",
    "warehouse",
    "functions.extractor",
    "functions.data-api",
    "functions",
    "stack.tags",
    "functions.extractor.environment",
    "[lake.lifecycle]",
];

const KEYS: &[&str] = &[
    "name",
    "region",
    "tags",
    "bucket",
    "prefix",
    "versioning",
    "lifecycle",
    "memory_mb",
    "timeout_s",
    "architecture",
    "reserved_concurrency",
    "log_retention_days",
    "environment",
    "stage",
    "routes",
    "rate_limit",
    "burst_limit",
    "quota_limit",
    "quota_period",
    "kind",
    "database",
    "node_type",
    "nodes",
    "admin_user",
    "port",
    "subnet_ids",
    "security_group_ids",
    "cluster",
    "workgroup",
    "expire_days",
    "noncurrent_expire_days",
    "abort_incomplete_upload_days",
    "AWS_REGION",
    "API_KEY",
    "password",
    "x",
];

/// Any TOML value, a few levels deep.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0..20_000_i64).prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z0-9${}./_ -]{0,30}".prop_map(|s| format!("{s:?}")),
        any::<String>().prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "\"eu-west-1\"",
            "\"showcase\"",
            "\"x86_64\"",
            "\"arm64\"",
            "\"DAY\"",
            "\"cluster\"",
            "\"existing\"",
            "\"serverless\"",
            "\"/sales\"",
            "\"${var.bucket}\"",
            "\"${var.}\"",
            "\"aws:x\"",
            "\"showcase:stack\"",
            "1979-05-27",
        ])
        .prop_map(str::to_owned),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|items| format!("[{}]", items.join(", "))),
            proptest::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(
                |pairs| {
                    let pairs: Vec<String> =
                        pairs.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!("{{ {} }}", pairs.join(", "))
                }
            ),
        ]
    })
}

/// A file assembled from the schema's tables and keys.
fn generated() -> impl Strategy<Value = String> {
    let section = (
        prop::sample::select(TABLES),
        proptest::collection::vec((prop::sample::select(KEYS), value()), 0..6),
    );
    proptest::collection::vec(section, 0..6).prop_map(|sections| {
        let mut text = String::new();
        for (table, pairs) in sections {
            // `[lake.lifecycle]` becomes an array of tables.
            text.push_str(&format!("[{table}]\n"));
            for (key, value) in pairs {
                text.push_str(&format!("{key} = {value}\n"));
            }
        }
        text
    })
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let path = Path::new("fuzz/stack.toml");
    let vars = Vars::default().with("bucket", "fuzz-lake");
    let Err(errors) = config::parse(text, path, &vars) else {
        return Ok(());
    };
    prop_assert!(!errors.0.is_empty(), "an error with no detail");
    let lines: Vec<&str> = text.split('\n').collect();
    for error in &errors.0 {
        prop_assert_eq!(&error.file, path);
        prop_assert!(!error.message.is_empty(), "no message: {:?}", error);
        prop_assert!(
            error.line >= 1 && error.line <= lines.len() + 1,
            "line {} of {}: {:?}",
            error.line,
            lines.len(),
            error
        );
        let width = lines
            .get(error.line - 1)
            .map_or(0, |line| line.chars().count());
        prop_assert!(
            error.column >= 1 && error.column <= width + 1,
            "column {} of a {}-character line: {:?}",
            error.column,
            width,
            error
        );
        let shown = error.to_string();
        prop_assert!(
            shown.starts_with(&format!(
                "fuzz/stack.toml:{}:{}: ",
                error.line, error.column
            )),
            "{}",
            shown
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("SHOWCASE_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // Failures are printed with their smallest text; nothing written to the tree.
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        max_shrink_iters: 2_000,
        ..Config::default()
    })
}

#[test]
fn every_stack_file_parses_or_fails_with_a_located_error() {
    let total = cases();
    let mutated_cases = total - total / 4;
    let started = std::time::Instant::now();
    runner(mutated_cases)
        .run(&mutated(), |text| check(&text))
        .unwrap();
    runner(total / 4)
        .run(&generated(), |text| check(&text))
        .unwrap();
    let row = format!(
        "| stack files | {mutated_cases} mutated, {} generated | no panic, every error located | {:.1} s |",
        total / 4,
        started.elapsed().as_secs_f64()
    );
    println!("{row}");
    // The bench command collects the figures (bench/reliability.sh).
    if let Ok(path) = std::env::var("SHOWCASE_RELIABILITY_REPORT") {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        writeln!(file, "{row}").unwrap();
    }
}

#[test]
fn the_seeds_themselves_are_checked() {
    for seed in seeds() {
        check(&seed).unwrap();
    }
    assert!(
        config::parse(
            EVERY_SECTION,
            Path::new("stack.toml"),
            &Vars::default().with("bucket", "full-lake")
        )
        .is_ok(),
        "the every-section seed is a valid file"
    );
}
