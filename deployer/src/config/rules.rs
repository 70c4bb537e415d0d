//! What a valid stack is. Every rule reports where and what is allowed; all
//! mistakes are collected in one pass.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::error::{ConfigError, ConfigErrors};
use super::model::raw;
use super::model::{
    ApiConfig, Architecture, FunctionConfig, FunctionName, LakeConfig, LifecycleRule, QuotaPeriod,
    Stack,
};
use super::source::SourceFile;
use super::vars::Vars;

/// Regions the tool knows; a typo here would otherwise surface as a DNS error.
pub const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

/// The retention periods CloudWatch Logs accepts, in days.
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The data API's routes; a stack may serve a subset.
pub const ROUTES: &[&str] = &["/sales", "/products", "/customers"];

/// Allowed ranges (end exclusive) and defaults: the rules below and the JSON
/// Schema (`schema.rs`) both read these.
pub(crate) const STACK_NAME_MAX: usize = 24;
pub(crate) const TAG_KEY_MAX: usize = 128;
pub(crate) const TAG_VALUE_MAX: usize = 256;
pub(crate) const LIFECYCLE_DAYS: Range<i64> = 1..36_501;
pub(crate) const MEMORY_MB: Range<i64> = 128..10_241;
pub(crate) const TIMEOUT_S: Range<i64> = 1..901;
pub(crate) const RESERVED_CONCURRENCY: Range<i64> = 0..1_001;
pub(crate) const ARCHITECTURES: &[&str] = &["x86_64", "arm64"];
pub(crate) const DEFAULT_LOG_RETENTION_DAYS: i64 = 14;
pub(crate) const DEFAULT_STAGE: &str = "prod";
pub(crate) const STAGE_MAX: usize = 128;
/// Requests per second: more than 0, up to this.
pub(crate) const MAX_RATE_LIMIT: f64 = 10_000.0;
pub(crate) const DEFAULT_RATE_LIMIT: f64 = 10.0;
pub(crate) const BURST_LIMIT: Range<i64> = 1..5_001;
pub(crate) const DEFAULT_BURST_LIMIT: i64 = 20;
pub(crate) const QUOTA_LIMIT: Range<i64> = 1..2_000_000_001;
pub(crate) const DEFAULT_QUOTA_LIMIT: i64 = 10_000;
pub(crate) const QUOTA_PERIODS: &[QuotaPeriod] =
    &[QuotaPeriod::Day, QuotaPeriod::Week, QuotaPeriod::Month];

/// (memory_mb, timeout_s) when the file leaves them out.
pub(crate) fn function_defaults(function: FunctionName) -> (i64, i64) {
    match function {
        FunctionName::DataApi => (256, 29),
        FunctionName::Extractor => (256, 300),
    }
}

/// The tag that marks what a stack owns.
pub const STACK_TAG: &str = "showcase:stack";
/// The tag naming a resource's kind (`function_role`, `lake_bucket`, …).
pub const KIND_TAG: &str = "showcase:kind";

pub(super) struct Checker<'a> {
    file: &'a SourceFile<'a>,
    vars: &'a Vars,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    pub(super) fn fail(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        self.errors.push(self.file.error(span, key, message));
    }

    /// A string with `${var.NAME}` substituted.
    pub(super) fn text(&mut self, value: &Spanned<String>, key: &str) -> Option<String> {
        match self.vars.substitute(value.get_ref()) {
            Ok(text) => Some(text),
            Err(message) => {
                self.fail(value.span(), key, message);
                None
            }
        }
    }

    pub(super) fn number(
        &mut self,
        value: Option<&Spanned<i64>>,
        key: &str,
        default: i64,
        range: Range<i64>,
        unit: &str,
    ) -> i64 {
        let Some(value) = value else { return default };
        let n = *value.get_ref();
        if !range.contains(&n) {
            self.fail(
                value.span(),
                key,
                format!(
                    "{n} is out of range: allowed {} to {} {unit}",
                    range.start,
                    range.end - 1
                ),
            );
        }
        n
    }
}

