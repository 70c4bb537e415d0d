//! The warehouse's COPY role: assumed by Redshift only, it may read the lake
//! prefix and nothing else (`s3:GetObject` under the prefix, `s3:ListBucket`
//! with a prefix condition). Attached to the cluster or namespace the stack
//! owns, so `COPY … IAM_ROLE` loads the day's files.

use futures_util::future::BoxFuture;
use serde_json::json;

use super::role::{OPERATIONS, RoleId, ServiceRole};
use super::{Discovered, Kind, Owned, ResourceError};
use crate::aws::Aws;
use crate::config::Stack;
use crate::permissions::Grant;

pub const KIND: &str = "copy_role";
const REDSHIFT: &str = "redshift.amazonaws.com";

/// `<stack>-warehouse-copy-role`.
pub fn name(stack: &Stack) -> String {
    format!("{}-warehouse-copy-role", stack.name)
}

pub fn arn(stack: &Stack, account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{}", name(stack))
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![arn(stack, account)]
}

/// Read the lake prefix: its objects, and the listing of that prefix only.
pub fn policy(stack: &Stack) -> serde_json::Value {
    let bucket = &stack.lake.bucket;
    let prefix = &stack.lake.prefix;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadLake",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::{bucket}/{prefix}*"),
            },
            {
                "Sid": "ListLakePrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": format!("arn:aws:s3:::{bucket}"),
                "Condition": {"StringLike": {"s3:prefix": [format!("{prefix}*")]}},
            }
        ]
    })
}

/// The COPY role, as stack.toml wants it.
pub fn role(stack: &Stack, tags: std::collections::BTreeMap<String, String>) -> ServiceRole {
    ServiceRole {
        id: RoleId {
            kind: KIND,
            name: name(stack),
            stack: stack.name.clone(),
        },
        service: REDSHIFT,
        tags,
        policy: policy(stack),
    }
}

/// One role of one name: found by that name (a prefix listing would also
/// find the function roles, which older stacks left without a kind tag).
fn discover<'a>(
    _aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let id: Box<dyn Owned> = Box::new(RoleId {
            kind: KIND,
            name: name(stack),
            stack: stack.name.clone(),
        });
        Ok(vec![id])
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "WarehouseCopyRole",
        resources: arns,
        operations: OPERATIONS,
    }],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_role_may_only_read_the_lake_prefix() {
        let stack = crate::config::parse(
            "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\nprefix = \"raw\"\n",
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap();
        let policy = policy(&stack);
        let text = policy.to_string();
        assert_eq!(
            policy["Statement"][0]["Resource"],
            "arn:aws:s3:::demo-lake/raw/*"
        );
        assert_eq!(
            policy["Statement"][1]["Condition"]["StringLike"]["s3:prefix"][0],
            "raw/*"
        );
        for forbidden in ["s3:PutObject", "s3:DeleteObject", "s3:*", "\"*\""] {
            assert!(!text.contains(forbidden), "{forbidden} in {text}");
        }
        let role = role(&stack, Default::default());
        let trust = super::super::role::trust_policy(role.service).to_string();
        assert!(
            trust.contains("redshift.amazonaws.com") && !trust.contains("lambda"),
            "{trust}"
        );
    }
}
