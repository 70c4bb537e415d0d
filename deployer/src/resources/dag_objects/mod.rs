//! The stack's Airflow DAG in its MWAA environment's DAG folder: one S3
//! object per file `showcase-deploy dag` renders, under a folder of the
//! stack's own (`<DagS3Path>/<stack>/`) in the environment's source bucket.
//!
//! - The environment is the user's ([`environment`]): read for its bucket,
//!   DAG path, Airflow version and status, never changed. MWAA picks DAG
//!   files up by itself, so no environment update is needed.
//! - The DAG is written only for the Airflow versions it is tested on
//!   ([`AIRFLOW_VERSIONS`]), whose MWAA images ship everything it imports:
//!   so the DAG needs no `requirements.txt` (the user's extra packages are
//!   [`super::mwaa_requirements`]'s), and its files no environment update.
//! - Each object carries the stack's tags and `showcase:airflow-version`, the
//!   environment's Airflow version it was written for. Fields: its content's
//!   sha256 (read back from S3, so an edit by hand shows), its tags, that
//!   version (the environment upgraded since: drift, `up` writes it again), and
//!   for the DAG file the environment's status (not `AVAILABLE`: drift, which
//!   `up` reports and cannot repair). Only an object whose field changed is
//!   written.
//! - An object under the stack's folder without the stack's tag (a file
//!   replaced by hand loses its tags) is not the stack's: reported, never
//!   overwritten or deleted. Prune lists only the stack's folder.

pub mod environment;
mod files;

pub use files::objects;

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::s3_object::{self, sha256_hex};
use super::tags::claim;
use super::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle,
    KNOWN_AFTER_APPLY, Kind, Live, Owned, Resource, ResourceError,
};
use crate::aws::{Aws, describe};
use crate::config::Stack;
use crate::permissions::{Grant, listing, read, write};

pub const KIND: &str = "dag_object";

/// The tag naming the Airflow version an object was written for.
pub const AIRFLOW_VERSION_TAG: &str = "showcase:airflow-version";

/// The Airflow versions the DAG is written and tested for: MWAA's images of
/// these ship the Amazon provider it needs ([`crate::dag::PROVIDER`]), so the
/// environment needs no `requirements.txt` (and no environment update).
pub const AIRFLOW_VERSIONS: &[&str] = &["2.11.0", "3.0.6"];

/// The schema the deployed DAG's SQL uses (`run`'s default).
pub const SCHEMA: &str = "showcase_data_pipeline";

mod field {
    pub const TAGS: &str = "tags";
    pub const SHA256: &str = "sha256";
    pub const AIRFLOW_VERSION: &str = "airflow_version";
    /// The DAG file only: the environment's status.
    pub const ENVIRONMENT_STATUS: &str = "environment_status";
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::SHA256),
    FieldSpec::update(field::AIRFLOW_VERSION),
];

const DAG_FILE_FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::SHA256),
    FieldSpec::update(field::AIRFLOW_VERSION),
    FieldSpec::update(field::ENVIRONMENT_STATUS),
];

const AVAILABLE: &str = "AVAILABLE";

/// One object by its identity: the environment and its path in the stack's folder.
pub struct DagObjectId {
    pub environment: String,
    pub stack: String,
    /// Relative to the stack's folder, e.g. `demo_pipeline.py`.
    pub path: String,
}

/// Where the read found the object.
struct Found {
    bucket: String,
    key: String,
}

/// A rendered file as the stack wants it.
pub struct DagObject {
    pub id: DagObjectId,
    /// `None`: known after apply (the warehouse it names does not exist yet).
    pub text: Option<String>,
    /// The environment's Airflow version; `None`: known after apply.
    pub airflow_version: Option<String>,
    /// The environment's bucket and the stack's folder in it, as discovered
    /// (so that writing needs no second `GetEnvironment`); `None` with the text.
    pub folder: Option<(String, String)>,
    pub tags: BTreeMap<String, String>,
}

impl DagObjectId {
    fn is_dag_file(&self) -> bool {
        !self.path.contains('/') && self.path.ends_with(".py")
    }

    async fn locate(&self, aws: &Aws) -> Result<(environment::Environment, String), ResourceError> {
        let environment = environment::read(aws, &self.environment).await?;
        let key = format!("{}{}", environment.stack_prefix(&self.stack), self.path);
        Ok((environment, key))
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let (environment, key) = self.locate(aws).await?;
        let bucket = environment.bucket.clone();
        let Some(object) =
            s3_object::read(aws, &bucket, &key, |op, detail| self.error(op, detail)).await?
        else {
            return Ok(None);
        };
        let mut tags = object.tags;
        let written_for = tags.remove(AIRFLOW_VERSION_TAG).unwrap_or_default();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        fields.insert(field::SHA256, FieldValue::Text(object.sha256));
        fields.insert(field::AIRFLOW_VERSION, FieldValue::Text(written_for));
        if self.is_dag_file() {
            fields.insert(
                field::ENVIRONMENT_STATUS,
                FieldValue::Text(environment.status.clone()),
            );
        }
        Ok(Some(Live::ours(fields, Handle::new(Found { bucket, key }))))
    }
}

impl Owned for DagObjectId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: format!("{}/{}", self.stack, self.path),
        }
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        _delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            let found = live
                .handle
                .get::<Found>()
                .ok_or_else(|| self.error("DeleteObject", "read found no object".into()))?;
            aws.s3
                .delete_object()
                .bucket(&found.bucket)
                .key(&found.key)
                .send()
                .await
                .map_err(|e| self.error("DeleteObject", describe(&e)))?;
            Ok(Deleted::Deleted)
        })
    }
}

