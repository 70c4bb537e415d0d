//! validate, plan, up, drift, down, outputs: the stack commands.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use showcase_deploy::aws::Aws;
use showcase_deploy::build;
use showcase_deploy::config::{self, FunctionName, Stack, Vars};
use showcase_deploy::engine::{Consent, DestroyOutcome, Event, Plan};
use showcase_deploy::existing_warehouse::{self, ExistingCheck};
use showcase_deploy::permissions;
use showcase_deploy::report::{
    ApplyProgress, down_plan_text, drift_markdown, drift_text, github, interactive, plan_markdown,
    plan_text,
};
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;

use super::{CHANGES_PENDING, StackArgs, Status};

pub(super) fn load(args: &StackArgs) -> Result<Stack, String> {
    let vars = Vars::from_args_and_env(&args.vars)?;
    config::load(&args.stack, &vars).map_err(|errors| errors.to_string())
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<(), String> {
    println!(
        "{}",
        serde_json::to_string_pretty(value).map_err(|e| e.to_string())?
    );
    Ok(())
}

pub fn validate(args: &StackArgs) -> Result<Status, String> {
    let stack = load(args)?;
    println!(
        "{} is valid: stack {} in {}, lake s3://{}/{}",
        args.stack.display(),
        stack.name,
        stack.region,
        stack.lake.bucket,
        stack.lake.prefix
    );
    Ok(0)
}

/// The functions' code: a fresh build (`up`), or the last build's zips (`plan`, `drift`).
pub(super) fn code(stack: &Stack, build_now: bool) -> Result<BTreeMap<FunctionName, Code>, String> {
    let workspace = std::env::current_dir().map_err(|e| e.to_string())?;
    let mut code = BTreeMap::new();
    let architectures: BTreeSet<&str> = stack
        .functions
        .values()
        .map(|f| f.architecture.lambda_name())
        .collect();
    for architecture in architectures {
        let arch = if architecture == "arm64" {
            build::Architecture::Arm64
        } else {
            build::Architecture::X86_64
        };
        let options = build::BuildOptions::for_workspace(&workspace, arch);
        let built: Vec<(String, PathBuf, String)> = if build_now {
            if !workspace.join("functions").is_dir() {
                return Err(format!(
                    "{} is not the repository root: run up from there (it builds the functions), or pass --skip-build after `showcase-deploy build`",
                    workspace.display()
                ));
            }
            let mut options = options;
            options.verbose = true;
            build::build(&options)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|a| (a.function, a.zip, a.code_sha256))
                .collect()
        } else {
            build::existing(&options)
        };
        for function in FunctionName::ALL {
            let matches_arch = stack
                .functions
                .get(&function)
                .is_some_and(|f| f.architecture == arch);
            if let Some((_, zip, sha256)) = built
                .iter()
                .find(|(name, _, _)| name == function.as_str())
                .filter(|_| matches_arch)
            {
                code.insert(
                    function,
                    Code {
                        zip: zip.clone(),
                        sha256: sha256.clone(),
                    },
                );
            }
        }
    }
    Ok(code)
}

/// A deploy session for the stack, with the standard AWS chain's clients.
pub(super) async fn session(stack: &Stack, code: BTreeMap<FunctionName, Code>) -> Session {
    Session::new(Aws::connect(&stack.region).await, stack.clone(), code)
}

/// The plan, and for `kind = "existing"` what the read of the user's
/// warehouse found (whether the COPY role is attached).
fn plan_and_existing(
    stack: &Stack,
    code: BTreeMap<FunctionName, Code>,
) -> Result<(Plan, Option<ExistingCheck>), String> {
    runtime()?.block_on(async {
        let session = session(stack, code).await;
        let plan = session.plan().await.map_err(|e| e.to_string())?;
        let existing = match stack.warehouse.as_ref().map(|w| &w.kind) {
            Some(config::WarehouseKind::Existing(_)) => {
                let account = session.aws.account_id().await?;
                existing_warehouse::check(&session.aws, stack, &account)
                    .await
                    .map_err(|e| e.to_string())?
            }
            _ => None,
        };
        Ok((plan, existing))
    })
}

/// The plan (or drift) as JSON, with the existing warehouse's check when there is one.
fn with_existing(
    mut value: serde_json::Value,
    existing: Option<&ExistingCheck>,
) -> serde_json::Value {
    if let Some(existing) = existing {
        value["existing_warehouse"] = serde_json::json!(existing);
    }
    value
}

/// Markdown's line about the existing warehouse.
fn existing_markdown(existing: Option<&ExistingCheck>) -> String {
    match existing {
        None => String::new(),
        Some(check) => match &check.attach_command {
            None => format!(
                "\nExisting warehouse {}: the COPY role is attached.\n",
                check.warehouse
            ),
            Some(command) => format!(
                "\n**Existing warehouse {}: the COPY role `{}` is not attached** (the pipeline's COPY cannot read the lake). Attach it with:\n\n```\n{command}\n```\n",
                check.warehouse, check.copy_role_arn
            ),
        },
    }
}