pub(crate) fn validate(
    raw: raw::StackFile,
    file: &SourceFile<'_>,
    vars: &Vars,
) -> Result<Stack, ConfigErrors> {
    let mut check = Checker {
        file,
        vars,
        errors: Vec::new(),
    };
    let name = check.text(&raw.stack.name, "stack.name");
    if let Some(name) = name.as_deref().filter(|n| !is_stack_name(n)) {
        check.fail(raw.stack.name.span(), "stack.name", format!("'{name}' is not allowed: 1 to 24 lowercase letters, digits or -, starting with a letter"));
    }
    let region = check.text(&raw.stack.region, "stack.region");
    if let Some(region) = region.as_deref().filter(|r| !REGIONS.contains(r)) {
        let hint = REGIONS
            .iter()
            .find(|r| r.starts_with(region.get(..2).unwrap_or("?")))
            .copied()
            .unwrap_or("eu-west-1");
        check.fail(
            raw.stack.region.span(),
            "stack.region",
            format!("'{region}' is not an AWS region this tool knows (e.g. {hint})"),
        );
    }
    let tags = tags(&mut check, &raw.stack.tags);
    let lake = lake(&mut check, &raw.lake);
    let mut functions = BTreeMap::new();
    for (function, section) in [
        (FunctionName::DataApi, &raw.functions.data_api),
        (FunctionName::Extractor, &raw.functions.extractor),
    ] {
        let defaults = raw::FunctionSection::default();
        let config = function_config(&mut check, function, section.as_ref().unwrap_or(&defaults));
        let full_name = format!(
            "{}-{}",
            name.as_deref().unwrap_or_default(),
            function.as_str()
        );
        if full_name.len() > 64 {
            check.fail(
                raw.stack.name.span(),
                "stack.name",
                format!(
                    "the function name {full_name} would be longer than Lambda's 64 characters"
                ),
            );
        }
        functions.insert(function, config);
    }
    let api = api(&mut check, &raw.api);
    let warehouse = raw
        .warehouse
        .as_ref()
        .and_then(|section| super::warehouse::warehouse(&mut check, section));
    let orchestrator = raw
        .orchestrator
        .as_ref()
        .map(|section| super::orchestrator::orchestrator(&mut check, section));
    if check.errors.is_empty() {
        Ok(Stack {
            name: name.unwrap_or_default(),
            region: region.unwrap_or_default(),
            tags,
            lake,
            functions,
            api,
            warehouse,
            orchestrator,
        })
    } else {
        check.errors.sort_by_key(|e| (e.line, e.column));
        Err(ConfigErrors(check.errors))
    }
}

fn is_stack_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && name.len() <= STACK_NAME_MAX
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

fn tags(
    check: &mut Checker<'_>,
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for (key, value) in raw {
        let name = key.get_ref();
        let path = format!("stack.tags.{name}");
        if name.starts_with("aws:")
            || name == STACK_TAG
            || name == KIND_TAG
            || name.is_empty()
            || name.len() > TAG_KEY_MAX
        {
            check.fail(key.span(), &path, format!("tag keys are 1 to 128 characters and may not be {STACK_TAG}, {KIND_TAG} or start with aws: (all are reserved)"));
        }
        if let Some(text) = check.text(value, &path) {
            if text.len() > TAG_VALUE_MAX {
                check.fail(value.span(), &path, "tag values are at most 256 characters");
            }
            tags.insert(name.clone(), text);
        }
    }
    tags
}

/// Bucket name length (inclusive) and what S3 reserves.
pub(crate) const BUCKET_NAME_LEN: (usize, usize) = (3, 63);
pub(crate) const BUCKET_RESERVED_PREFIXES: &[&str] = &["xn--", "sthree-"];
pub(crate) const BUCKET_RESERVED_SUFFIXES: &[&str] = &["-s3alias", "--ol-s3"];

