//! `[orchestrator]`: when and where the stack's Airflow DAG runs. The MWAA
//! environment is the user's (creating one takes a VPC and up to two hours):
//! the stack only names it, and puts its DAG in the environment's bucket.

use toml::Spanned;

use super::model::OrchestratorConfig;
use super::model::raw::OrchestratorSection;
use super::rules::Checker;

/// The data API's first day: nothing to extract before it.
pub(crate) const FIRST_START_DATE: &str = "2024-01-01";
pub(crate) const DEFAULT_SCHEDULE: &str = "daily";
/// MWAA's environment names: a letter, then letters, digits, `-` or `_`.
pub(crate) const ENVIRONMENT_NAME_MAX: usize = 80;
pub(crate) const ENVIRONMENT_NAME_PATTERN: &str = "^[a-zA-Z][0-9a-zA-Z_-]{0,79}$";
/// A pip requirement line without options, URLs or markers: a package name,
/// maybe extras, maybe version specifiers.
pub(crate) const REQUIREMENT_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]*(\\[[A-Za-z0-9._,-]+\\])?( *(==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]+( *, *(==|>=|<=|~=|!=|<|>) *[A-Za-z0-9.*+!_-]+)*)?$";
/// A cron line firing once a day: minute and hour fixed, every day.
pub(crate) const DAILY_CRON_PATTERN: &str =
    "^([0-9]|[1-5][0-9]) ([0-9]|1[0-9]|2[0-3]) \\* \\* \\*$";

pub(super) fn orchestrator(
    check: &mut Checker<'_>,
    raw: &OrchestratorSection,
) -> OrchestratorConfig {
    let mwaa_environment = raw.mwaa_environment.as_ref().and_then(|value| {
        let name = check.text(value, "orchestrator.mwaa_environment")?;
        if !is_environment_name(&name) {
            check.fail(
                value.span(),
                "orchestrator.mwaa_environment",
                format!("'{name}' is not an MWAA environment name: 1 to {ENVIRONMENT_NAME_MAX} letters, digits, - or _, starting with a letter"),
            );
        }
        Some(name)
    });
    let start_date = match &raw.start_date {
        None => FIRST_START_DATE.to_owned(),
        Some(value) => start_date(check, value).unwrap_or_default(),
    };
    let schedule = match &raw.schedule {
        None => daily_cron(DEFAULT_SCHEDULE).unwrap_or_default(),
        Some(value) => {
            let text = check
                .text(value, "orchestrator.schedule")
                .unwrap_or_default();
            match daily_cron(&text) {
                Some(cron) => cron,
                None => {
                    check.fail(
                        value.span(),
                        "orchestrator.schedule",
                        format!("'{text}' is not allowed: \"daily\" (midnight UTC) or a cron line that fires once a day, \"MINUTE HOUR * * *\" in UTC, e.g. \"30 2 * * *\" (a run processes one day)"),
                    );
                    String::new()
                }
            }
        }
    };
    let requirements = requirements(check, raw, mwaa_environment.is_some());
    OrchestratorConfig {
        mwaa_environment,
        start_date,
        schedule,
        requirements,
    }
}

/// `requirements`: one package per entry, only with an MWAA environment.
fn requirements(
    check: &mut Checker<'_>,
    raw: &OrchestratorSection,
    has_environment: bool,
) -> Vec<String> {
    const KEY: &str = "orchestrator.requirements";
    let mut lines = Vec::new();
    for value in &raw.requirements {
        let Some(line) = check.text(value, KEY) else {
            continue;
        };
        if !has_environment {
            check.fail(
                value.span(),
                KEY,
                "requirements are installed by an MWAA environment: set orchestrator.mwaa_environment, or remove them",
            );
        } else if !is_requirement(&line) {
            check.fail(
                value.span(),
                KEY,
                format!("'{line}' is not a package requirement: a package name and maybe extras and versions, e.g. \"apache-airflow-providers-slack==9.1.0\" (no pip options, URLs or markers)"),
            );
        } else if lines.contains(&line) {
            check.fail(value.span(), KEY, format!("'{line}' is listed twice"));
        } else {
            lines.push(line);
        }
    }
    lines
}

/// Whether `line` matches [`REQUIREMENT_PATTERN`] (checked by hand: the
/// config has no regex engine).
fn is_requirement(line: &str) -> bool {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || "._-".contains(c)))
        .unwrap_or(line.len());
    let (name, mut rest) = line.split_at(name_end);
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return false;
    }
    if let Some(extras) = rest.strip_prefix('[') {
        let Some((inside, after)) = extras.split_once(']') else {
            return false;
        };
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._,-".contains(c))
        {
            return false;
        }
        rest = after;
    }
    if rest.trim().is_empty() {
        return rest.is_empty();
    }
    rest.split(',').all(|clause| {
        let clause = clause.trim_matches(' ');
        let operator = ["==", ">=", "<=", "~=", "!=", "<", ">"]
            .into_iter()
            .find(|op| clause.starts_with(op));
        operator.is_some_and(|op| {
            let version = clause[op.len()..].trim_start_matches(' ');
            !version.is_empty()
                && version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".*+!_-".contains(c))
        })
    })
}

