//! The AWS resources a stack owns, one module per kind, all behind one trait:
//! read the live state, say what the desired state is, create, update, delete.
//! The diff between the two is generic (see [`diff`]), so a plan is pure data
//! that can be printed and tested without AWS.

pub mod api_key_parameter;
pub mod data_api;
mod diff;
mod fields;
pub mod function;
pub mod function_role;
pub mod lake_bucket;
pub mod log_group;
pub(crate) mod tags;

use futures_util::future::BoxFuture;

use crate::aws::Aws;

pub use diff::{FieldChange, diff};
pub use fields::{FieldValue, Fields, KNOWN_AFTER_APPLY};

/// `kind.name`, e.g. `lake_bucket.acme-lake`: how plans and reports name a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Address {
    pub kind: &'static str,
    pub name: String,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// Who owns a live resource of the desired name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Ownership {
    /// Carries `showcase:stack = <this stack>`.
    Ours,
    /// Exists without our tag (or with another stack's): never touched.
    Foreign { found: Option<String> },
}

/// A resource as it exists in AWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub ownership: Ownership,
    pub fields: Fields,
}

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{address}: {operation} failed: {detail}")]
    Aws {
        address: Address,
        operation: &'static str,
        detail: String,
    },
    #[error("{address}: {detail}")]
    Invalid { address: Address, detail: String },
}

impl ResourceError {
    /// Listing the live resources of a kind failed (no one resource to name).
    pub fn listing(kind: &'static str, operation: &'static str, detail: String) -> ResourceError {
        ResourceError::Aws {
            address: Address {
                kind,
                name: "*".into(),
            },
            operation,
            detail,
        }
    }

    /// A field the resource kind has no update for: a bug in the kind, named clearly.
    pub fn not_updatable(address: Address, field: &str) -> ResourceError {
        ResourceError::Invalid {
            address,
            detail: format!("no way to update field {field}"),
        }
    }
}

/// One kind of AWS resource, as the engine sees it.
pub trait Resource: Send + Sync {
    fn address(&self) -> Address;

    /// An AWS call about this resource failed.
    fn error(&self, operation: &'static str, detail: String) -> ResourceError {
        ResourceError::Aws {
            address: self.address(),
            operation,
            detail,
        }
    }

    /// Resources that must exist before this one (and be deleted after it).
    fn depends_on(&self) -> Vec<Address> {
        Vec::new()
    }

    /// The settings `stack.toml` asks for.
    fn desired(&self) -> Fields;

    /// Fields whose change needs the resource replaced rather than updated.
    fn replaced_when_changed(&self) -> &'static [&'static str] {
        &[]
    }

    /// The live state, `None` if nothing of that name exists.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>>;

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>>;

    /// Brings the changed fields (and only those) to their desired values.
    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>>;

    /// Whether deleting it loses data (then only with `--delete-data`).
    fn holds_data(&self) -> bool {
        false
    }

    /// Removes the resource. `delete_data` is the user's explicit consent to
    /// lose data (bucket objects); without it, data-holding resources are kept.
    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>>;
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Deleted {
    Deleted,
    /// Kept because it holds data and deleting data was not asked for.
    KeptData,
}