/// S3's bucket naming rules (general purpose buckets).
fn bucket_name_problem(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if !(BUCKET_NAME_LEN.0..=BUCKET_NAME_LEN.1).contains(&name.len()) {
        return Some("a bucket name is 3 to 63 characters");
    }
    if !bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.')
    {
        return Some("only lowercase letters, digits, - and . are allowed");
    }
    if !bytes[0].is_ascii_alphanumeric() || !bytes[bytes.len() - 1].is_ascii_alphanumeric() {
        return Some("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("no two adjacent periods, and no period next to a hyphen");
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Some("it may not look like an IP address");
    }
    if BUCKET_RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        || BUCKET_RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
    {
        return Some(
            "the prefixes xn--, sthree- and suffixes -s3alias, --ol-s3 are reserved by S3",
        );
    }
    if name.contains('.') {
        // Periods break virtual-hosted TLS (the certificate is *.s3.amazonaws.com).
        return Some("periods are allowed by S3 but break HTTPS access; use - instead");
    }
    None
}

fn lake(check: &mut Checker<'_>, raw: &raw::LakeSection) -> LakeConfig {
    let bucket = check.text(&raw.bucket, "lake.bucket");
    if let Some((bucket, problem)) = bucket
        .as_deref()
        .and_then(|b| bucket_name_problem(b).map(|p| (b, p)))
    {
        check.fail(
            raw.bucket.span(),
            "lake.bucket",
            format!("'{bucket}' is not a valid bucket name: {problem}"),
        );
    }
    let bucket = bucket.unwrap_or_default();
    let prefix = match &raw.prefix {
        None => String::new(),
        Some(value) => {
            let text = check.text(value, "lake.prefix").unwrap_or_default();
            if text.starts_with('/') || text.contains("//") {
                check.fail(
                    value.span(),
                    "lake.prefix",
                    "a key prefix has no leading / and no empty segment, e.g. \"raw/\"",
                );
            }
            match text.trim_end_matches('/') {
                "" => String::new(),
                trimmed => format!("{trimmed}/"),
            }
        }
    };
    let mut lifecycle = Vec::new();
    for (index, rule) in raw.lifecycle.iter().enumerate() {
        let key = format!("lake.lifecycle[{index}]");
        let body = rule.get_ref();
        let days = |check: &mut Checker<'_>, value: &Option<Spanned<i64>>, field: &str| {
            value.as_ref().map(|v| {
                check.number(
                    Some(v),
                    &format!("{key}.{field}"),
                    1,
                    LIFECYCLE_DAYS,
                    "days",
                ) as u32
            })
        };
        let rule_out = LifecycleRule {
            prefix: body
                .prefix
                .as_ref()
                .and_then(|p| check.text(p, &format!("{key}.prefix")))
                .unwrap_or_default(),
            expire_days: days(check, &body.expire_days, "expire_days"),
            noncurrent_expire_days: days(
                check,
                &body.noncurrent_expire_days,
                "noncurrent_expire_days",
            ),
            abort_incomplete_upload_days: days(
                check,
                &body.abort_incomplete_upload_days,
                "abort_incomplete_upload_days",
            ),
        };
        if rule_out.expire_days.is_none()
            && rule_out.noncurrent_expire_days.is_none()
            && rule_out.abort_incomplete_upload_days.is_none()
        {
            check.fail(rule.span(), &key, "a lifecycle rule needs expire_days, noncurrent_expire_days or abort_incomplete_upload_days");
        }
        lifecycle.push(rule_out);
    }
    LakeConfig {
        bucket,
        prefix,
        versioning: raw.versioning.unwrap_or(true),
        lifecycle,
    }
}

/// Environment variable names Lambda reserves for itself.
pub(crate) const RESERVED_ENVIRONMENT: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Variables the tool sets itself from the stack (so the names always match what it
/// deployed): each function's own list, so a variable it gains is refused here too.
fn managed_environment(variable: &str) -> bool {
    managed_variables().any(|managed| managed == variable)
}

pub(crate) fn managed_variables() -> impl Iterator<Item = &'static str> {
    showcase_extractor::env::SET_BY_DEPLOY
        .iter()
        .chain(showcase_data_api::SET_BY_DEPLOY)
        .copied()
}

