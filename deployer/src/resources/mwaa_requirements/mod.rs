//! The stack's `requirements.txt` in its MWAA environment: the Python
//! packages `[orchestrator] requirements` lists beyond MWAA's image (the DAG
//! itself needs none on the Airflow versions it is written for).
//!
//! - One object, `showcase-deploy/<stack>/requirements.txt` in the
//!   environment's source bucket (outside its DAG folder, so the scheduler
//!   never parses it), carrying the stack's tags. MWAA requires that bucket to
//!   be versioned: every write makes a new object version.
//! - The environment installs a requirements file only through
//!   `UpdateEnvironment` naming the file and its version: a 20–30 minute
//!   update that restarts the user's scheduler and workers. So the kind's
//!   fields are the object's content (sha256), its tags, and `installed`,
//!   whether the environment installs this file's current version; a change
//!   of the content or of `installed` is a disruption ([`Resource::disruption`])
//!   that `up` makes only with `--allow-env-update`. A tag change alone is
//!   re-tagged in place (no new version, no update).
//! - The environment is the user's: the tool never points it away from a
//!   requirements file that is not the stack's (it says which lines to add
//!   there instead), and changes nothing else of it.
//! - `up` waits for the update, printing its progress, and resumes the wait
//!   when a killed `up` left it running ([`update`]). A failed update is
//!   reported with MWAA's own error.
//! - `down` (or removing the list) deletes the object. In the versioned bucket
//!   that leaves the version the environment installed, so the environment
//!   keeps working until its requirements are next changed.

mod update;

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::dag_objects::environment::{self, Environment};
use super::s3_object::{self, sha256_hex};
use super::tags::claim;
use super::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle, Kind, Live,
    Owned, Resource, ResourceError,
};
use crate::aws::{Aws, describe};
use crate::config::Stack;
use crate::permissions::{Grant, read, write};

pub const KIND: &str = "mwaa_requirements";

mod field {
    pub const TAGS: &str = "tags";
    pub const SHA256: &str = "sha256";
    /// Whether the environment installs this file's current version.
    pub const INSTALLED: &str = "installed";
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::SHA256),
    FieldSpec::update(field::INSTALLED),
];

/// `installed` when the environment installs the object's current version.
const CURRENT: &str = "this file's current version";

/// What a change of the file or of what the environment installs disrupts.
const DISRUPTION: &str = "updates the MWAA environment to install requirements.txt (20–30 minutes; its scheduler and workers restart)";

/// The object's key in the environment's bucket.
pub fn key(stack: &str) -> String {
    format!("showcase-deploy/{stack}/requirements.txt")
}

/// The file's text: a header saying where it comes from, then the lines.
pub fn text(stack: &str, lines: &[String]) -> String {
    let mut text = format!(
        "# Written by showcase-deploy for stack {stack} from [orchestrator] requirements\n# in its stack.toml: change them there. MWAA adds its own constraints file.\n"
    );
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// The stack's file by its identity.
pub struct RequirementsId {
    pub environment: String,
    pub stack: String,
}

/// What a read found, for the writes.
struct Found {
    environment: Environment,
    /// The object's current version (`None`: the bucket is not versioned).
    version: Option<String>,
}

/// The file as `stack.toml` wants it.
pub struct MwaaRequirements {
    pub id: RequirementsId,
    pub text: String,
    pub tags: BTreeMap<String, String>,
}

/// The stack's requirements file, if `[orchestrator]` lists any.
pub fn desired(stack: &Stack, tags: BTreeMap<String, String>) -> Option<MwaaRequirements> {
    let orchestrator = stack.orchestrator.as_ref()?;
    let environment = orchestrator.mwaa_environment.clone()?;
    if orchestrator.requirements.is_empty() {
        return None;
    }
    Some(MwaaRequirements {
        id: RequirementsId {
            environment,
            stack: stack.name.clone(),
        },
        text: text(&stack.name, &orchestrator.requirements),
        tags,
    })
}

/// What the environment installs, in the words of the `installed` field.
fn installed(environment: &Environment, key: &str, version: Option<&str>) -> String {
    match (
        &environment.requirements_path,
        &environment.requirements_version,
    ) {
        (None, _) => "no requirements file".to_owned(),
        (Some(path), Some(installed)) if path == key && Some(installed.as_str()) == version => {
            CURRENT.to_owned()
        }
        (Some(path), Some(installed)) if path == key => {
            format!("an earlier version of this file ({installed})")
        }
        (Some(path), None) if path == key => "this file, no version named".to_owned(),
        (Some(path), _) => format!("s3://{}/{path}, not the stack's", environment.bucket),
    }
}

impl RequirementsId {
    fn key(&self) -> String {
        key(&self.stack)
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let environment = environment::read(aws, &self.environment).await?;
        let key = self.key();
        let Some(object) = s3_object::read(aws, &environment.bucket, &key, |op, detail| {
            self.error(op, detail)
        })
        .await?
        else {
            return Ok(None);
        };
        let version = object.version;
        let mut fields = match claim(object.tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        fields.insert(field::SHA256, FieldValue::Text(object.sha256));
        fields.insert(
            field::INSTALLED,
            FieldValue::Text(installed(&environment, &key, version.as_deref())),
        );
        Ok(Some(Live::ours(
            fields,
            Handle::new(Found {
                environment,
                version,
            }),
        )))
    }
}

impl Owned for RequirementsId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.stack.clone(),
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
            // A delete marker: the version the environment installed stays.
            aws.s3
                .delete_object()
                .bucket(&found.environment.bucket)
                .key(self.key())
                .send()
                .await
                .map_err(|e| self.error("DeleteObject", describe(&e)))?;
            Ok(Deleted::Deleted)
        })
    }
}

