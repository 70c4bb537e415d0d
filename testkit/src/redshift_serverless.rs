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

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

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

struct ApiError {
    code: &'static str,
    message: String,
}

fn validation(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ValidationException",
        message: message.into(),
    }
}

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ConflictException",
        message: message.into(),
    }
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ResourceNotFoundException",
        message: message.into(),
    }
}

type Input = Map<String, Value>;

fn text(input: &Input, key: &str) -> Result<Option<String>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(validation(format!("{key} must be a string"))),
    }
}

fn required(input: &Input, key: &str) -> Result<String, ApiError> {
    text(input, key)?.ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn number(input: &Input, key: &str) -> Result<Option<i64>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| validation(format!("{key} must be an integer"))),
    }
}

fn flag(input: &Input, key: &str) -> Result<Option<bool>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(validation(format!("{key} must be a boolean"))),
    }
}

fn strings(input: &Input, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| validation(format!("each of {key} must be a string")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(validation(format!("{key} must be a list"))),
    }
}

fn tags_of(input: &Input, key: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(Value::Array(items)) = input.get(key) else {
        return Ok(BTreeMap::new());
    };
    items
        .iter()
        .map(|t| {
            let key = t.get("key").and_then(Value::as_str);
            let value = t.get("value").and_then(Value::as_str);
            match (key, value) {
                (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
                _ => Err(validation("a tag needs a key and a value")),
            }
        })
        .collect()
}

fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let valid = (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(validation(format!(
            "{kind} name '{name}': 3 to 64 lowercase letters, digits or hyphens"
        )))
    }
}

fn check_capacity(base: i64, max: Option<i64>) -> Result<(), ApiError> {
    if !(base == 4 || (8..=1024).contains(&base) && base % 8 == 0) {
        return Err(validation(format!(
            "base capacity {base} is not valid: 4, or 8 to 1024 in units of 8"
        )));
    }
    if let Some(max) = max
        && (max < base || max > 5632 || max % 8 != 0 && max != 4)
    {
        return Err(validation(format!(
            "max capacity {max} is not valid: at least the base capacity ({base}), at most 5632, in units of 8"
        )));
    }
    Ok(())
}

fn check_port(port: i64) -> Result<(), ApiError> {
    if (5431..=5455).contains(&port) || (8191..=8215).contains(&port) {
        Ok(())
    } else {
        Err(validation(format!(
            "port {port} is not valid: 5431 to 5455 or 8191 to 8215"
        )))
    }
}