fn function_config(
    check: &mut Checker<'_>,
    function: FunctionName,
    raw: &raw::FunctionSection,
) -> FunctionConfig {
    let key = |field: &str| format!("functions.{}.{field}", function.as_str());
    let (default_memory, default_timeout) = function_defaults(function);
    let memory_mb = check.number(
        raw.memory_mb.as_ref(),
        &key("memory_mb"),
        default_memory,
        MEMORY_MB,
        "MB",
    ) as u32;
    let timeout_s = check.number(
        raw.timeout_s.as_ref(),
        &key("timeout_s"),
        default_timeout,
        TIMEOUT_S,
        "seconds",
    ) as u32;
    let architecture = match &raw.architecture {
        None => Architecture::X86_64,
        Some(value) => match value.get_ref().as_str() {
            "x86_64" => Architecture::X86_64,
            "arm64" => Architecture::Arm64,
            other => {
                check.fail(
                    value.span(),
                    &key("architecture"),
                    format!("'{other}' is not an architecture: allowed \"x86_64\" or \"arm64\""),
                );
                Architecture::X86_64
            }
        },
    };
    let reserved_concurrency = raw.reserved_concurrency.as_ref().map(|v| {
        check.number(
            Some(v),
            &key("reserved_concurrency"),
            0,
            RESERVED_CONCURRENCY,
            "concurrent executions",
        ) as u32
    });
    let log_retention_days = match &raw.log_retention_days {
        None => DEFAULT_LOG_RETENTION_DAYS as u32,
        Some(value) => {
            if !LOG_RETENTION_DAYS.contains(value.get_ref()) {
                check.fail(
                    value.span(),
                    &key("log_retention_days"),
                    format!(
                        "{} is not a CloudWatch retention: allowed {LOG_RETENTION_DAYS:?}",
                        value.get_ref()
                    ),
                );
            }
            *value.get_ref() as u32
        }
    };
    let mut environment = BTreeMap::new();
    for (name, value) in &raw.environment {
        let path = key(&format!("environment.{}", name.get_ref()));
        let variable = name.get_ref();
        let well_formed = variable
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && variable
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !well_formed {
            check.fail(
                name.span(),
                &path,
                "an environment variable name is letters, digits and _, starting with a letter",
            );
        } else if RESERVED_ENVIRONMENT.contains(&variable.as_str()) {
            check.fail(
                name.span(),
                &path,
                format!("{variable} is reserved by Lambda"),
            );
        } else if managed_environment(variable) {
            check.fail(
                name.span(),
                &path,
                format!("{variable} is set by showcase-deploy from the stack; remove it here"),
            );
        } else if looks_secret(variable) {
            check.fail(name.span(), &path, format!("{variable} looks like a secret: secrets never live in stack.toml (keep them in Secrets Manager or SSM and pass their name)"));
        }
        if let Some(text) = check.text(value, &path) {
            environment.insert(variable.clone(), text);
        }
    }
    FunctionConfig {
        memory_mb,
        timeout_s,
        architecture,
        reserved_concurrency,
        log_retention_days,
        environment,
    }
}

/// A variable whose name contains one of these (in any case) looks like a secret.
pub(crate) const SECRET_WORDS: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| upper.contains(word))
}

