//! A plan and a drift report as a reviewer reads them.

use crate::engine::{Action, Plan, PlannedChange};
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

/// Why a change waits for a later pass of `up`.
fn after_apply(change: &PlannedChange) -> String {
    if change.deferred() {
        format!(
            " ({} known after apply)",
            change.known_after_apply.join(", ")
        )
    } else {
        String::new()
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
                out.push_str(&format!(
                    "  + {}  create{}\n",
                    change.address,
                    after_apply(change)
                ));
            }
            Action::Update { fields } => {
                update += 1;
                out.push_str(&format!(
                    "  ~ {}  update{}\n",
                    change.address,
                    after_apply(change)
                ));
                field_lines(&mut out, fields, "");
            }
            Action::Replace {
                fields,
                deletes_data,
            } => {
                replace += 1;
                let data = if *deletes_data {
                    ": deletes data, refused without --delete-data"
                } else {
                    ""
                };
                out.push_str(&format!("  ± {}  replace{data}\n", change.address));
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
        if let Some(disrupts) = change.disrupts {
            out.push_str(&format!(
                "      ⚠ {disrupts}: refused without --allow-env-update\n"
            ));
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
            Action::Update { fields } | Action::Replace { fields, .. } => {
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

/// `down`, before it asks: what it deletes, what it keeps and why.
pub fn down_plan_text(plan: &Plan, delete_data: bool) -> String {
    let mut out = String::new();
    let (mut delete, mut keep) = (0, 0);
    for change in &plan.changes {
        match &change.action {
            Action::Delete { holds_data: true } if !delete_data => {
                keep += 1;
                out.push_str(&format!(
                    "    {}  kept: holds data (--delete-data deletes it and everything in it)\n",
                    change.address
                ));
            }
            Action::Delete { holds_data } => {
                delete += 1;
                let data = if *holds_data { " with its data" } else { "" };
                out.push_str(&format!("  - {}  delete{data}\n", change.address));
            }
            Action::Refuse { reason } => {
                keep += 1;
                out.push_str(&format!("    {}  kept: {reason}\n", change.address));
            }
            _ => {}
        }
    }
    if delete == 0 && keep == 0 {
        out.push_str("Nothing to delete: no resource of the stack exists.\n");
    } else {
        out.push_str(&format!("Down: {delete} to delete, {keep} kept.\n"));
    }
    out
}
