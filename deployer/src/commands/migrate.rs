//! `migrate --from-cloudformation STACK`: the plan, the question, the steps
//! (the logic is `showcase_deploy::migrate`'s).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use showcase_deploy::engine::{Event, Plan};
use showcase_deploy::migrate::{self, Survey};
use showcase_deploy::report::{ApplyProgress, interactive, plan_text};

use super::stack::{code, load, print_outputs, runtime, session};
use super::{CHANGES_PENDING, StackArgs, Status};

/// What `migrate` was asked to do.
pub struct MigrateArgs {
    pub from_cloudformation: String,
    pub seed_dags: Option<PathBuf>,
    pub yes: bool,
    pub dry_run: bool,
    pub skip_build: bool,
}

/// Exit 0: migrated, or nothing left to migrate; with --dry-run 2 when
/// something is left (like `plan`).
pub fn migrate(args: &StackArgs, options: &MigrateArgs) -> Result<Status, String> {
    let stack = load(args)?;
    let runtime = runtime()?;
    let reader = runtime.block_on(session(&stack, BTreeMap::new()));
    let survey = runtime
        .block_on(migrate::survey(
            &reader,
            &options.from_cloudformation,
            options.seed_dags.as_deref(),
        ))
        .map_err(|e| e.to_string())?;
    let pending = match survey {
        Survey::Done => {
            println!(
                "Nothing left to migrate: CloudFormation stack {} is gone and s3://{} is stack {}'s lake.",
                options.from_cloudformation, stack.lake.bucket, stack.name
            );
            return Ok(0);
        }
        Survey::Pending(pending) => pending,
    };
    print!("{}", pending.plan.text(&stack));
    if options.dry_run {
        return Ok(CHANGES_PENDING);
    }
    if !options.yes {
        confirm(&options.from_cloudformation)?;
    }
    let needs_up = pending.plan.steps.contains(&migrate::Step::Up);
    let code = if needs_up {
        code(&stack, !options.skip_build)?
    } else {
        BTreeMap::new()
    };
    runtime.block_on(async {
        let session = session(&stack, code).await;
        let progress = ApplyProgress::new(interactive(), args.json);
        let report = |event: Event| progress.event(&event);
        let printed = std::sync::atomic::AtomicBool::new(false);
        let show = |plan: &Plan| {
            if !printed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                print!("{}", plan_text(plan));
            }
        };
        let say = |line: &str| println!("{line}");
        migrate::carry_out(&session, &pending, &say, &show, &report)
            .await
            .map_err(|e| e.to_string())?;
        println!(
            "Migrated: CloudFormation stack {} is gone; s3://{} is stack {}'s lake, every object as it was.",
            options.from_cloudformation, stack.lake.bucket, stack.name
        );
        let outputs = session.outputs(false).await.map_err(|e| e.to_string())?;
        print_outputs(&outputs);
        Ok(0)
    })
}

/// Asks at a terminal; anywhere else `--yes` is required.
fn confirm(cfn_stack: &str) -> Result<(), String> {
    if !std::io::stdin().is_terminal() || !interactive() {
        return Err(format!(
            "migrate changes and then deletes CloudFormation stack {cfn_stack}: pass --yes to confirm when not at a terminal (--dry-run shows the plan only)"
        ));
    }
    print!("Carry out this migration? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err("cancelled: nothing was changed".into())
    }
}
