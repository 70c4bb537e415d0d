//! The warehouse as Redshift Serverless (`[warehouse] kind = "serverless"`):
//! a namespace (the data: database, admin user, the COPY role) and a
//! workgroup (the compute: capacity, network), two kinds the stack owns. Both
//! hold the warehouse: `down` keeps them unless `--delete-data`, and then the
//! namespace leaves a final snapshot unless `--skip-final-snapshot`.
//!
//! Their ARNs carry ids AWS makes up, not names: they are found by name
//! (`GetNamespace`, `GetWorkgroup`) and their tags read by the ARN the read
//! returns.

pub mod namespace;
pub mod workgroup;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_redshiftserverless::types::Tag;

use super::tags::tag_delta;
use super::{FieldChange, FieldValue, ResourceError};
use crate::aws::{Aws, describe};
use crate::config::Stack;

/// What `stack.toml` leaves to AWS (the default VPC's subnets, say): not compared.
const AWS_CHOICE: &str = "AWS's choice";
/// How long `up` waits for a namespace or workgroup to be AVAILABLE (AWS:
/// usually a few minutes).
const AVAILABLE_WITHIN: Duration = Duration::from_secs(30 * 60);
/// The longest pause between two looks at the status.
const POLL_AT_MOST: Duration = Duration::from_secs(15);
pub(crate) const AVAILABLE: &str = "AVAILABLE";

/// `<stack>-warehouse`: the namespace's and the workgroup's name.
pub fn name(stack: &Stack) -> String {
    format!("{}-warehouse", stack.name)
}

/// The role ARN in one of a namespace's `iamRoles`: AWS answers them as
/// `IamRole(applyStatus=in-sync, iamRoleArn=arn:…)`, or now and then as the
/// bare ARN.
pub fn role_arn(entry: &str) -> String {
    let entry = entry.trim();
    if entry.starts_with("arn:") {
        return entry.to_owned();
    }
    entry
        .split_once("iamRoleArn=")
        .map(|(_, rest)| rest.split([',', ')']).next().unwrap_or_default().trim())
        .unwrap_or(entry)
        .to_owned()
}

fn sorted(mut items: Vec<String>) -> FieldValue {
    items.sort();
    FieldValue::Json(serde_json::Value::from(items))
}

fn serverless_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

/// The tags of the namespace or workgroup `arn`.
async fn read_tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, String> {
    let answer = aws
        .redshiftserverless
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(answer
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect())
}

/// Brings the tags of `arn` to what `change` desires.
async fn set_tags(
    aws: &Aws,
    arn: &str,
    change: &FieldChange,
    error: impl Fn(&'static str, String) -> ResourceError,
) -> Result<(), ResourceError> {
    let (set, removed) = tag_delta(change);
    if !removed.is_empty() {
        aws.redshiftserverless
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| error("UntagResource", describe(&e)))?;
    }
    aws.redshiftserverless
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(serverless_tags(&set)))
        .send()
        .await
        .map_err(|e| error("TagResource", describe(&e)))?;
    Ok(())
}

/// Polls `status` until it says AVAILABLE: often at first (the stand-in
/// settles in a fraction of a second), then every 15 s. `None` (gone) is an
/// error: something deleted it while `up` waited.
async fn wait_until_available<F, Fut>(
    operation: &'static str,
    status: F,
    error: impl Fn(&'static str, String) -> ResourceError,
) -> Result<(), ResourceError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<String>, ResourceError>>,
{
    let deadline = Instant::now() + AVAILABLE_WITHIN;
    let mut pause = Duration::from_millis(200);
    loop {
        match status().await? {
            Some(now) if now == AVAILABLE => return Ok(()),
            Some(now) if Instant::now() >= deadline => {
                return Err(error(
                    operation,
                    format!(
                        "still {now} after {} minutes: rerun `up` to wait again",
                        AVAILABLE_WITHIN.as_secs() / 60
                    ),
                ));
            }
            Some(_) => {}
            None => return Err(error(operation, "it was deleted while up waited".into())),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_AT_MOST);
    }
}

/// Polls `status` until the resource is gone (`None`).
async fn wait_until_gone<F, Fut>(
    operation: &'static str,
    status: F,
    error: impl Fn(&'static str, String) -> ResourceError,
) -> Result<(), ResourceError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<String>, ResourceError>>,
{
    let deadline = Instant::now() + AVAILABLE_WITHIN;
    let mut pause = Duration::from_millis(200);
    while let Some(now) = status().await? {
        if Instant::now() >= deadline {
            return Err(error(
                operation,
                format!("still {now}: rerun `down` to wait again"),
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(POLL_AT_MOST);
    }
    Ok(())
}

/// The ARNs the tool acts on: a namespace's, workgroup's and snapshot's ARN
/// carries an id AWS makes up, so IAM cannot name the stack's alone; the
/// tool itself never changes one without the stack's tag.
fn arns(stack: &Stack, account: &str, kind: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:redshift-serverless:{}:{account}:{kind}/*",
        stack.region
    )]
}

#[cfg(test)]
mod tests {
    use super::role_arn;

    #[test]
    fn a_namespace_s_roles_are_read_as_their_arns() {
        let arn = "arn:aws:iam::123456789012:role/service-role/copy";
        assert_eq!(
            role_arn(&format!("IamRole(applyStatus=in-sync, iamRoleArn={arn})")),
            arn
        );
        assert_eq!(
            role_arn(&format!("IamRole(iamRoleArn={arn}, applyStatus=adding)")),
            arn
        );
        assert_eq!(role_arn(arn), arn);
    }
}
