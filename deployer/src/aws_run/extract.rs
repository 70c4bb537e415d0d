//! An extract task on AWS: the extractor function invoked with
//! `{"date", "entity"}`, its answer checked (a function error fails the task
//! with the function's own message; the summary must be for that date and
//! entity and name the lake object the load then reads).

use aws_sdk_lambda::primitives::Blob;
use showcase_dataset::Day;
use showcase_extractor::{Entity, ExtractSummary, KeyLayout};

use crate::aws::describe;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("invoking {function}: {detail}")]
    Invoke { function: String, detail: String },
    #[error("{function} failed: {message}")]
    Function { function: String, message: String },
    #[error("{function} answered {answer}: {problem}")]
    Answer {
        function: String,
        answer: String,
        problem: String,
    },
}

/// The lake the extractor writes and the loads read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeNames {
    pub bucket: String,
    /// Empty or ending in `/`.
    pub prefix: String,
}

impl LakeNames {
    /// The object the day's load of `entity` reads (`sql/redshift/load_stage_*.sql`).
    pub fn object(&self, day: Day, entity: Entity) -> String {
        format!(
            "s3://{}/{}{}",
            self.bucket,
            self.prefix,
            KeyLayout::default().key(day, entity)
        )
    }
}

/// Invokes the extractor for one day and entity and checks what it says.
pub async fn invoke(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    lake: &LakeNames,
    day: Day,
    entity: Entity,
) -> Result<ExtractSummary, ExtractError> {
    let request = serde_json::json!({"date": day.to_string(), "entity": entity.as_str()});
    let answer = lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new(request.to_string()))
        .send()
        .await
        .map_err(|e| ExtractError::Invoke {
            function: function.to_owned(),
            detail: describe(&e),
        })?;
    let payload = answer
        .payload()
        .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
        .unwrap_or_default();
    if let Some(kind) = answer.function_error() {
        return Err(ExtractError::Function {
            function: function.to_owned(),
            message: function_message(kind, &payload),
        });
    }
    let problem = |problem: String| ExtractError::Answer {
        function: function.to_owned(),
        answer: shorten(&payload),
        problem,
    };
    let summary: ExtractSummary = serde_json::from_str(&payload)
        .map_err(|e| problem(format!("not an extraction summary ({e})")))?;
    if summary.date != day || summary.entity != entity {
        return Err(problem(format!(
            "a summary of {} {}, not of {day} {entity}",
            summary.date, summary.entity
        )));
    }
    let expected = lake.object(day, entity);
    if !summary.keys.contains(&expected) {
        return Err(problem(format!(
            "it did not write {expected}, which the load reads (is its LAKE_URL s3://{}/{}?)",
            lake.bucket, lake.prefix
        )));
    }
    Ok(summary)
}

/// The function's own message out of Lambda's error payload
/// (`{"errorType", "errorMessage"}`), else the payload as it is.
fn function_message(kind: &str, payload: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(payload).ok();
    match parsed
        .as_ref()
        .and_then(|v| v.get("errorMessage"))
        .and_then(|m| m.as_str())
    {
        Some(message) => message.to_owned(),
        None if payload.is_empty() => format!("{kind} function error, no message"),
        None => shorten(payload),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 600;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_own_message_is_what_fails_the_task() {
        assert_eq!(
            function_message(
                "Unhandled",
                r#"{"errorType":"ExtractError","errorMessage":"the API answered 500"}"#
            ),
            "the API answered 500"
        );
        assert_eq!(
            function_message("Unhandled", ""),
            "Unhandled function error, no message"
        );
    }

    #[test]
    fn the_load_reads_the_object_under_the_lake_prefix() {
        let lake = LakeNames {
            bucket: "lake".into(),
            prefix: "raw/".into(),
        };
        assert_eq!(
            lake.object("2024-03-01".parse().unwrap(), Entity::Sales),
            "s3://lake/raw/2024-03-01/sales.parquet"
        );
    }
}