/// RFC 3339 in UTC (`2026-12-05T15:32:12.252Z`): the service's timestamps
/// are `date-time` strings, not epoch numbers.
fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The region a signed request is for (its credential scope), else us-east-1.
fn region(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(2))
        .unwrap_or("us-east-1")
        .to_owned()
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
        if let Ok(id) = HeaderValue::from_str(&crate::tools::new_uuid()) {
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

    fn create_namespace(
        &self,
        state: &mut State,
        input: &Input,
        region: &str,
    ) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        check_name("namespace", &name)?;
        if state.namespaces.contains_key(&name) {
            return Err(conflict(format!("Namespace {name} already exists")));
        }
        let managed = flag(input, "manageAdminPassword")?.unwrap_or(false);
        if managed && input.contains_key("adminUserPassword") {
            return Err(validation(
                "You can't use adminUserPassword if manageAdminPassword is true",
            ));
        }
        let id = crate::tools::new_uuid();
        let account = &self.settings.account;
        let namespace = Namespace {
            arn: format!("arn:aws:redshift-serverless:{region}:{account}:namespace/{id}"),
            id,
            admin_username: text(input, "adminUsername")?.unwrap_or_else(|| "admin".into()),
            db_name: text(input, "dbName")?.unwrap_or_else(|| "dev".into()),
            iam_roles: strings(input, "iamRoles")?.unwrap_or_default(),
            default_iam_role_arn: text(input, "defaultIamRoleArn")?,
            secret_arn: managed.then(|| {
                format!(
                    "arn:aws:secretsmanager:{region}:{account}:secret:redshift!{name}-admin-AbCdEf"
                )
            }),
            created: SystemTime::now(),
            busy_until: None,
        };
        state
            .tags
            .insert(namespace.arn.clone(), tags_of(input, "tags")?);
        let answer = namespace_value(&name, &namespace, None);
        state.namespaces.insert(name, namespace);
        Ok(json!({ "namespace": answer }))
    }

    fn update_namespace(&self, state: &mut State, input: &Input) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        let until = self.busy_until();
        let namespace = state
            .namespaces
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("namespace {name} not found")))?;
        if namespace.busy_until.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the namespace {name}: try again once it is AVAILABLE"
            )));
        }
        let user = text(input, "adminUsername")?;
        let password = text(input, "adminUserPassword")?;
        if user.is_some() != password.is_some() {
            return Err(validation(
                "You must specify both adminUsername and adminUserPassword to update either",
            ));
        }
        let managed = flag(input, "manageAdminPassword")?;
        if managed == Some(true) && password.is_some() {
            return Err(validation(
                "You can't use adminUserPassword if manageAdminPassword is true",
            ));
        }
        if let Some(roles) = strings(input, "iamRoles")? {
            namespace.iam_roles = roles;
        }
        if let Some(default) = text(input, "defaultIamRoleArn")? {
            namespace.default_iam_role_arn = Some(default);
        }
        if let Some(user) = user {
            namespace.admin_username = user;
        }
        if password.is_some() || managed == Some(false) {
            namespace.secret_arn = None;
        }
        if managed == Some(true) && namespace.secret_arn.is_none() {
            namespace.secret_arn = Some(format!(
                "{}:secret:redshift!{name}-admin-AbCdEf",
                namespace
                    .arn
                    .split(":namespace/")
                    .next()
                    .unwrap_or_default()
                    .replace("redshift-serverless", "secretsmanager")
            ));
        }
        namespace.busy_until = Some(until);
        Ok(json!({ "namespace": namespace_value(&name, namespace, None) }))
    }

    fn delete_namespace(&self, state: &mut State, input: &Input) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        let Some(namespace) = state.namespaces.get(&name) else {
            return Err(not_found(format!("namespace {name} not found")));
        };
        if namespace.busy_until.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the namespace {name}: try again once it is AVAILABLE"
            )));
        }
        if state.workgroups.values().any(|w| w.namespace == name) {
            return Err(conflict(format!(
                "Namespace {name} has a workgroup: delete the workgroup first"
            )));
        }
        let snapshot = text(input, "finalSnapshotName")?;
        let retention = number(input, "finalSnapshotRetentionPeriod")?.unwrap_or(-1);
        if let Some(snapshot) = &snapshot {
            if state.snapshots.contains_key(snapshot) {
                return Err(conflict(format!("Snapshot {snapshot} already exists")));
            }
            state.snapshots.insert(
                snapshot.clone(),
                Snapshot {
                    namespace: name.clone(),
                    namespace_arn: namespace.arn.clone(),
                    retention,
                    created: SystemTime::now(),
                },
            );
        }
        let Some(namespace) = state.namespaces.remove(&name) else {
            return Err(not_found(format!("namespace {name} not found")));
        };
        state.tags.remove(&namespace.arn);
        Ok(json!({ "namespace": namespace_value(&name, &namespace, Some("DELETING")) }))
    }

    fn create_workgroup(
        &self,
        state: &mut State,
        input: &Input,
        region: &str,
    ) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        check_name("workgroup", &name)?;
        let namespace = required(input, "namespaceName")?;
        if state.workgroups.contains_key(&name) {
            return Err(conflict(format!("Workgroup {name} already exists")));
        }
        if !state.namespaces.contains_key(&namespace) {
            return Err(not_found(format!("namespace {namespace} not found")));
        }
        if state.workgroups.values().any(|w| w.namespace == namespace) {
            return Err(conflict(format!(
                "Namespace {namespace} already has a workgroup"
            )));
        }
        let base = number(input, "baseCapacity")?.unwrap_or(128);
        let max = number(input, "maxCapacity")?;
        check_capacity(base, max)?;
        let port = number(input, "port")?.unwrap_or(5439);
        check_port(port)?;
        let subnet_ids = strings(input, "subnetIds")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SUBNETS.iter().map(|s| (*s).to_owned()).collect());
        let security_group_ids = strings(input, "securityGroupIds")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec![DEFAULT_SECURITY_GROUP.to_owned()]);
        let id = crate::tools::new_uuid();
        let workgroup = Workgroup {
            arn: format!(
                "arn:aws:redshift-serverless:{region}:{}:workgroup/{id}",
                self.settings.account
            ),
            id,
            namespace,
            base_capacity: base,
            max_capacity: max,
            subnet_ids,
            security_group_ids,
            publicly_accessible: flag(input, "publiclyAccessible")?.unwrap_or(false),
            port,
            created: SystemTime::now(),
            busy: Some(("CREATING", self.busy_until())),
        };
        state
            .tags
            .insert(workgroup.arn.clone(), tags_of(input, "tags")?);
        let answer = workgroup_value(&name, &workgroup);
        state.workgroups.insert(name, workgroup);
        Ok(json!({ "workgroup": answer }))
    }

    fn update_workgroup(&self, state: &mut State, input: &Input) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        let until = self.busy_until();
        let workgroup = state
            .workgroups
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
        if workgroup.busy.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the workgroup {name}: try again once it is AVAILABLE"
            )));
        }
        let parameters: Vec<&String> = input.keys().filter(|k| *k != "workgroupName").collect();
        if parameters.len() > 1 {
            return Err(validation(
                "You can't update multiple parameters in one request",
            ));
        }
        let base = number(input, "baseCapacity")?.unwrap_or(workgroup.base_capacity);
        let max = match number(input, "maxCapacity")? {
            Some(max) => Some(max),
            None => workgroup.max_capacity,
        };
        check_capacity(base, max)?;
        if let Some(port) = number(input, "port")? {
            check_port(port)?;
            workgroup.port = port;
        }
        workgroup.base_capacity = base;
        workgroup.max_capacity = max;
        if let Some(public) = flag(input, "publiclyAccessible")? {
            workgroup.publicly_accessible = public;
        }
        if let Some(subnets) = strings(input, "subnetIds")? {
            workgroup.subnet_ids = subnets;
        }
        if let Some(groups) = strings(input, "securityGroupIds")? {
            workgroup.security_group_ids = groups;
        }
        workgroup.busy = Some(("MODIFYING", until));
        Ok(json!({ "workgroup": workgroup_value(&name, workgroup) }))
    }

    fn delete_workgroup(&self, state: &mut State, input: &Input) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        let until = self.busy_until();
        let workgroup = state
            .workgroups
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
        if workgroup.busy.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the workgroup {name}: try again once it is AVAILABLE"
            )));
        }
        workgroup.busy = Some(("DELETING", until));
        Ok(json!({ "workgroup": workgroup_value(&name, workgroup) }))
    }
}

