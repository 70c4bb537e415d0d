//! One IAM role per function, assumed by Lambda only, with one inline
//! least-privilege policy (see `stack::role_policy`): the extractor may only
//! write under the lake prefix; the API function only its own logs.

use futures_util::future::BoxFuture;

use super::role::{OPERATIONS, RoleId, ServiceRole, names_starting_with};
use super::{Discovered, Kind, Owned, ResourceError};
use crate::aws::Aws;
use crate::config::{FunctionName, Stack};
use crate::permissions::Grant;

pub const KIND: &str = "function_role";
/// The service that assumes a function's role.
const LAMBDA: &str = "lambda.amazonaws.com";

/// `<stack>-<function>-role`.
pub fn name(stack: &Stack, function: FunctionName) -> String {
    format!("{}-role", super::function::name(stack, function))
}

/// The ARNs the stack's roles can have (its policy statements name these).
pub fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![format!("arn:aws:iam::{account}:role/{}-*", stack.name)]
}

/// A function's role, as stack.toml wants it.
pub fn role(
    stack: &Stack,
    function: FunctionName,
    tags: std::collections::BTreeMap<String, String>,
    policy: serde_json::Value,
) -> ServiceRole {
    ServiceRole {
        id: RoleId {
            kind: KIND,
            name: name(stack, function),
            stack: stack.name.clone(),
        },
        service: LAMBDA,
        tags,
        policy,
    }
}

/// Every role named `<stack>-…`: another kind's (the COPY role) is told
/// apart by its kind tag.
fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let prefix = format!("{}-", stack.name);
        Ok(names_starting_with(aws, &prefix)
            .await?
            .into_iter()
            .map(|name| {
                Box::new(RoleId {
                    kind: KIND,
                    name,
                    stack: stack.name.clone(),
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "FunctionRoles",
        resources: arns,
        operations: OPERATIONS,
    }],
};