impl MwaaRequirements {
    /// Refuses (before anything is written) an environment that installs a
    /// requirements file not the stack's.
    fn check_not_foreign(&self, environment: &Environment) -> Result<(), ResourceError> {
        match &environment.requirements_path {
            Some(path) if *path != self.id.key() => Err(ResourceError::Invalid {
                address: self.address(),
                detail: format!(
                    "MWAA environment {} installs s3://{}/{path}, which is not this stack's: the tool never points it elsewhere. Add these lines to that file yourself and remove [orchestrator] requirements from stack.toml:\n{}",
                    environment.name,
                    environment.bucket,
                    self.text
                        .lines()
                        .filter(|l| !l.starts_with('#'))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Writes the file with its tags in one request; its new version.
    async fn put(&self, aws: &Aws, bucket: &str) -> Result<String, ResourceError> {
        let written = aws
            .s3
            .put_object()
            .bucket(bucket)
            .key(self.id.key())
            .body(self.text.clone().into_bytes().into())
            .content_type("text/plain")
            .tagging(crate::resources::tags::query_string(&self.tags))
            .send()
            .await
            .map_err(|e| self.error("PutObject", describe(&e)))?;
        written.version_id().map(str::to_owned).ok_or_else(|| {
            self.error(
                "PutObject",
                format!("bucket {bucket} is not versioned: MWAA installs requirements only by object version (turn versioning on, as MWAA requires of its source bucket)"),
            )
        })
    }

    async fn retag(&self, aws: &Aws, bucket: &str) -> Result<(), ResourceError> {
        let tags = self
            .tags
            .iter()
            .map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error("PutObjectTagging", e.to_string()))?;
        let tagging = aws_sdk_s3::types::Tagging::builder()
            .set_tag_set(Some(tags))
            .build()
            .map_err(|e| self.error("PutObjectTagging", e.to_string()))?;
        aws.s3
            .put_object_tagging()
            .bucket(bucket)
            .key(self.id.key())
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| self.error("PutObjectTagging", describe(&e)))?;
        Ok(())
    }
}

impl Resource for MwaaRequirements {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(
            field::SHA256,
            FieldValue::Text(sha256_hex(self.text.as_bytes())),
        );
        fields.insert(field::INSTALLED, FieldValue::Text(CURRENT.to_owned()));
        fields
    }

    fn disruption(&self, changed: Option<&[FieldChange]>) -> Option<&'static str> {
        match changed {
            None => Some(DISRUPTION),
            Some(changes) => changes
                .iter()
                .any(|c| c.field != field::TAGS)
                .then_some(DISRUPTION),
        }
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let environment = environment::read_now(aws, &self.id.environment).await?;
            self.check_not_foreign(&environment)?;
            let version = self.put(aws, &environment.bucket).await?;
            update::install(self, aws, &version).await
        })
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let found = live
                .handle
                .get::<Found>()
                .ok_or_else(|| self.error("PutObject", "read found no object".into()))?;
            self.check_not_foreign(&found.environment)?;
            let mut version = found.version.clone();
            let mut install = false;
            for change in changes {
                match change.field {
                    field::TAGS => {}
                    field::SHA256 => {
                        version = Some(self.put(aws, &found.environment.bucket).await?);
                        install = true;
                    }
                    field::INSTALLED => install = true,
                    other => return Err(ResourceError::not_updatable(self.address(), other)),
                }
            }
            let content_written = changes.iter().any(|c| c.field == field::SHA256);
            if !content_written && changes.iter().any(|c| c.field == field::TAGS) {
                self.retag(aws, &found.environment.bucket).await?;
            }
            if install {
                let version = version.ok_or_else(|| {
                    self.error(
                        "UpdateEnvironment",
                        format!("bucket {} is not versioned: MWAA installs requirements only by object version", found.environment.bucket),
                    )
                })?;
                update::install(self, aws, &version).await?;
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
        let Some(name) = environment_name(stack) else {
            return Ok(Vec::new());
        };
        let id = RequirementsId {
            environment: name.to_owned(),
            stack: stack.name.clone(),
        };
        // The one key the stack ever writes: its read says whether it is there.
        Ok(match id.read_live(aws).await? {
            Some(_) => vec![Box::new(id) as Box<dyn Owned>],
            None => Vec::new(),
        })
    })
}