fn api(check: &mut Checker<'_>, raw: &raw::ApiSection) -> ApiConfig {
    let stage = match &raw.stage {
        None => DEFAULT_STAGE.to_owned(),
        Some(value) => {
            let text = check
                .text(value, "api.stage")
                .unwrap_or_else(|| DEFAULT_STAGE.to_owned());
            if text.is_empty()
                || text.len() > STAGE_MAX
                || !text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                check.fail(
                    value.span(),
                    "api.stage",
                    format!("'{text}' is not a stage name: 1 to 128 letters, digits, - or _"),
                );
            }
            text
        }
    };
    let routes = match &raw.routes {
        None => ROUTES.iter().map(|r| r.to_string()).collect(),
        Some(list) => {
            if list.get_ref().is_empty() {
                check.fail(
                    list.span(),
                    "api.routes",
                    format!("at least one route: allowed {ROUTES:?}"),
                );
            }
            let mut routes: Vec<String> = Vec::new();
            for route in list.get_ref() {
                if !ROUTES.contains(&route.get_ref().as_str()) {
                    check.fail(
                        route.span(),
                        "api.routes",
                        format!(
                            "'{}' is not a route of the data API: allowed {ROUTES:?}",
                            route.get_ref()
                        ),
                    );
                } else if routes.contains(route.get_ref()) {
                    check.fail(
                        route.span(),
                        "api.routes",
                        format!("'{}' is listed twice", route.get_ref()),
                    );
                } else {
                    routes.push(route.get_ref().clone());
                }
            }
            routes
        }
    };
    let rate_limit = match &raw.rate_limit {
        None => DEFAULT_RATE_LIMIT,
        Some(value) => {
            let rate = *value.get_ref();
            if !(rate > 0.0 && rate <= MAX_RATE_LIMIT) {
                check.fail(value.span(), "api.rate_limit", format!("{rate} is out of range: allowed more than 0 and up to 10000 requests per second"));
            }
            rate
        }
    };
    let burst_limit = check.number(
        raw.burst_limit.as_ref(),
        "api.burst_limit",
        DEFAULT_BURST_LIMIT,
        BURST_LIMIT,
        "requests",
    ) as i32;
    let quota = match (&raw.quota_limit, &raw.quota_period) {
        (None, None) => Some((DEFAULT_QUOTA_LIMIT as i32, QuotaPeriod::Day)),
        (Some(limit), period) => {
            let limit =
                check.number(Some(limit), "api.quota_limit", 0, QUOTA_LIMIT, "requests") as i32;
            let period = match period.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
                None => QuotaPeriod::Day,
                Some((name, span)) => match QUOTA_PERIODS.iter().find(|q| q.as_str() == name) {
                    Some(known) => *known,
                    None => {
                        check.fail(span, "api.quota_period", format!("'{name}' is not a quota period: allowed \"DAY\", \"WEEK\" or \"MONTH\""));
                        QuotaPeriod::Day
                    }
                },
            };
            Some((limit, period))
        }
        (None, Some(period)) => {
            check.fail(
                period.span(),
                "api.quota_period",
                "quota_period needs quota_limit",
            );
            None
        }
    };
    ApiConfig {
        stage,
        routes,
        rate_limit,
        burst_limit,
        quota,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{Vars, parse};

    /// `file:line:column` and message of the first error, or None if accepted.
    fn first_error(text: &str) -> Option<String> {
        parse(text, Path::new("stack.toml"), &Vars::default())
            .err()
            .map(|errors| errors.0[0].to_string())
    }

    #[test]
    fn api_key_parameter_in_the_extractor_environment_is_refused_at_its_position() {
        let text = "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n\
                    [functions.extractor.environment]\nAPI_KEY_PARAMETER = \"x\"\n";
        let shown = first_error(text).unwrap_or_else(|| panic!("accepted:\n{text}"));
        assert_eq!(
            shown,
            "stack.toml:7:1: functions.extractor.environment.API_KEY_PARAMETER: \
             API_KEY_PARAMETER is set by showcase-deploy from the stack; remove it here"
        );
    }

    #[test]
    fn every_variable_the_functions_say_the_tool_sets_is_refused_for_both() {
        let managed = showcase_extractor::env::SET_BY_DEPLOY
            .iter()
            .chain(showcase_data_api::SET_BY_DEPLOY);
        for variable in managed {
            for function in ["extractor", "data-api"] {
                let text = format!(
                    "[stack]\nname = \"a\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"abc\"\n\
                     [functions.{function}]\nenvironment = {{ {variable} = \"x\" }}\n"
                );
                let shown = first_error(&text).unwrap_or_else(|| panic!("accepted:\n{text}"));
                assert!(
                    shown.starts_with("stack.toml:7:17: ")
                        && shown
                            .ends_with("is set by showcase-deploy from the stack; remove it here"),
                    "{shown}"
                );
            }
        }
    }
}
