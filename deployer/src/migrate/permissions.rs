//! What `migrate` sends beyond `up`, in the permissions table's terms, and
//! the policy `permissions --from-cloudformation STACK` prints: the deploy
//! policy, plus the seed's stack (read, UpdateStack, DeleteStack) and what
//! CloudFormation does with the caller's credentials when it deletes the
//! stack's functions, roles and HTTP APIs — allowed only through
//! CloudFormation (`aws:CalledVia`), never directly.
//! The bucket's tagging is the lake bucket kind's own rows.

use serde_json::json;

use crate::config::Stack;
use crate::permissions::{Access, Grant, listing, read, write};

/// The seed's stack: its ARN is only known with its name, so these rows are
/// never part of the deploy policy (see [`policy`]).
pub const GRANTS: &[Grant] = &[Grant {
    sid: "SeedStack",
    resources: |_, _| Vec::new(),
    operations: &[
        read(
            "CloudFormation",
            "DescribeStacks",
            &["cloudformation:DescribeStacks"],
        ),
        read(
            "CloudFormation",
            "ListStackResources",
            &["cloudformation:ListStackResources"],
        ),
        read(
            "CloudFormation",
            "GetTemplate",
            &["cloudformation:GetTemplate"],
        ),
        write(
            "CloudFormation",
            "UpdateStack",
            &["cloudformation:UpdateStack"],
        ),
        write(
            "CloudFormation",
            "DeleteStack",
            &["cloudformation:DeleteStack"],
        ),
        listing(
            "CloudFormation",
            "ListStacks",
            &["cloudformation:ListStacks"],
        ),
    ],
}];

/// What CloudFormation calls, as the caller, to delete the seed's resources.
const DELETED_THROUGH_CLOUDFORMATION: &[&str] = &[
    "apigateway:DELETE",
    "apigateway:GET",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:RemovePermission",
];

/// The policy `migrate --from-cloudformation cfn_stack` needs.
pub fn policy(stack: &Stack, account: &str, cfn_stack: &str) -> serde_json::Value {
    let mut policy = crate::permissions::policy(stack, account, Access::Write);
    let stack_arn = format!(
        "arn:aws:cloudformation:{}:{account}:stack/{cfn_stack}/*",
        stack.region
    );
    let mut scoped: Vec<&str> = Vec::new();
    let mut unscoped: Vec<&str> = Vec::new();
    for operation in GRANTS.iter().flat_map(|g| g.operations.iter()) {
        if operation.scoped {
            scoped.extend(operation.actions);
        } else {
            unscoped.extend(operation.actions);
        }
    }
    let added = [
        json!({
            "Sid": "SeedStack",
            "Effect": "Allow",
            "Action": scoped,
            "Resource": stack_arn,
        }),
        json!({
            "Sid": "FindTheSeedStack",
            "Effect": "Allow",
            "Action": unscoped,
            "Resource": "*",
        }),
        json!({
            "Sid": "SeedResourcesDeletedByCloudFormation",
            "Effect": "Allow",
            "Action": DELETED_THROUGH_CLOUDFORMATION,
            "Resource": "*",
            "Condition": {"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}},
        }),
    ];
    if let Some(statements) = policy["Statement"].as_array_mut() {
        statements.extend(added);
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_stack_is_named_and_its_resources_go_only_through_cloudformation() {
        let stack = crate::config::parse(
            "[stack]\nname = \"demo\"\nregion = \"us-east-1\"\n[lake]\nbucket = \"showcase-data-pipeline\"\n",
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap();
        let policy = policy(&stack, "123456789012", "showcase-data-pipeline");
        let statements = policy["Statement"].as_array().unwrap();
        let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap();
        assert_eq!(
            by_sid("SeedStack")["Resource"],
            "arn:aws:cloudformation:us-east-1:123456789012:stack/showcase-data-pipeline/*"
        );
        assert!(
            by_sid("SeedStack")["Action"]
                .to_string()
                .contains("cloudformation:DeleteStack")
        );
        assert_eq!(
            by_sid("SeedResourcesDeletedByCloudFormation")["Condition"]["ForAnyValue:StringEquals"]
                ["aws:CalledVia"],
            "cloudformation.amazonaws.com"
        );
        // The deploy policy itself never names CloudFormation.
        let deploy = crate::permissions::policy(&stack, "123456789012", Access::Write);
        assert!(!deploy.to_string().contains("cloudformation"));
    }
}
