//! Installing the stack's requirements file: `UpdateEnvironment` naming the
//! file and its version, then following the update to its end (20–30 minutes
//! on AWS). An update already running (a killed `up`'s, or the user's) is
//! followed first; if it installed the version wanted, nothing more is sent.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::{MwaaRequirements, environment};
use crate::aws::{Aws, describe};
use crate::resources::dag_objects::environment::Environment;
use crate::resources::{Resource, ResourceError};

/// Past this, `up` stops waiting (the update goes on in AWS; a rerun waits again).
const WAIT_AT_MOST: Duration = Duration::from_secs(2 * 3600);
const POLL_AT_MOST: Duration = Duration::from_secs(15);
/// How often a plain-lines log says the update is still going.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// The environment installs `version` of the stack's file when this returns `Ok`.
pub(super) async fn install(
    requirements: &MwaaRequirements,
    aws: &Aws,
    version: &str,
) -> Result<(), ResourceError> {
    let key = requirements.id.key();
    let name = &requirements.id.environment;
    let before = settled(requirements, aws).await?;
    if installs(&before, &key, version) {
        return Ok(());
    }
    if !matches!(before.status.as_str(), "AVAILABLE" | "UPDATE_FAILED") {
        return Err(requirements.error(
            "UpdateEnvironment",
            format!(
                "MWAA environment {name} is {}: it cannot be updated now; rerun `up --allow-env-update` once it is AVAILABLE",
                before.status
            ),
        ));
    }
    requirements.check_not_foreign(&before)?;
    aws.mwaa
        .update_environment()
        .name(name)
        .requirements_s3_path(&key)
        .requirements_s3_object_version(version)
        .send()
        .await
        .map_err(|e| requirements.error("UpdateEnvironment", describe(&e)))?;
    let after = settled(requirements, aws).await?;
    if after.status == "UPDATE_FAILED" || after.last_update_status.as_deref() == Some("FAILED") {
        return Err(requirements.error(
            "UpdateEnvironment",
            format!(
                "MWAA environment {name}'s update failed: {}. MWAA keeps its earlier requirements; fix [orchestrator] requirements and rerun `up --allow-env-update`",
                after
                    .last_update_error
                    .as_deref()
                    .unwrap_or("MWAA gave no error; see the environment's LastUpdate in the MWAA console")
            ),
        ));
    }
    if !installs(&after, &key, version) {
        return Err(requirements.error(
            "UpdateEnvironment",
            format!(
                "MWAA environment {name} finished updating but installs {} version {} (someone changed it meanwhile?): rerun `up --allow-env-update`",
                after.requirements_path.as_deref().unwrap_or("no file"),
                after.requirements_version.as_deref().unwrap_or("none"),
            ),
        ));
    }
    Ok(())
}

fn installs(environment: &Environment, key: &str, version: &str) -> bool {
    environment.requirements_path.as_deref() == Some(key)
        && environment.requirements_version.as_deref() == Some(version)
        && environment.status == "AVAILABLE"
}

/// Whether an update is still running: `UPDATING`, or the snapshot MWAA
/// takes before it, or the rollback after a failure.
fn updating(environment: &Environment) -> bool {
    matches!(
        environment.status.as_str(),
        "UPDATING" | "CREATING_SNAPSHOT" | "ROLLING_BACK"
    ) || environment.last_update_status.as_deref() == Some("PENDING")
}

/// The environment once no update runs, saying how it goes on a plain log
/// (a terminal has the spinner with its elapsed time).
async fn settled(requirements: &MwaaRequirements, aws: &Aws) -> Result<Environment, ResourceError> {
    let name = &requirements.id.environment;
    let started = Instant::now();
    let mut said: Option<Instant> = None;
    let mut pause = Duration::from_millis(200);
    let plain = !std::io::stderr().is_terminal();
    loop {
        let environment = environment::read_now(aws, name).await?;
        if !updating(&environment) {
            return Ok(environment);
        }
        if started.elapsed() > WAIT_AT_MOST {
            return Err(requirements.error(
                "UpdateEnvironment",
                format!(
                    "MWAA environment {name} still {} after {} minutes: the update goes on in AWS; rerun `up --allow-env-update` to wait again",
                    environment.status,
                    WAIT_AT_MOST.as_secs() / 60
                ),
            ));
        }
        if plain && said.is_none_or(|at| at.elapsed() >= SAY_EVERY) {
            eprintln!(
                "{}: MWAA environment {name} is {} ({} min so far; an update takes 20–30 minutes)",
                requirements.address(),
                environment.status,
                started.elapsed().as_secs() / 60
            );
            said = Some(Instant::now());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_AT_MOST);
    }
}
