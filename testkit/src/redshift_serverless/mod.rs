//! A Redshift Serverless control-plane stand-in (moto has none: every call is
//! a 500), for the calls `showcase-deploy` makes and the hand changes its
//! tests make through the SDK.
//!
//! It speaks the service's wire protocol, awsJson1_1: `POST /` with
//! `X-Amz-Target: RedshiftServerless.<Operation>`, a JSON body with the
//! service's camelCase member names, answers as `application/x-amz-json-1.1`,
//! errors as HTTP 400 `{"__type": "<Code>", "message": …}` with AWS's codes
//! (`ResourceNotFoundException`, `ConflictException`, `ValidationException`).
//! Served behind moto's front (`MotoServer::serve_redshift_serverless`), so
//! one endpoint answers every AWS call.
//!
//! **Calls:**
//! - `CreateNamespace` (`namespaceName`, `adminUsername`, `dbName`,
//!   `iamRoles`, `defaultIamRoleArn`, `manageAdminPassword`,
//!   `adminUserPassword`, `tags`), `GetNamespace`, `UpdateNamespace`
//!   (`iamRoles`, `defaultIamRoleArn`, `manageAdminPassword`,
//!   `adminUsername` + `adminUserPassword`), `DeleteNamespace`
//!   (`finalSnapshotName`, `finalSnapshotRetentionPeriod`: the snapshot is
//!   recorded and `GetSnapshot` finds it). A namespace's `iamRoles` are
//!   answered as AWS does, `IamRole(applyStatus=in-sync, iamRoleArn=<arn>)`.
//! - `CreateWorkgroup` (`workgroupName`, `namespaceName`, `baseCapacity`,
//!   `maxCapacity`, `subnetIds`, `securityGroupIds`, `publiclyAccessible`,
//!   `port`, `tags`), `GetWorkgroup`, `UpdateWorkgroup` (one parameter per
//!   request, as AWS requires: "You can't update multiple parameters in one
//!   request"), `DeleteWorkgroup`.
//! - `TagResource`, `UntagResource`, `ListTagsForResource` by ARN.
//! - `GetSnapshot` (`snapshotName`).
//!
//! **How statuses move:** a namespace or workgroup just created or updated is
//! `CREATING`/`MODIFYING` for `settle` (default 300 ms), then `AVAILABLE`; a
//! deleted workgroup is `DELETING` for `settle`, then gone (a namespace goes
//! at once, `DELETING` only in the answer). Updating or deleting while not
//! `AVAILABLE` is a `ConflictException`, as on AWS; deleting a namespace that
//! still has a workgroup too.
//!
//! **Checked as AWS does:** names (3–64 lowercase letters, digits, `-`),
//! `baseCapacity` 4, or 8–1024 in steps of 8, `maxCapacity` ≥ `baseCapacity`,
//! `manageAdminPassword` and `adminUserPassword` not both, a workgroup's
//! namespace exists and has no other workgroup, ports 5431–5455 and
//! 8191–8215. A managed password gets a made-up secret ARN
//! (`adminPasswordSecretArn`); no secret is created.
//!
//! **Not served or not checked:** VPC ids (any `subnet-…`/`sg-…` is taken;
//! with none given, the workgroup gets made-up default ones, as AWS picks
//! the default VPC's), IAM (roles are not looked up), KMS, log exports,
//! snapshots other than final ones, endpoints' addresses (a made-up host),
//! usage limits, paging, every other operation (a ValidationException naming
//! it).

mod input;
mod namespaces;
mod shapes;
mod workgroups;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use self::input::*;
use self::shapes::*;

/// How the stand-in behaves where a test may want to choose.
#[derive(Debug, Clone)]
pub struct RedshiftServerlessSettings {
    /// How long CREATING, MODIFYING and DELETING last.
    pub settle: Duration,
    pub account: String,
}

impl Default for RedshiftServerlessSettings {
    fn default() -> RedshiftServerlessSettings {
        RedshiftServerlessSettings {
            settle: Duration::from_millis(300),
            account: "123456789012".into(),
        }
    }
}

/// The subnets and security group a workgroup gets when none are given.
pub const DEFAULT_SUBNETS: [&str; 3] = ["subnet-default-a", "subnet-default-b", "subnet-default-c"];
pub const DEFAULT_SECURITY_GROUP: &str = "sg-default";

#[derive(Debug, Clone)]
struct Namespace {
    id: String,
    arn: String,
    admin_username: String,
    db_name: String,
    iam_roles: Vec<String>,
    default_iam_role_arn: Option<String>,
    secret_arn: Option<String>,
    created: SystemTime,
    /// Until when it is MODIFYING.
    busy_until: Option<Instant>,
}