fn environment_name(stack: &Stack) -> Option<&str> {
    stack
        .orchestrator
        .as_ref()
        .and_then(|o| o.mwaa_environment.as_deref())
}

/// The environment, for `UpdateEnvironment`: only while the stack lists
/// requirements (the file of an earlier list is only read and deleted).
fn updated_environment_arns(stack: &Stack, account: &str) -> Vec<String> {
    let lists = stack
        .orchestrator
        .as_ref()
        .is_some_and(|o| !o.requirements.is_empty());
    if lists {
        super::dag_objects::environment_arns(stack, account)
    } else {
        Vec::new()
    }
}

/// The stack's file in any bucket (known only from `GetEnvironment`).
fn object_arns(stack: &Stack, _account: &str) -> Vec<String> {
    environment_name(stack)
        .map(|_| format!("arn:aws:s3:::*/{}", key(&stack.name)))
        .into_iter()
        .collect()
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[
        Grant {
            sid: "MwaaRequirementsInstall",
            resources: updated_environment_arns,
            operations: &[write(
                "MWAA",
                "UpdateEnvironment",
                &["airflow:UpdateEnvironment"],
            )],
        },
        Grant {
            sid: "MwaaRequirementsFile",
            resources: object_arns,
            operations: &[
                read("S3", "GetObject", &["s3:GetObject", "s3:GetObjectVersion"]),
                read("S3", "GetObjectTagging", &["s3:GetObjectTagging"]),
                write("S3", "PutObject", &["s3:PutObject", "s3:PutObjectTagging"]),
                write("S3", "PutObjectTagging", &["s3:PutObjectTagging"]),
                write("S3", "DeleteObject", &["s3:DeleteObject"]),
            ],
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(path: Option<&str>, version: Option<&str>) -> Environment {
        Environment {
            name: "env".into(),
            bucket: "b".into(),
            dag_path: "dags".into(),
            airflow_version: "2.11.0".into(),
            execution_role_arn: String::new(),
            status: "AVAILABLE".into(),
            requirements_path: path.map(str::to_owned),
            requirements_version: version.map(str::to_owned),
            last_update_status: None,
            last_update_error: None,
        }
    }

    #[test]
    fn installed_says_what_the_environment_installs() {
        let key = key("demo");
        let says = |path, version| installed(&environment(path, version), &key, Some("v2"));
        assert_eq!(says(Some(key.as_str()), Some("v2")), CURRENT);
        assert_eq!(
            says(Some(key.as_str()), Some("v1")),
            "an earlier version of this file (v1)"
        );
        assert_eq!(says(None, None), "no requirements file");
        assert_eq!(
            says(Some("requirements.txt"), Some("v9")),
            "s3://b/requirements.txt, not the stack's"
        );
    }

    #[test]
    fn the_file_names_where_it_comes_from_then_one_line_each() {
        let text = text("demo", &["tomli".into(), "pkg==1.0".into()]);
        assert!(text.starts_with("# Written by showcase-deploy for stack demo"));
        assert!(text.ends_with("\ntomli\npkg==1.0\n"), "{text}");
    }
}