fn start_date(check: &mut Checker<'_>, value: &Spanned<String>) -> Option<String> {
    let text = check.text(value, "orchestrator.start_date")?;
    let valid = time::Date::parse(
        &text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
    .filter(|_| text.len() == 10);
    match valid {
        None => check.fail(
            value.span(),
            "orchestrator.start_date",
            format!("'{text}' is not a date: YYYY-MM-DD, e.g. \"2024-03-01\""),
        ),
        // ISO dates order as text.
        Some(_) if text.as_str() < FIRST_START_DATE => check.fail(
            value.span(),
            "orchestrator.start_date",
            format!("{text} is before the data API's first day, {FIRST_START_DATE}"),
        ),
        Some(_) => return Some(text),
    }
    None
}

fn is_environment_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() <= ENVIRONMENT_NAME_MAX
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The cron line of a schedule, if it fires once a day.
fn daily_cron(schedule: &str) -> Option<String> {
    if schedule == DEFAULT_SCHEDULE {
        return Some("0 0 * * *".to_owned());
    }
    let parts: Vec<&str> = schedule.split(' ').collect();
    let number = |text: &str, max: u32| {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n <= max && (text == "0" || !text.starts_with('0')))
    };
    match parts.as_slice() {
        [minute, hour, "*", "*", "*"]
            if number(minute, 59).is_some() && number(hour, 23).is_some() =>
        {
            Some(schedule.to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Vars, parse};

    const BASE: &str =
        "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n";

    fn first_error(text: &str) -> String {
        let errors =
            parse(text, std::path::Path::new("stack.toml"), &Vars::default()).expect_err("refused");
        errors.0[0].to_string()
    }

    #[test]
    fn defaults_are_daily_from_the_data_apis_first_day() {
        let text = format!("{BASE}[orchestrator]\nmwaa_environment = \"my-env\"\n");
        let stack = parse(&text, std::path::Path::new("stack.toml"), &Vars::default()).unwrap();
        let orchestrator = stack.orchestrator.unwrap();
        assert_eq!(orchestrator.mwaa_environment.as_deref(), Some("my-env"));
        assert_eq!(orchestrator.start_date, "2024-01-01");
        assert_eq!(orchestrator.schedule, "0 0 * * *");
    }

    #[test]
    fn a_daily_cron_and_a_later_start_are_taken() {
        let text = format!(
            "{BASE}[orchestrator]\nstart_date = \"2024-03-01\"\nschedule = \"30 2 * * *\"\n"
        );
        let stack = parse(&text, std::path::Path::new("stack.toml"), &Vars::default()).unwrap();
        let orchestrator = stack.orchestrator.unwrap();
        assert_eq!(orchestrator.mwaa_environment, None);
        assert_eq!(orchestrator.start_date, "2024-03-01");
        assert_eq!(orchestrator.schedule, "30 2 * * *");
    }

    #[test]
    fn requirements_are_package_lines_for_an_environment() {
        let text = format!(
            "{BASE}[orchestrator]\nmwaa_environment = \"my-env\"\nrequirements = [\"apache-airflow-providers-slack==9.1.0\", \"pandas[parquet] >=2.1, <3\", \"tomli\"]\n"
        );
        let stack = parse(&text, std::path::Path::new("stack.toml"), &Vars::default()).unwrap();
        assert_eq!(
            stack.orchestrator.unwrap().requirements,
            [
                "apache-airflow-providers-slack==9.1.0",
                "pandas[parquet] >=2.1, <3",
                "tomli"
            ]
        );
        for bad in [
            "-r other.txt",
            "--index-url https://evil.example/simple",
            "git+https://github.com/x/y",
            "pkg @ https://x/y.whl",
            "pkg==",
            "pkg; python_version<'3.11'",
            "pkg[]",
            "",
        ] {
            let error = first_error(&format!(
                "{BASE}[orchestrator]\nmwaa_environment = \"my-env\"\nrequirements = [\"tomli\", \"{bad}\"]\n"
            ));
            assert!(error.contains("stack.toml:8:26"), "{bad}: {error}");
            assert!(
                error.contains("not a package requirement"),
                "{bad}: {error}"
            );
        }
        let error = first_error(&format!(
            "{BASE}[orchestrator]\nmwaa_environment = \"my-env\"\nrequirements = [\"tomli\", \"tomli\"]\n"
        ));
        assert!(error.contains("listed twice"), "{error}");
        let error = first_error(&format!(
            "{BASE}[orchestrator]\nrequirements = [\"tomli\"]\n"
        ));
        assert!(error.contains("stack.toml:7:17"), "{error}");
        assert!(
            error.contains("set orchestrator.mwaa_environment"),
            "{error}"
        );
    }

    #[test]
    fn mistakes_are_reported_where_they_stand() {
        let error = first_error(&format!(
            "{BASE}[orchestrator]\nmwaa_environment = \"9env\"\n"
        ));
        assert!(error.contains("stack.toml:7:20"), "{error}");
        assert!(error.contains("not an MWAA environment name"), "{error}");
        let error = first_error(&format!(
            "{BASE}[orchestrator]\nstart_date = \"2023-12-31\"\n"
        ));
        assert!(error.contains("stack.toml:7:14"), "{error}");
        assert!(error.contains("before the data API's first day"), "{error}");
        let error = first_error(&format!(
            "{BASE}[orchestrator]\nstart_date = \"2024-02-30\"\n"
        ));
        assert!(error.contains("is not a date"), "{error}");
        for schedule in [
            "@hourly",
            "0 * * * *",
            "0 0 * * 1",
            "60 0 * * *",
            "00 1 * * *",
        ] {
            let error = first_error(&format!(
                "{BASE}[orchestrator]\nschedule = \"{schedule}\"\n"
            ));
            assert!(error.contains("stack.toml:7:12"), "{schedule}: {error}");
            assert!(error.contains("once a day"), "{schedule}: {error}");
        }
        let error = first_error(&format!("{BASE}[orchestrator]\nairflow = \"3\"\n"));
        assert!(error.contains("stack.toml:7:1"), "{error}");
    }
}
