//! Under GitHub Actions (`GITHUB_ACTIONS=true`): log groups per phase, one
//! `::warning` annotation per drifted field and an `::error` for a failed
//! step naming the resource, and the Markdown report appended to the job
//! summary (`$GITHUB_STEP_SUMMARY`). Exit codes do not change.

use std::io::Write;

#[cfg(feature = "deploy")]
use crate::engine::{Action, Plan};

/// Whether the tool runs as a GitHub Actions step.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// A workflow command's value: GitHub's escaping of `%`, CR and LF.
fn escape(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Opens a collapsible log group for a phase (only under Actions).
pub fn start_group(name: &str) {
    if active() {
        println!("::group::{}", escape(name));
    }
}

/// Closes the group [`start_group`] opened.
pub fn end_group() {
    if active() {
        println!("::endgroup::");
    }
}

/// One `::warning` per drifted field (or per missing, extra or foreign
/// resource), titled with the resource.
#[cfg(feature = "deploy")]
pub fn drift_annotations(plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    for change in &plan.changes {
        let title = format!("drift: {}", change.address);
        let warning =
            |message: String| format!("::warning title={}::{}", escape(&title), escape(&message));
        match &change.action {
            Action::NoChange => {}
            Action::Create => lines.push(warning(
                "missing (deleted by hand, or never deployed)".into(),
            )),
            Action::Update { fields } | Action::Replace { fields, .. } => {
                for field in fields {
                    let live = field
                        .live
                        .as_ref()
                        .map_or_else(|| "(absent)".to_owned(), |v| v.display());
                    lines.push(warning(format!(
                        "{}: live {live}, stack.toml {}",
                        field.field,
                        field.desired.display()
                    )));
                }
            }
            Action::Delete { .. } => lines.push(warning(
                "not in stack.toml but carries the stack's tag".into(),
            )),
            Action::Refuse { reason } => lines.push(warning(reason.clone())),
        }
    }
    lines
}

/// `::error` for a failed step; the message starts with the resource.
pub fn error_annotation(command: &str, message: &str) -> String {
    format!(
        "::error title={}::{}",
        escape(&format!("showcase-deploy {command} failed")),
        escape(message)
    )
}

/// Appends `markdown` to the job summary when GitHub gives one.
pub fn write_step_summary(markdown: &str) -> Result<(), String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| {
            format!(
                "cannot write the job summary {}: {e}",
                path.to_string_lossy()
            )
        })?;
    writeln!(file, "{markdown}").map_err(|e| {
        format!(
            "cannot write the job summary {}: {e}",
            path.to_string_lossy()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_values_are_escaped() {
        assert_eq!(escape("a%b\nc"), "a%25b%0Ac");
        assert_eq!(
            error_annotation("up", "function.x: CreateFunction failed: 100%\nno"),
            "::error title=showcase-deploy up failed::function.x: CreateFunction failed: 100%25%0Ano"
        );
    }
}