/// Exit 0: nothing to do; 2: changes pending (like `terraform plan -detailed-exitcode`).
pub fn plan(args: &StackArgs) -> Result<Status, String> {
    let stack = load(args)?;
    let code = code(&stack, false)?;
    let (plan, existing) = plan_and_existing(&stack, code)?;
    let markdown = plan_markdown(&plan) + &existing_markdown(existing.as_ref());
    if args.json {
        print_json(&with_existing(
            serde_json::to_value(&plan).map_err(|e| e.to_string())?,
            existing.as_ref(),
        ))?
    } else if args.markdown {
        print!("{markdown}")
    } else {
        print!("{}", plan_text(&plan));
        if let Some(existing) = &existing {
            print!("{}", existing.text());
        }
    }
    if github::active() {
        github::write_step_summary(&markdown)?;
    }
    Ok(if plan.has_changes() {
        CHANGES_PENDING
    } else {
        0
    })
}

/// Exit 0: in sync; 2: drift found — an existing warehouse without the
/// stack's COPY role attached included (the pipeline cannot load until it is).
pub fn drift(args: &StackArgs) -> Result<Status, String> {
    let stack = load(args)?;
    let code = code(&stack, false)?;
    let (plan, existing) = plan_and_existing(&stack, code)?;
    let role_missing = existing.as_ref().is_some_and(|e| !e.copy_role_attached);
    let drifted = plan.has_changes() || role_missing;
    let markdown = drift_markdown(&plan) + &existing_markdown(existing.as_ref());
    if args.json {
        print_json(&with_existing(
            serde_json::json!({ "drifted": drifted, "resources": plan.changes }),
            existing.as_ref(),
        ))?;
    } else if args.markdown {
        print!("{markdown}");
    } else {
        print!("{}", drift_text(&plan));
        if let Some(existing) = &existing {
            print!("{}", existing.text());
        }
    }
    if github::active() {
        for line in github::drift_annotations(&plan) {
            println!("{line}");
        }
        github::write_step_summary(&markdown)?;
    }
    Ok(if drifted { CHANGES_PENDING } else { 0 })
}

/// `delete_data`: lake buckets no longer in stack.toml are deleted with their
/// objects (otherwise kept), and a replacement that deletes data is allowed;
/// `allow_env_update`: the MWAA environment may be updated.
pub fn up(
    args: &StackArgs,
    skip_build: bool,
    delete_data: bool,
    allow_env_update: bool,
) -> Result<Status, String> {
    let consent = Consent {
        delete_data,
        disruption: allow_env_update,
    };
    let stack = load(args)?;
    github::start_group("showcase-deploy up: build");
    let code = code(&stack, !skip_build);
    github::end_group();
    let code = code?;
    if let Some(missing) = FunctionName::ALL
        .into_iter()
        .find(|f| !code.contains_key(f))
    {
        return Err(format!(
            "no build of {} was found: run `showcase-deploy build` first, or run up without --skip-build",
            missing.as_str()
        ));
    }
    runtime()?.block_on(async {
        let progress = ApplyProgress::new(interactive(), args.json);
        let report = |event: Event| progress.event(&event);
        // The first plan is the whole plan; later passes only apply what waited
        // for values known after apply, so they are not printed again.
        let printed = std::sync::atomic::AtomicBool::new(args.json);
        let show = |plan: &Plan| {
            if !printed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                print!("{}", plan_text(plan));
            }
        };
        let session = session(&stack, code).await;
        let plans = session
            .up_with(consent, &show, &report)
            .await
            .map_err(|e| {
                let message = e.to_string();
                if github::active() {
                    println!("{}", github::error_annotation("up", &message));
                }
                message
            })?;
        if github::active()
            && let Some(first) = plans.first()
        {
            github::write_step_summary(&plan_markdown(first))?;
        }
        let outputs = session.outputs(false).await.map_err(|e| e.to_string())?;
        if args.json {
            print_json(&serde_json::json!({ "plans": plans, "outputs": outputs }))?;
        } else {
            print_outputs(&outputs);
        }
        Ok(0)
    })
}

