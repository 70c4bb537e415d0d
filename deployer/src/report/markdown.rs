//! Plans and drift reports as Markdown: the table a reviewer reads in a pull
//! request comment or a GitHub Actions job summary. Values are shown as the
//! plan has them (secrets never are: the API key's parameter is compared by
//! a hash); long ones are cut, and `|` never breaks the table.

use crate::engine::{Action, Plan, PlannedChange};
use crate::resources::FieldChange;

/// Longest value shown in a cell; a policy document can be long.
const LONGEST_VALUE: usize = 160;

/// A value inside a table cell: one line, `|` escaped, cut when long.
fn cell(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    let cut: String = if one_line.chars().count() > LONGEST_VALUE {
        let head: String = one_line.chars().take(LONGEST_VALUE).collect();
        format!("{head}…")
    } else {
        one_line
    };
    format!("`{}`", cut.replace('|', "\\|").replace('`', "'"))
}

fn field_changes(fields: &[FieldChange]) -> String {
    fields
        .iter()
        .map(|change| {
            let live = change
                .live
                .as_ref()
                .map_or_else(|| "(absent)".to_owned(), |v| v.display());
            format!(
                "**{}**: {} → {}",
                change.field,
                cell(&live),
                cell(&change.desired.display())
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

fn after_apply(change: &PlannedChange) -> String {
    if change.deferred() {
        format!("{} known after apply", change.known_after_apply.join(", "))
    } else {
        String::new()
    }
}

/// The plan of `plan`/`up` as a Markdown section.
pub fn plan_markdown(plan: &Plan) -> String {
    let mut rows = Vec::new();
    for change in &plan.changes {
        let (action, detail) = match &change.action {
            Action::NoChange => continue,
            Action::Create => ("➕ create", after_apply(change)),
            Action::Update { fields } => ("✏️ update", field_changes(fields)),
            Action::Replace {
                fields,
                deletes_data,
            } => (
                if *deletes_data {
                    "⚠️ replace (deletes data: refused without `--delete-data`)"
                } else {
                    "♻️ replace"
                },
                field_changes(fields),
            ),
            Action::Delete { holds_data: true } => (
                "🗑️ delete",
                "holds data: kept unless `--delete-data`".to_owned(),
            ),
            Action::Delete { holds_data: false } => (
                "🗑️ delete",
                "not in stack.toml, carries the stack's tag".to_owned(),
            ),
            Action::Refuse { reason } => ("⛔ refused", cell(reason)),
        };
        let detail = match change.disrupts {
            Some(disrupts) => {
                let warning = format!("⚠️ {disrupts}: refused without `--allow-env-update`");
                if detail.is_empty() {
                    warning
                } else {
                    format!("{warning}<br>{detail}")
                }
            }
            None => detail,
        };
        rows.push(format!("| `{}` | {action} | {detail} |", change.address));
    }
    let mut out = String::from("### showcase-deploy plan\n\n");
    if rows.is_empty() {
        out.push_str("No changes: the live stack matches `stack.toml`.\n");
        return out;
    }
    out.push_str("| resource | action | changes |\n|---|---|---|\n");
    for row in rows {
        out.push_str(&row);
        out.push('\n');
    }
    out.push_str(&format!("\n{}\n", summary(plan)));
    out
}

/// The drift report as a Markdown section: what differs in AWS from `stack.toml`.
pub fn drift_markdown(plan: &Plan) -> String {
    let mut rows = Vec::new();
    for change in &plan.changes {
        let (what, detail) = match &change.action {
            Action::NoChange => continue,
            Action::Create => ("missing", "deleted by hand, or never deployed".to_owned()),
            Action::Update { fields } | Action::Replace { fields, .. } => {
                ("drifted", field_changes(fields))
            }
            Action::Delete { .. } => (
                "extra",
                "not in stack.toml but carries the stack's tag".to_owned(),
            ),
            Action::Refuse { reason } => ("not the stack's", cell(reason)),
        };
        rows.push(format!("| `{}` | {what} | {detail} |", change.address));
    }
    let mut out = String::from("### showcase-deploy drift\n\n");
    if rows.is_empty() {
        out.push_str(&format!(
            "No drift: all {} resources match `stack.toml`.\n",
            plan.changes.len()
        ));
        return out;
    }
    out.push_str("| resource | state | live → stack.toml |\n|---|---|---|\n");
    for row in &rows {
        out.push_str(row);
        out.push('\n');
    }
    out.push_str(&format!(
        "\nDrift in {} of {} resources; `showcase-deploy up` repairs it.\n",
        rows.len(),
        plan.changes.len()
    ));
    out
}

fn summary(plan: &Plan) -> String {
    let count = |f: &dyn Fn(&Action) -> bool| plan.changes.iter().filter(|c| f(&c.action)).count();
    format!(
        "**{}** to create, **{}** to update, **{}** to replace, **{}** to delete, **{}** refused.",
        count(&|a| matches!(a, Action::Create)),
        count(&|a| matches!(a, Action::Update { .. })),
        count(&|a| matches!(a, Action::Replace { .. })),
        count(&|a| matches!(a, Action::Delete { .. })),
        count(&|a| matches!(a, Action::Refuse { .. })),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{Address, FieldValue};

    fn address(kind: &'static str, name: &str) -> Address {
        Address {
            kind,
            name: name.into(),
        }
    }

    #[test]
    fn a_cell_never_breaks_the_table() {
        assert_eq!(cell("a|b\nc"), "`a\\|b c`");
        let long = "x".repeat(500);
        assert!(cell(&long).ends_with("…`"));
        assert!(cell(&long).chars().count() < 170);
    }

    #[test]
    fn a_plan_lists_what_changes_and_says_when_data_is_at_stake() {
        let plan = Plan::of(vec![
            PlannedChange {
                address: address("function", "demo-extractor"),
                action: Action::Update {
                    fields: vec![FieldChange {
                        field: "memory_mb",
                        live: Some(FieldValue::Number(256)),
                        desired: FieldValue::Number(512),
                    }],
                },
                known_after_apply: Vec::new(),
                disrupts: None,
            },
            PlannedChange {
                address: address("lake_bucket", "old-lake"),
                action: Action::Delete { holds_data: true },
                known_after_apply: Vec::new(),
                disrupts: None,
            },
            PlannedChange {
                address: address("log_group", "/aws/lambda/demo-x"),
                action: Action::NoChange,
                known_after_apply: Vec::new(),
                disrupts: None,
            },
            PlannedChange {
                address: address("mwaa_requirements", "demo"),
                action: Action::Create,
                known_after_apply: Vec::new(),
                disrupts: Some("updates the environment"),
            },
        ]);
        assert_eq!(
            plan_markdown(&plan),
            "### showcase-deploy plan\n\n\
             | resource | action | changes |\n|---|---|---|\n\
             | `function.demo-extractor` | ✏️ update | **memory_mb**: `256` → `512` |\n\
             | `lake_bucket.old-lake` | 🗑️ delete | holds data: kept unless `--delete-data` |\n\
             | `mwaa_requirements.demo` | ➕ create | ⚠️ updates the environment: refused without `--allow-env-update` |\n\
             \n**1** to create, **1** to update, **0** to replace, **1** to delete, **0** refused.\n"
        );
        assert!(plan_markdown(&Plan::default()).contains("No changes"));
    }
}
