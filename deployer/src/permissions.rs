//! The IAM policy the tool itself needs, scoped to one stack's names:
//! read-only for `plan`, `drift` and `outputs` (a scheduled drift job), or
//! read-write for `up` and `down`. Generated from one table of the AWS
//! operations the tool calls, so a test can prove that every request the tool
//! makes is covered, and that the read-only policy changes nothing.

use std::collections::BTreeMap;

use serde_json::json;

use crate::config::Stack;

/// Whether an operation changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Which resources an operation acts on, for the policy's `Resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    /// Listings and lookups that IAM cannot scope to a resource.
    Account,
    LakeBucket,
    LakeObjects,
    Functions,
    Roles,
    LogGroups,
    Parameters,
    ApiGateway,
}

/// One SDK operation and the IAM actions it needs.
struct Operation {
    /// The SDK's service name, as in the request log (`Lambda`, `S3`, …).
    service: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
    scope: Scope,
    access: Access,
}

const fn op(
    service: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
    scope: Scope,
    access: Access,
) -> Operation {
    Operation {
        service,
        name,
        actions,
        scope,
        access,
    }
}

use Access::{Read, Write};
use Scope::{
    Account, ApiGateway, Functions, LakeBucket, LakeObjects, LogGroups, Parameters, Roles,
};

