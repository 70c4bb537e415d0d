//! Stack files shared by the tests that check them: `stack_config.rs` (what
//! `validate` says, where) and `stack_schema.rs` (the JSON Schema agrees).

/// The smallest valid file.
pub const GOOD: &str = r#"
[stack]
name = "showcase"
region = "eu-west-1"

[lake]
bucket = "my-lake-bucket"
"#;

/// (file text, line, column, a fragment of the message)
pub const BAD: &[(&str, usize, usize, &str)] = &[
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
    // Orchestrator.
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[orchestrator]\nmwaa_environment = \"my env\"\n",
        7,
        20,
        "not an MWAA environment name",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[orchestrator]\nschedule = \"@hourly\"\n",
        7,
        12,
        "a cron line that fires once a day",
    ),
    (
        "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n[orchestrator]\nstart_date = \"1 March 2024\"\n",
        7,
        14,
        "is not a date",
    ),
];
