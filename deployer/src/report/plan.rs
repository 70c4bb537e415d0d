//! A plan and a drift report as a reviewer reads them.

use crate::engine::{Action, Plan};
use crate::resources::FieldChange;

fn field_lines(out: &mut String, fields: &[FieldChange], live_word: &str) {
    for change in fields {
        let live = change
            .live
            .as_ref()
            .map_or_else(|| "(absent)".to_owned(), |v| v.display());
        out.push_str(&format!(
            "      {}: {live_word} {live} → {}\n",
            change.field,
            change.desired.display()
        ));
    }
}

/// `plan`: per resource what will happen, per field from what to what.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    let (mut create, mut update, mut replace, mut delete, mut refuse) = (0, 0, 0, 0, 0);
    for change in &plan.changes {
        match &change.action {
            Action::Create => {
                create += 1;
                out.push_str(&format!("  + {}  create\n", change.address));
            }
            Action::Update { fields } => {
                update += 1;
                out.push_str(&format!("  ~ {}  update\n", change.address));
                field_lines(&mut out, fields, "");
            }
            Action::Replace { fields } => {
                replace += 1;
                out.push_str(&format!("  ± {}  replace\n", change.address));
                field_lines(&mut out, fields, "");
            }
            Action::NoChange => out.push_str(&format!("    {}  no change\n", change.address)),
            Action::Delete { holds_data } => {
                delete += 1;
                let kept = if *holds_data {
                    "; holds data: kept unless --delete-data"
                } else {
                    ""
                };
                out.push_str(&format!(
                    "  - {}  delete (carries the stack's tag, no longer in stack.toml{kept})\n",
                    change.address
                ));
            }
            Action::Refuse { reason } => {
                refuse += 1;
                out.push_str(&format!("  ! {}  refused: {reason}\n", change.address));
            }
        }
    }
    if plan.has_changes() {
        out.push_str(&format!("Plan: {create} to create, {update} to update, {replace} to replace, {delete} to delete, {refuse} refused.\n"));
    } else {
        out.push_str("No changes: the live stack matches stack.toml.\n");
    }
    out
}

/// `drift`: what differs from stack.toml in AWS, in the words of someone who
/// finds a change made by hand.
pub fn drift_text(plan: &Plan) -> String {
    let mut out = String::new();
    let mut drifted = 0;
    for change in &plan.changes {
        match &change.action {
            Action::NoChange => out.push_str(&format!("    {}  in sync\n", change.address)),
            Action::Create => {
                drifted += 1;
                out.push_str(&format!(
                    "  - {}  missing (deleted by hand, or never deployed)\n",
                    change.address
                ));
            }
            Action::Update { fields } | Action::Replace { fields } => {
                drifted += 1;
                out.push_str(&format!("  ~ {}  drifted\n", change.address));
                field_lines(&mut out, fields, "live");
            }
            Action::Delete { .. } => {
                drifted += 1;
                out.push_str(&format!(
                    "  + {}  not in stack.toml but carries the stack's tag (left from an earlier stack.toml, or tagged by hand)\n",
                    change.address
                ));
            }
            Action::Refuse { reason } => {
                drifted += 1;
                out.push_str(&format!("  ! {}  {reason}\n", change.address));
            }
        }
    }
    if drifted == 0 {
        out.push_str("No drift: every resource matches stack.toml.\n");
    } else {
        out.push_str(&format!(
            "Drift in {drifted} resource(s); `showcase-deploy up` repairs it.\n"
        ));
    }
    out
}