/// Every operation the tool sends. API Gateway's IAM actions are HTTP verbs.
#[rustfmt::skip]
const OPERATIONS: &[Operation] = &[
    op("STS", "GetCallerIdentity", &[], Account, Read),
    op("Resource Groups Tagging API", "GetResources", &["tag:GetResources"], Account, Read),
    // S3: the lake bucket.
    op("S3", "HeadBucket", &["s3:ListBucket"], LakeBucket, Read),
    op("S3", "GetBucketTagging", &["s3:GetBucketTagging"], LakeBucket, Read),
    op("S3", "GetBucketVersioning", &["s3:GetBucketVersioning"], LakeBucket, Read),
    op("S3", "GetBucketEncryption", &["s3:GetEncryptionConfiguration"], LakeBucket, Read),
    op("S3", "GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"], LakeBucket, Read),
    op("S3", "GetBucketPolicy", &["s3:GetBucketPolicy"], LakeBucket, Read),
    op("S3", "GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"], LakeBucket, Read),
    // Tags at creation need s3:TagResource (without it the tool tags just after).
    op("S3", "CreateBucket", &["s3:CreateBucket", "s3:TagResource"], LakeBucket, Write),
    op("S3", "PutBucketTagging", &["s3:PutBucketTagging"], LakeBucket, Write),
    op("S3", "PutBucketVersioning", &["s3:PutBucketVersioning"], LakeBucket, Write),
    op("S3", "PutBucketEncryption", &["s3:PutEncryptionConfiguration"], LakeBucket, Write),
    op("S3", "PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"], LakeBucket, Write),
    op("S3", "PutBucketPolicy", &["s3:PutBucketPolicy"], LakeBucket, Write),
    op("S3", "PutBucketLifecycleConfiguration", &["s3:PutLifecycleConfiguration"], LakeBucket, Write),
    op("S3", "DeleteBucketLifecycle", &["s3:PutLifecycleConfiguration"], LakeBucket, Write),
    op("S3", "DeleteBucket", &["s3:DeleteBucket"], LakeBucket, Write),
    // Only down --delete-data lists the lake's versions: the drift role need not see the data.
    op("S3", "ListObjectVersions", &["s3:ListBucketVersions"], LakeBucket, Write),
    op("S3", "DeleteObjects", &["s3:DeleteObject", "s3:DeleteObjectVersion"], LakeObjects, Write),
    // IAM: the functions' roles.
    op("IAM", "ListRoles", &["iam:ListRoles"], Account, Read),
    op("IAM", "GetRole", &["iam:GetRole"], Roles, Read),
    op("IAM", "ListRolePolicies", &["iam:ListRolePolicies"], Roles, Read),
    op("IAM", "GetRolePolicy", &["iam:GetRolePolicy"], Roles, Read),
    op("IAM", "CreateRole", &["iam:CreateRole", "iam:TagRole"], Roles, Write),
    op("IAM", "PutRolePolicy", &["iam:PutRolePolicy"], Roles, Write),
    op("IAM", "TagRole", &["iam:TagRole"], Roles, Write),
    op("IAM", "UntagRole", &["iam:UntagRole"], Roles, Write),
    op("IAM", "UpdateAssumeRolePolicy", &["iam:UpdateAssumeRolePolicy"], Roles, Write),
    op("IAM", "DeleteRolePolicy", &["iam:DeleteRolePolicy"], Roles, Write),
    op("IAM", "DeleteRole", &["iam:DeleteRole"], Roles, Write),
    // CloudWatch Logs: the functions' log groups.
    op("CloudWatch Logs", "DescribeLogGroups", &["logs:DescribeLogGroups"], Account, Read),
    op("CloudWatch Logs", "ListTagsForResource", &["logs:ListTagsForResource"], LogGroups, Read),
    op("CloudWatch Logs", "CreateLogGroup", &["logs:CreateLogGroup", "logs:TagResource"], LogGroups, Write),
    op("CloudWatch Logs", "PutRetentionPolicy", &["logs:PutRetentionPolicy"], LogGroups, Write),
    op("CloudWatch Logs", "TagResource", &["logs:TagResource"], LogGroups, Write),
    op("CloudWatch Logs", "UntagResource", &["logs:UntagResource"], LogGroups, Write),
    op("CloudWatch Logs", "DeleteLogGroup", &["logs:DeleteLogGroup"], LogGroups, Write),
    // Lambda: the functions.
    op("Lambda", "ListFunctions", &["lambda:ListFunctions"], Account, Read),
    op("Lambda", "GetFunction", &["lambda:GetFunction"], Functions, Read),
    op("Lambda", "GetPolicy", &["lambda:GetPolicy"], Functions, Read),
    op("Lambda", "GetFunctionUrlConfig", &["lambda:GetFunctionUrlConfig"], Functions, Read),
    op("Lambda", "CreateFunction", &["lambda:CreateFunction", "lambda:TagResource"], Functions, Write),
    op("Lambda", "UpdateFunctionCode", &["lambda:UpdateFunctionCode"], Functions, Write),
    op("Lambda", "UpdateFunctionConfiguration", &["lambda:UpdateFunctionConfiguration"], Functions, Write),
    op("Lambda", "PutFunctionConcurrency", &["lambda:PutFunctionConcurrency"], Functions, Write),
    op("Lambda", "DeleteFunctionConcurrency", &["lambda:DeleteFunctionConcurrency"], Functions, Write),
    op("Lambda", "AddPermission", &["lambda:AddPermission"], Functions, Write),
    op("Lambda", "RemovePermission", &["lambda:RemovePermission"], Functions, Write),
    op("Lambda", "TagResource", &["lambda:TagResource"], Functions, Write),
    op("Lambda", "UntagResource", &["lambda:UntagResource"], Functions, Write),
    op("Lambda", "DeleteFunction", &["lambda:DeleteFunction"], Functions, Write),
    op("Lambda", "DeleteFunctionUrlConfig", &["lambda:DeleteFunctionUrlConfig"], Functions, Write),
    // SSM: the API key kept for the extractor.
    op("SSM", "DescribeParameters", &["ssm:DescribeParameters"], Account, Read),
    op("SSM", "GetParameter", &["ssm:GetParameter"], Parameters, Read),
    op("SSM", "ListTagsForResource", &["ssm:ListTagsForResource"], Parameters, Read),
    op("SSM", "PutParameter", &["ssm:PutParameter", "ssm:AddTagsToResource"], Parameters, Write),
    op("SSM", "AddTagsToResource", &["ssm:AddTagsToResource"], Parameters, Write),
    op("SSM", "RemoveTagsFromResource", &["ssm:RemoveTagsFromResource"], Parameters, Write),
    op("SSM", "DeleteParameter", &["ssm:DeleteParameter"], Parameters, Write),
    // API Gateway: the data API, its key and usage plan.
    op("API Gateway", "GetRestApis", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetResources", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetMethod", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetStage", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetApiKeys", &["apigateway:GET"], ApiGateway, Read),
    // The key's value: plans compare its hash with the parameter's.
    op("API Gateway", "GetApiKey", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetUsagePlans", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "GetUsagePlanKeys", &["apigateway:GET"], ApiGateway, Read),
    op("API Gateway", "CreateRestApi", &["apigateway:POST", "apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "CreateResource", &["apigateway:POST"], ApiGateway, Write),
    op("API Gateway", "PutMethod", &["apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "PutIntegration", &["apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "CreateDeployment", &["apigateway:POST"], ApiGateway, Write),
    op("API Gateway", "UpdateStage", &["apigateway:PATCH"], ApiGateway, Write),
    op("API Gateway", "CreateApiKey", &["apigateway:POST", "apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "UpdateApiKey", &["apigateway:PATCH"], ApiGateway, Write),
    op("API Gateway", "CreateUsagePlan", &["apigateway:POST", "apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "CreateUsagePlanKey", &["apigateway:POST"], ApiGateway, Write),
    op("API Gateway", "TagResource", &["apigateway:PUT"], ApiGateway, Write),
    op("API Gateway", "UntagResource", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteMethod", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteResource", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteUsagePlanKey", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteUsagePlan", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteApiKey", &["apigateway:DELETE"], ApiGateway, Write),
    op("API Gateway", "DeleteRestApi", &["apigateway:DELETE"], ApiGateway, Write),

];

/// The IAM actions an SDK operation needs and whether it changes anything;
/// `None` for an operation the table does not know (a test keeps it complete).
pub fn required(service: &str, operation: &str) -> Option<(Vec<&'static str>, Access)> {
    OPERATIONS
        .iter()
        .find(|o| o.service == service && o.name == operation)
        .map(|o| (o.actions.to_vec(), o.access))
}

fn resources(scope: Scope, stack: &Stack, account: &str) -> Vec<String> {
    let region = &stack.region;
    let name = &stack.name;
    match scope {
        Scope::Account => vec!["*".into()],
        Scope::LakeBucket => vec![format!("arn:aws:s3:::{}", stack.lake.bucket)],
        Scope::LakeObjects => vec![format!("arn:aws:s3:::{}/*", stack.lake.bucket)],
        Scope::Functions => vec![format!(
            "arn:aws:lambda:{region}:{account}:function:{name}-*"
        )],
        Scope::Roles => vec![format!("arn:aws:iam::{account}:role/{name}-*")],
        Scope::LogGroups => vec![format!(
            "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{name}-*"
        )],
        Scope::Parameters => vec![format!(
            "arn:aws:ssm:{region}:{account}:parameter/showcase/{name}/*"
        )],
        // REST API, key and usage plan ids are made by AWS: no narrower ARN exists.
        Scope::ApiGateway => [
            "/restapis",
            "/restapis/*",
            "/apikeys",
            "/apikeys/*",
            "/usageplans",
            "/usageplans/*",
            "/tags/*",
        ]
        .iter()
        .map(|path| format!("arn:aws:apigateway:{region}::{path}"))
        .collect(),
    }
}

fn sid(scope: Scope) -> &'static str {
    match scope {
        Scope::Account => "FindTheStack",
        Scope::LakeBucket => "LakeBucket",
        Scope::LakeObjects => "LakeObjects",
        Scope::Functions => "Functions",
        Scope::Roles => "FunctionRoles",
        Scope::LogGroups => "LogGroups",
        Scope::Parameters => "ApiKeyParameter",
        Scope::ApiGateway => "DataApi",
    }
}

/// The policy document for `stack`: `Access::Read` for plan/drift/outputs,
/// `Access::Write` for everything (up and down too).
pub fn policy(stack: &Stack, account: &str, access: Access) -> serde_json::Value {
    let mut actions: BTreeMap<Scope, Vec<&'static str>> = BTreeMap::new();
    for operation in OPERATIONS {
        if access == Access::Read && operation.access == Access::Write {
            continue;
        }
        let scope_actions = actions.entry(operation.scope).or_default();
        scope_actions.extend(operation.actions);
        scope_actions.sort_unstable();
        scope_actions.dedup();
    }
    let mut statements: Vec<serde_json::Value> = actions
        .into_iter()
        .filter(|(_, actions)| !actions.is_empty())
        .map(|(scope, actions)| {
            json!({
                "Sid": sid(scope),
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources(scope, stack, account),
            })
        })
        .collect();
    if access == Access::Write {
        // Not an API call: CreateFunction and UpdateFunctionConfiguration hand a
        // role to Lambda. Only the stack's roles, and only to Lambda.
        statements.push(json!({
            "Sid": "PassFunctionRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": resources(Scope::Roles, stack, account),
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        let text =
            "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n";
        crate::config::parse(
            text,
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap()
    }

    fn statements(access: Access) -> Vec<serde_json::Value> {
        policy(&stack(), "123456789012", access)["Statement"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn actions(statement: &serde_json::Value) -> Vec<String> {
        match &statement["Action"] {
            serde_json::Value::Array(list) => list
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            single => vec![single.as_str().unwrap().to_owned()],
        }
    }

    #[test]
    fn the_read_only_policy_reads_only() {
        for statement in statements(Access::Read) {
            for action in actions(&statement) {
                let verb = action.split(':').nth(1).unwrap();
                assert!(
                    ["Get", "List", "Describe", "GET"]
                        .iter()
                        .any(|read| verb.starts_with(read)),
                    "{action} in the read-only policy"
                );
            }
        }
    }

    #[test]
    fn only_listings_are_unscoped_and_everything_else_names_the_stack() {
        for statement in statements(Access::Write) {
            let resources = statement["Resource"].to_string();
            if resources.contains("\"*\"") {
                for action in actions(&statement) {
                    let verb = action.split(':').nth(1).unwrap();
                    assert!(
                        verb.starts_with("List")
                            || verb.starts_with("Describe")
                            || action == "tag:GetResources",
                        "{action} on every resource"
                    );
                }
            } else {
                assert!(
                    resources.contains("demo") || resources.contains("apigateway"),
                    "{resources}"
                );
            }
        }
    }

    #[test]
    fn roles_are_passed_to_lambda_only_and_only_the_stacks() {
        let pass = statements(Access::Write)
            .into_iter()
            .find(|s| s["Action"] == "iam:PassRole")
            .unwrap();
        assert_eq!(
            pass["Resource"],
            json!(["arn:aws:iam::123456789012:role/demo-*"])
        );
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
        assert!(
            !statements(Access::Read)
                .iter()
                .any(|s| s["Action"] == "iam:PassRole")
        );
    }
}