#[derive(Debug, Clone)]
struct Workgroup {
    id: String,
    arn: String,
    namespace: String,
    base_capacity: i64,
    max_capacity: Option<i64>,
    subnet_ids: Vec<String>,
    security_group_ids: Vec<String>,
    publicly_accessible: bool,
    port: i64,
    created: SystemTime,
    /// What it is doing and until when (CREATING, MODIFYING, DELETING).
    busy: Option<(&'static str, Instant)>,
}

#[derive(Debug, Clone)]
struct Snapshot {
    namespace: String,
    namespace_arn: String,
    retention: i64,
    created: SystemTime,
}

#[derive(Default)]
struct State {
    namespaces: HashMap<String, Namespace>,
    workgroups: HashMap<String, Workgroup>,
    snapshots: BTreeMap<String, Snapshot>,
    /// By resource ARN.
    tags: HashMap<String, BTreeMap<String, String>>,
}

/// The stand-in; clones share one state.
#[derive(Clone)]
pub struct RedshiftServerless {
    settings: RedshiftServerlessSettings,
    state: Arc<Mutex<State>>,
}

impl Default for RedshiftServerless {
    fn default() -> RedshiftServerless {
        RedshiftServerless::new(RedshiftServerlessSettings::default())
    }
}

impl RedshiftServerless {
    pub fn new(settings: RedshiftServerlessSettings) -> RedshiftServerless {
        RedshiftServerless {
            settings,
            state: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The names of the final snapshots taken, for tests.
    pub fn snapshots(&self) -> Vec<String> {
        self.state().snapshots.keys().cloned().collect()
    }

    /// Answers one awsJson1_1 request (`target` is the `X-Amz-Target` value).
    pub(crate) fn handle(&self, target: &str, headers: &HeaderMap, body: &[u8]) -> Response {
        let (status, value) = match self.dispatch(target, headers, body) {
            Ok(value) => (StatusCode::OK, value),
            Err(error) => (
                StatusCode::BAD_REQUEST,
                json!({"__type": error.code, "message": error.message}),
            ),
        };
        let mut response = Response::new(Body::from(value.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(id) = HeaderValue::from_str(&showcase_local_aws::new_uuid()) {
            response.headers_mut().insert("x-amzn-requestid", id);
        }
        response
    }

    fn dispatch(&self, target: &str, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
        let operation = target.strip_prefix("RedshiftServerless.").unwrap_or(target);
        let input: Input = if body.is_empty() {
            Map::new()
        } else {
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiError {
                        code: "SerializationException",
                        message: "the request body is not a JSON object".into(),
                    });
                }
            }
        };
        let region = region(headers);
        let mut state = self.state();
        self.settle(&mut state);
        match operation {
            "CreateNamespace" => self.create_namespace(&mut state, &input, &region),
            "GetNamespace" => {
                let name = required(&input, "namespaceName")?;
                Ok(json!({"namespace": self.namespace_json(&state, &name)?}))
            }
            "UpdateNamespace" => self.update_namespace(&mut state, &input),
            "DeleteNamespace" => self.delete_namespace(&mut state, &input),
            "CreateWorkgroup" => self.create_workgroup(&mut state, &input, &region),
            "GetWorkgroup" => {
                let name = required(&input, "workgroupName")?;
                Ok(json!({"workgroup": workgroup_json(&state, &name)?}))
            }
            "UpdateWorkgroup" => self.update_workgroup(&mut state, &input),
            "DeleteWorkgroup" => self.delete_workgroup(&mut state, &input),
            "ListTagsForResource" => {
                let arn = required(&input, "resourceArn")?;
                let tags = known_arn(&state, &arn)?;
                Ok(json!({"tags": tags_json(tags)}))
            }
            "TagResource" => {
                let arn = required(&input, "resourceArn")?;
                known_arn(&state, &arn)?;
                let new = tags_of(&input, "tags")?;
                state.tags.entry(arn).or_default().extend(new);
                Ok(json!({}))
            }
            "UntagResource" => {
                let arn = required(&input, "resourceArn")?;
                known_arn(&state, &arn)?;
                let keys = strings(&input, "tagKeys")?.unwrap_or_default();
                if let Some(tags) = state.tags.get_mut(&arn) {
                    for key in keys {
                        tags.remove(&key);
                    }
                }
                Ok(json!({}))
            }
            "GetSnapshot" => {
                let name = required(&input, "snapshotName")?;
                let snapshot = state
                    .snapshots
                    .get(&name)
                    .ok_or_else(|| not_found(format!("snapshot {name} not found")))?;
                Ok(json!({"snapshot": {
                    "snapshotName": name,
                    "namespaceName": snapshot.namespace,
                    "namespaceArn": snapshot.namespace_arn,
                    "status": "AVAILABLE",
                    "snapshotRetentionPeriod": snapshot.retention,
                    "snapshotCreateTime": rfc3339(snapshot.created),
                }}))
            }
            other => Err(validation(format!(
                "RedshiftServerless.{other} is not served by the Redshift Serverless stand-in (testkit)"
            ))),
        }
    }

    /// Moves statuses whose time is up.
    fn settle(&self, state: &mut State) {
        let now = Instant::now();
        for namespace in state.namespaces.values_mut() {
            if namespace.busy_until.is_some_and(|until| until <= now) {
                namespace.busy_until = None;
            }
        }
        let gone: Vec<String> = state
            .workgroups
            .iter()
            .filter(|(_, w)| matches!(w.busy, Some(("DELETING", until)) if until <= now))
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            if let Some(workgroup) = state.workgroups.remove(&name) {
                state.tags.remove(&workgroup.arn);
            }
        }
        for workgroup in state.workgroups.values_mut() {
            if workgroup.busy.is_some_and(|(_, until)| until <= now) {
                workgroup.busy = None;
            }
        }
    }

    fn busy_until(&self) -> Instant {
        Instant::now() + self.settings.settle
    }

    fn namespace_json(&self, state: &State, name: &str) -> Result<Value, ApiError> {
        let namespace = state
            .namespaces
            .get(name)
            .ok_or_else(|| not_found(format!("namespace {name} not found")))?;
        Ok(namespace_value(name, namespace, None))
    }
}