/// Shows what it deletes and keeps, asks (or needs --yes), then deletes.
/// `skip_final_snapshot`: the warehouse goes without a final snapshot.
pub fn down(
    args: &StackArgs,
    yes: bool,
    delete_data: bool,
    skip_final_snapshot: bool,
) -> Result<Status, String> {
    let stack = load(args)?;
    runtime()?.block_on(async {
        let session = session(&stack, BTreeMap::new()).await;
        let (prepared, plan) = session.down_plan().await.map_err(|e| e.to_string())?;
        if !args.json {
            print!("{}", down_plan_text(&plan, delete_data));
        }
        let deletes = plan
            .changes
            .iter()
            .any(|c| matches!(c.action, showcase_deploy::engine::Action::Delete { .. }));
        if !deletes {
            // A killed run's lock is all that may be left: removed too.
            if let Some(holder) = session
                .clear_stale_lock()
                .await
                .map_err(|e| e.to_string())?
                && !args.json
            {
                println!("Removed the lock a killed run left: {holder}.");
            }
            if args.json {
                print_json(&Vec::<serde_json::Value>::new())?;
            }
            return Ok(0);
        }
        if !yes {
            confirm_down(&stack, delete_data, skip_final_snapshot)?;
        }
        let progress = ApplyProgress::new(interactive(), args.json);
        let report = |event: Event| progress.event(&event);
        let outcomes = session
            .down_with(&prepared, &plan, delete_data, skip_final_snapshot, &report)
            .await
            .map_err(|e| e.to_string())?;
        if args.json {
            let list: Vec<_> = outcomes
                .iter()
                .map(|(a, o)| serde_json::json!({ "address": a, "result": o }))
                .collect();
            return print_json(&list).map(|()| 0);
        }
        for (address, outcome) in &outcomes {
            let text = match outcome {
                DestroyOutcome::Deleted => "deleted",
                DestroyOutcome::Kept => {
                    "kept with its data (pass --delete-data to delete it and everything in it)"
                }
                DestroyOutcome::Absent => "already gone",
                DestroyOutcome::NotOurs => "not owned by this stack: untouched",
            };
            println!("{address}: {text}");
        }
        Ok(0)
    })
}

/// Asks at a terminal; anywhere else `--yes` is required.
fn confirm_down(stack: &Stack, delete_data: bool, skip_final_snapshot: bool) -> Result<(), String> {
    if !std::io::stdin().is_terminal() || !interactive() {
        return Err(
            "down deletes the stack's resources: pass --yes to confirm when not at a terminal"
                .into(),
        );
    }
    let data = match (delete_data, skip_final_snapshot) {
        (true, false) => {
            " AND the data in its lake bucket and warehouse (a final snapshot of the warehouse is kept)"
        }
        (true, true) => " AND the data in its lake bucket and warehouse, with no final snapshot",
        _ => "",
    };
    print!(
        "Delete stack {}'s resources in {}{data}? [y/N] ",
        stack.name, stack.region
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err("cancelled".into())
    }
}

pub(super) fn print_outputs(outputs: &serde_json::Value) {
    if let Some(map) = outputs.as_object() {
        for (key, value) in map {
            println!(
                "{key:<12} {}",
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned)
            );
        }
    }
}

/// Prints the stack's outputs; the API key's value only with --show-secrets.
pub fn outputs(args: &StackArgs, show_secrets: bool) -> Result<Status, String> {
    let stack = load(args)?;
    let outputs = runtime()?
        .block_on(async {
            session(&stack, BTreeMap::new())
                .await
                .outputs(show_secrets)
                .await
        })
        .map_err(|e| e.to_string())?;
    if args.json {
        print_json(&outputs)?
    } else {
        print_outputs(&outputs)
    }
    Ok(0)
}

/// Prints the IAM policy the tool needs for this stack (JSON, whatever --output).
pub fn permissions(
    args: &StackArgs,
    read_only: bool,
    run: bool,
    mwaa: bool,
    account: Option<String>,
    from_cloudformation: Option<String>,
) -> Result<Status, String> {
    let stack = load(args)?;
    let account = match account {
        Some(account) if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) => {
            account
        }
        Some(other) => {
            return Err(format!("--account {other}: an AWS account id is 12 digits"));
        }
        None => {
            runtime()?.block_on(async { Aws::connect(&stack.region).await.account_id().await })?
        }
    };
    if mwaa {
        print_json(&permissions::mwaa_execution_policy(&stack, &account))?;
        return Ok(0);
    }
    if run {
        print_json(&permissions::run_policy(&stack, &account))?;
        return Ok(0);
    }
    if let Some(cfn_stack) = from_cloudformation {
        let policy = showcase_deploy::migrate::permissions::policy(&stack, &account, &cfn_stack);
        print_json(&policy)?;
        return Ok(0);
    }
    let access = if read_only {
        permissions::Access::Read
    } else {
        permissions::Access::Write
    };
    print_json(&permissions::policy(&stack, &account, access))?;
    Ok(0)
}

/// Removes the stack's lock; says whose it was.
pub fn unlock(args: &StackArgs) -> Result<Status, String> {
    let stack = load(args)?;
    let removed = runtime()?
        .block_on(async {
            showcase_deploy::lock::unlock(&Aws::connect(&stack.region).await, &stack).await
        })
        .map_err(|e| e.to_string())?;
    match removed {
        Some(holder) => println!("Removed the lock of stack {} held by {holder}.", stack.name),
        None => println!("Stack {} is not locked.", stack.name),
    }
    Ok(0)
}
