//! The stack model: `raw` mirrors the file (with spans, for messages); the
//! public types are what the rest of the tool works with, fully validated.

use std::collections::BTreeMap;

pub use crate::build::Architecture;

/// A validated stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// Prefix of every resource name, and the value of the `showcase:stack` tag.
    pub name: String,
    pub region: String,
    /// User tags, added to every resource next to `showcase:stack`.
    pub tags: BTreeMap<String, String>,
    pub lake: LakeConfig,
    pub functions: BTreeMap<FunctionName, FunctionConfig>,
    pub api: ApiConfig,
    /// Absent: no warehouse, the stack is an API, two functions and a lake.
    pub warehouse: Option<WarehouseConfig>,
    /// Absent: the DAG runs daily from the data API's first day, on no MWAA.
    pub orchestrator: Option<OrchestratorConfig>,
}

/// `[orchestrator]`: when the DAG runs, and the MWAA environment that runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrchestratorConfig {
    /// An existing environment (the user's): the stack puts its DAG in the
    /// environment's DAG folder and never changes the environment.
    pub mwaa_environment: Option<String>,
    /// `YYYY-MM-DD`: the first day a run is scheduled for.
    pub start_date: String,
    /// A cron line that fires once a day, in UTC (`daily` is `0 0 * * *`).
    pub schedule: String,
    /// Python packages the environment installs beyond MWAA's image (pip
    /// requirement lines): the stack's `requirements.txt`, empty for none.
    pub requirements: Vec<String>,
}

