//! The AWS resources a stack owns, one module per kind, all behind one trait:
//! read the live state, say what the desired state is, create, update, delete.
//! The diff between the two is generic (see [`diff`]), so a plan is pure data
//! that can be printed and tested without AWS.

pub mod api_key_parameter;
pub mod cluster;
pub mod copy_role;
pub mod dag_objects;
pub mod data_api;
mod diff;
mod fields;
pub mod final_snapshot;
pub mod function;
pub mod function_role;
pub mod lake_bucket;
pub mod log_group;
pub mod mwaa_requirements;
pub mod role;
mod s3_object;
pub mod serverless;
pub mod subnet_group;
pub(crate) mod tags;

use futures_util::future::BoxFuture;

use crate::aws::Aws;
use crate::config::Stack;
use crate::permissions::Grant;

/// Every kind the tool knows. Adding one: its module (naming, fields, read,
/// create, update, delete, discovery, permission rows), one line here, its
/// settings in `config`, and its place in `stack::resources`.
pub const KINDS: &[&Kind] = &[
    &lake_bucket::SPEC,
    &function_role::SPEC,
    &log_group::SPEC,
    &function::SPEC,
    &data_api::SPEC,
    &api_key_parameter::SPEC,
    &copy_role::SPEC,
    &subnet_group::SPEC,
    &cluster::SPEC,
    &dag_objects::SPEC,
    &mwaa_requirements::SPEC,
    &serverless::namespace::SPEC,
    &serverless::workgroup::SPEC,
];

/// The stack's live candidates of a kind, by identity.
pub type Discovered = Vec<Box<dyn Owned>>;

/// What the tool knows of a kind besides its resources: declared once, in the
/// kind's own module.
pub struct Kind {
    pub name: &'static str,
    /// Lists the live resources of this kind the stack may own, for prune:
    /// identities to read and delete. The engine keeps those that carry the
    /// stack's tag (and, when they name one, this kind).
    pub discover:
        for<'a> fn(&'a Aws, &'a Stack) -> BoxFuture<'a, Result<Discovered, ResourceError>>,
    /// Its rows of the permissions table.
    pub permissions: &'static [Grant],
}

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
    /// What the read found that update and delete act on (ids AWS made up,
    /// ARNs), so that they never find or parse it again. The kind's own type.
    pub handle: Handle,
}

impl Live {
    /// The stack's own resource, as read.
    pub fn ours(fields: Fields, handle: Handle) -> Live {
        Live {
            ownership: Ownership::Ours,
            fields,
            handle,
        }
    }
}

/// A kind's own record of a live resource (see [`Live::handle`]): the engine
/// carries it from the read to the write without looking inside.
#[derive(Clone, Default)]
pub struct Handle(Option<std::sync::Arc<dyn std::any::Any + Send + Sync>>);

impl Handle {
    pub fn new<T: std::any::Any + Send + Sync>(value: T) -> Handle {
        Handle(Some(std::sync::Arc::new(value)))
    }

    /// The kind's record, if it is one of type `T`.
    pub fn get<T: std::any::Any>(&self) -> Option<&T> {
        self.0.as_deref().and_then(|v| v.downcast_ref::<T>())
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Handle(..)"
        } else {
            "Handle(none)"
        })
    }
}

/// Handles are not part of what a plan compares.
impl PartialEq for Handle {
    fn eq(&self, _: &Handle) -> bool {
        true
    }
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

/// How a field changes when `stack.toml` (or a hand) changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// `update` brings it back in place.
    Update,
    /// AWS cannot change it in place: delete, then create.
    Replace,
}

/// One field a kind compares, declared once in the kind's module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub on_change: OnChange,
}

impl FieldSpec {
    pub const fn update(name: &'static str) -> FieldSpec {
        FieldSpec {
            name,
            on_change: OnChange::Update,
        }
    }

    pub const fn replace(name: &'static str) -> FieldSpec {
        FieldSpec {
            name,
            on_change: OnChange::Replace,
        }
    }
}

/// A live resource by its identity alone: found, read, deleted. Every
/// resource has one ([`Resource::id`]); a leftover stack.toml no longer
/// declares is only this — never desired settings made up to fill a struct.
pub trait Owned: Send + Sync {
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

    /// Whether deleting it loses data (then only with `--delete-data`).
    fn holds_data(&self) -> bool {
        false
    }

    /// The live state, `None` if nothing of that name exists.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>>;

    /// Removes the resource as `live` found it. `delete_data` is the user's
    /// explicit consent to lose data (bucket objects); without it,
    /// data-holding resources are kept.
    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>>;
}

/// One kind of AWS resource as `stack.toml` wants it, as the engine sees it.
pub trait Resource: Send + Sync {
    /// Its identity: what reads and deletes it.
    fn id(&self) -> &dyn Owned;

    fn address(&self) -> Address {
        self.id().address()
    }

    /// An AWS call about this resource failed.
    fn error(&self, operation: &'static str, detail: String) -> ResourceError {
        self.id().error(operation, detail)
    }

    /// Every field the kind compares and how each changes.
    fn fields(&self) -> &'static [FieldSpec];

    /// The settings `stack.toml` asks for: one value per field of [`Resource::fields`].
    fn desired(&self) -> Fields;

    /// Fields whose change needs the resource replaced rather than updated.
    fn replaced_when_changed(&self) -> Vec<&'static str> {
        self.fields()
            .iter()
            .filter(|f| f.on_change == OnChange::Replace)
            .map(|f| f.name)
            .collect()
    }

    /// The live state, `None` if nothing of that name exists: by default what
    /// its identity reads; a kind whose comparison needs its desired settings
    /// (which stage to look at, say) reads more.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        self.id().read(aws)
    }

    /// What creating it (`changed` `None`) or updating these fields disrupts
    /// outside the stack — an environment that restarts for half an hour, say
    /// — or `None`. `up` makes such a change only with the user's consent
    /// (`--allow-env-update`), and the plan says so first.
    fn disruption(&self, _changed: Option<&[FieldChange]>) -> Option<&'static str> {
        None
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>>;

    /// Brings the changed fields (and only those) of the resource `live`
    /// describes to their desired values; a field it does not know is an error.
    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>>;
}

/// What `delete` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Deleted {
    Deleted,
    /// Kept because it holds data and deleting data was not asked for.
    KeptData,
}