impl DagObject {
    /// Writes the object with its tags (content, tags and version together:
    /// one request, and the object is never without the stack's tag).
    async fn put(&self, aws: &Aws) -> Result<(), ResourceError> {
        let (Some(text), Some(version), Some((bucket, folder))) =
            (&self.text, &self.airflow_version, &self.folder)
        else {
            return Err(self.error(
                "PutObject",
                "the DAG's names are not known yet (the warehouse does not exist)".into(),
            ));
        };
        if !AIRFLOW_VERSIONS.contains(&version.as_str()) {
            return Err(self.error(
                "PutObject",
                format!(
                    "MWAA environment {} runs Airflow {version}; the DAG is written for {} (whose MWAA images ship {}): upgrade the environment",
                    self.id.environment,
                    AIRFLOW_VERSIONS.join(" or "),
                    crate::dag::PROVIDER
                ),
            ));
        }
        let key = format!("{folder}{}", self.id.path);
        let mut tags = self.tags.clone();
        tags.insert(AIRFLOW_VERSION_TAG.to_owned(), version.clone());
        let tagging = super::tags::query_string(&tags);
        let content_type = if self.id.path.ends_with(".py") {
            "text/x-python"
        } else {
            "application/sql"
        };
        aws.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .body(text.clone().into_bytes().into())
            .content_type(content_type)
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| self.error("PutObject", describe(&e)))?;
        Ok(())
    }
}

impl Resource for DagObject {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        if self.id.is_dag_file() {
            DAG_FILE_FIELDS
        } else {
            FIELDS
        }
    }

    fn desired(&self) -> Fields {
        let known = |value: &Option<String>| {
            FieldValue::Text(
                value
                    .clone()
                    .unwrap_or_else(|| KNOWN_AFTER_APPLY.to_owned()),
            )
        };
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(
            field::SHA256,
            known(&self.text.as_deref().map(|t| sha256_hex(t.as_bytes()))),
        );
        fields.insert(field::AIRFLOW_VERSION, known(&self.airflow_version));
        if self.id.is_dag_file() {
            fields.insert(
                field::ENVIRONMENT_STATUS,
                FieldValue::Text(AVAILABLE.to_owned()),
            );
        }
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.put(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let mut rewrite = false;
            let mut unavailable = None;
            for change in changes {
                match change.field {
                    field::TAGS | field::SHA256 | field::AIRFLOW_VERSION => rewrite = true,
                    field::ENVIRONMENT_STATUS => unavailable = change.live.clone(),
                    other => return Err(ResourceError::not_updatable(self.address(), other)),
                }
            }
            if rewrite {
                self.put(aws).await?;
            }
            if let Some(status) = unavailable {
                return Err(ResourceError::Invalid {
                    address: self.address(),
                    detail: format!(
                        "MWAA environment {} is {} (not AVAILABLE): the DAG is written, but the tool never changes the environment; see its LastUpdate in the MWAA console",
                        self.id.environment,
                        status.display()
                    ),
                });
            }
            Ok(())
        })
    }
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let Some(name) = stack
            .orchestrator
            .as_ref()
            .and_then(|o| o.mwaa_environment.as_deref())
        else {
            return Ok(Vec::new());
        };
        let environment = environment::read(aws, name).await?;
        let prefix = environment.stack_prefix(&stack.name);
        let pages = aws
            .s3
            .list_objects_v2()
            .bucket(&environment.bucket)
            .prefix(&prefix)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| ResourceError::listing(KIND, "ListObjectsV2", describe(&e)))?;
        Ok(pages
            .iter()
            .flat_map(|page| page.contents())
            .filter_map(|object| object.key()?.strip_prefix(&prefix))
            .map(|path| {
                Box::new(DagObjectId {
                    environment: name.to_owned(),
                    stack: stack.name.clone(),
                    path: path.to_owned(),
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

fn environment_name(stack: &Stack) -> Option<&str> {
    stack
        .orchestrator
        .as_ref()
        .and_then(|o| o.mwaa_environment.as_deref())
}

/// The environment's ARN (none without one).
pub fn environment_arns(stack: &Stack, account: &str) -> Vec<String> {
    environment_name(stack)
        .map(|name| {
            format!(
                "arn:aws:airflow:{}:{account}:environment/{name}",
                stack.region
            )
        })
        .into_iter()
        .collect()
}

/// The stack's folder in any bucket: the environment's bucket and DAG path
/// are known only from `GetEnvironment`, so the bucket and the folders above
/// the stack's are wildcards.
fn object_arns(stack: &Stack, _account: &str) -> Vec<String> {
    environment_name(stack)
        .map(|_| format!("arn:aws:s3:::*/*/{}/*", stack.name))
        .into_iter()
        .collect()
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[
        Grant {
            sid: "MwaaEnvironment",
            resources: environment_arns,
            operations: &[read("MWAA", "GetEnvironment", &["airflow:GetEnvironment"])],
        },
        Grant {
            sid: "DagObjects",
            resources: object_arns,
            operations: &[
                // The environment's bucket is known only from GetEnvironment.
                listing("S3", "ListObjectsV2", &["s3:ListBucket"]),
                read("S3", "GetObject", &["s3:GetObject"]),
                read("S3", "GetObjectTagging", &["s3:GetObjectTagging"]),
                write("S3", "PutObject", &["s3:PutObject", "s3:PutObjectTagging"]),
                write("S3", "DeleteObject", &["s3:DeleteObject"]),
            ],
        },
    ],
};