/// The Redshift warehouse the pipeline loads the lake into.
#[derive(Debug, Clone, PartialEq)]
pub struct WarehouseConfig {
    /// The database the pipeline's schemas live in.
    pub database: String,
    pub kind: WarehouseKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WarehouseKind {
    /// A provisioned cluster the stack owns.
    Cluster(ClusterConfig),
    /// A Redshift Serverless namespace and workgroup the stack owns.
    Serverless(ServerlessConfig),
    /// A cluster or workgroup made by the user: read, never modified.
    Existing(ExistingWarehouse),
}

/// Always encrypted, never publicly accessible, password managed by AWS:
/// none of these is a setting.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub node_type: String,
    /// 1: a single-node cluster.
    pub nodes: u32,
    pub admin_user: String,
    pub port: u16,
    pub network: WarehouseNetwork,
    pub snapshot_retention_days: u32,
    /// `ddd:hh24:mi-ddd:hh24:mi` (UTC); `None`: AWS picks one.
    pub maintenance_window: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerlessConfig {
    /// Redshift Processing Units: 4 (AWS's minimum) upward, in steps of 8 from 8.
    pub base_capacity: u32,
    pub max_capacity: Option<u32>,
    pub admin_user: String,
    pub port: u16,
    pub network: WarehouseNetwork,
}

/// The user's VPC: the stack owns a subnet group made from these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WarehouseNetwork {
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExistingWarehouse {
    Cluster(String),
    Workgroup(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FunctionName {
    DataApi,
    Extractor,
}

impl FunctionName {
    pub const ALL: [FunctionName; 2] = [FunctionName::DataApi, FunctionName::Extractor];

    /// The name in stack.toml and in the build (`functions.data-api`).
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionName::DataApi => "data-api",
            FunctionName::Extractor => "extractor",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub architecture: Architecture,
    pub reserved_concurrency: Option<u32>,
    pub log_retention_days: u32,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LakeConfig {
    pub bucket: String,
    /// Key prefix of the lake inside the bucket: empty or ending in `/`.
    pub prefix: String,
    pub versioning: bool,
    pub lifecycle: Vec<LifecycleRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRule {
    pub prefix: String,
    pub expire_days: Option<u32>,
    pub noncurrent_expire_days: Option<u32>,
    pub abort_incomplete_upload_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub stage: String,
    /// Paths served, each one of the data API's routes.
    pub routes: Vec<String>,
    /// Requests per second, steady state (stage and usage plan).
    pub rate_limit: f64,
    pub burst_limit: i32,
    pub quota: Option<(i32, QuotaPeriod)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaPeriod {
    Day,
    Week,
    Month,
}

impl QuotaPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaPeriod::Day => "DAY",
            QuotaPeriod::Week => "WEEK",
            QuotaPeriod::Month => "MONTH",
        }
    }
}

/// The file as written, with the position of every value.
pub(crate) mod raw {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use toml::Spanned;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct StackFile {
        pub stack: StackSection,
        pub lake: LakeSection,
        #[serde(default)]
        pub functions: FunctionsSection,
        #[serde(default)]
        pub api: ApiSection,
        pub warehouse: Option<Spanned<WarehouseSection>>,
        pub orchestrator: Option<OrchestratorSection>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct OrchestratorSection {
        pub mwaa_environment: Option<Spanned<String>>,
        pub start_date: Option<Spanned<String>>,
        pub schedule: Option<Spanned<String>>,
        #[serde(default)]
        pub requirements: Vec<Spanned<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct WarehouseSection {
        pub kind: Spanned<String>,
        pub database: Option<Spanned<String>>,
        pub admin_user: Option<Spanned<String>>,
        pub port: Option<Spanned<i64>>,
        #[serde(default)]
        pub subnet_ids: Vec<Spanned<String>>,
        #[serde(default)]
        pub security_group_ids: Vec<Spanned<String>>,
        // cluster
        pub node_type: Option<Spanned<String>>,
        pub nodes: Option<Spanned<i64>>,
        pub snapshot_retention_days: Option<Spanned<i64>>,
        pub maintenance_window: Option<Spanned<String>>,
        /// Accepted only as `true`: a cluster is always encrypted.
        pub encrypted: Option<Spanned<bool>>,
        /// Accepted only as `false`: a warehouse is never public.
        pub publicly_accessible: Option<Spanned<bool>>,
        // serverless
        pub base_capacity: Option<Spanned<i64>>,
        pub max_capacity: Option<Spanned<i64>>,
        // existing
        pub cluster: Option<Spanned<String>>,
        pub workgroup: Option<Spanned<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct StackSection {
        pub name: Spanned<String>,
        pub region: Spanned<String>,
        #[serde(default)]
        pub tags: BTreeMap<Spanned<String>, Spanned<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct LakeSection {
        pub bucket: Spanned<String>,
        pub prefix: Option<Spanned<String>>,
        pub versioning: Option<bool>,
        #[serde(default)]
        pub lifecycle: Vec<Spanned<LifecycleSection>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct LifecycleSection {
        pub prefix: Option<Spanned<String>>,
        pub expire_days: Option<Spanned<i64>>,
        pub noncurrent_expire_days: Option<Spanned<i64>>,
        pub abort_incomplete_upload_days: Option<Spanned<i64>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct FunctionsSection {
        #[serde(rename = "data-api")]
        pub data_api: Option<FunctionSection>,
        pub extractor: Option<FunctionSection>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct FunctionSection {
        pub memory_mb: Option<Spanned<i64>>,
        pub timeout_s: Option<Spanned<i64>>,
        pub architecture: Option<Spanned<String>>,
        pub reserved_concurrency: Option<Spanned<i64>>,
        pub log_retention_days: Option<Spanned<i64>>,
        #[serde(default)]
        pub environment: BTreeMap<Spanned<String>, Spanned<String>>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct ApiSection {
        pub stage: Option<Spanned<String>>,
        pub routes: Option<Spanned<Vec<Spanned<String>>>>,
        pub rate_limit: Option<Spanned<f64>>,
        pub burst_limit: Option<Spanned<i64>>,
        pub quota_limit: Option<Spanned<i64>>,
        pub quota_period: Option<Spanned<String>>,
    }
}