fn known_arn<'s>(state: &'s State, arn: &str) -> Result<&'s BTreeMap<String, String>, ApiError> {
    state
        .tags
        .get(arn)
        .ok_or_else(|| not_found(format!("resource {arn} not found")))
}

fn tags_json(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

fn namespace_value(name: &str, namespace: &Namespace, status: Option<&str>) -> Value {
    let status = status.unwrap_or(if namespace.busy_until.is_some() {
        "MODIFYING"
    } else {
        "AVAILABLE"
    });
    let mut value = json!({
        "namespaceName": name,
        "namespaceId": namespace.id,
        "namespaceArn": namespace.arn,
        "adminUsername": namespace.admin_username,
        "dbName": namespace.db_name,
        // As AWS answers them: a struct printed as text around each ARN.
        "iamRoles": namespace
            .iam_roles
            .iter()
            .map(|arn| format!("IamRole(applyStatus=in-sync, iamRoleArn={arn})"))
            .collect::<Vec<_>>(),
        "logExports": [],
        "status": status,
        "creationDate": rfc3339(namespace.created),
    });
    if let Some(default) = &namespace.default_iam_role_arn {
        value["defaultIamRoleArn"] = json!(default);
    }
    if let Some(secret) = &namespace.secret_arn {
        value["adminPasswordSecretArn"] = json!(secret);
    }
    value
}

fn workgroup_json(state: &State, name: &str) -> Result<Value, ApiError> {
    let workgroup = state
        .workgroups
        .get(name)
        .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
    Ok(workgroup_value(name, workgroup))
}

fn workgroup_value(name: &str, workgroup: &Workgroup) -> Value {
    let status = workgroup.busy.map_or("AVAILABLE", |(status, _)| status);
    let mut value = json!({
        "workgroupName": name,
        "workgroupId": workgroup.id,
        "workgroupArn": workgroup.arn,
        "namespaceName": workgroup.namespace,
        "baseCapacity": workgroup.base_capacity,
        "enhancedVpcRouting": false,
        "configParameters": [],
        "subnetIds": workgroup.subnet_ids,
        "securityGroupIds": workgroup.security_group_ids,
        "publiclyAccessible": workgroup.publicly_accessible,
        "port": workgroup.port,
        "status": status,
        "creationDate": rfc3339(workgroup.created),
        // What AWS changes by itself: never the same twice in a row here.
        "workgroupVersion": "1.0.99999",
        "patchVersion": format!(
            "1.0.{}",
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                % 1000
        ),
        "endpoint": {
            "address": format!("{name}.{}.us-east-1.redshift-serverless.amazonaws.com", workgroup.id),
            "port": workgroup.port,
            "vpcEndpoints": [],
        },
    });
    if let Some(max) = workgroup.max_capacity {
        value["maxCapacity"] = json!(max);
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_484_732_252);
        assert_eq!(rfc3339(time), "2026-12-05T15:32:12.252Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
