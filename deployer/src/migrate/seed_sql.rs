//! What the seed's DAG folder says about its warehouse: the cluster its
//! `redshift_config.txt` names, and the COPY role ARNs its SQL hard-codes
//! (`COPY … IAM_ROLE 'arn:aws:iam::…:role/…'`). The seed made that cluster
//! by hand, outside its SAM stack: ours references it with
//! `[warehouse] kind = "existing"` and brings its own COPY role.

use std::path::{Path, PathBuf};

use crate::config::{ExistingWarehouse, Stack, WarehouseKind};

/// A role ARN hard-coded in a file, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRole {
    pub arn: String,
    pub file: PathBuf,
    pub line: usize,
}

/// What the scan found (empty without `--seed-dags`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedWarehouse {
    /// Where the scan looked, if it did.
    pub dags: Option<PathBuf>,
    pub cluster: Option<String>,
    pub copy_roles: Vec<CopyRole>,
}

/// At most this many files are read (a DAG folder, not a disk).
const FILES_MAX: usize = 2_000;

/// Scans the seed's DAG folder: `*.sql` and `*.py` for `IAM_ROLE '…'`,
/// `redshift_config.txt` for `redshift_cluster = …`.
pub fn scan(dags: &Path) -> Result<SeedWarehouse, String> {
    let mut found = SeedWarehouse {
        dags: Some(dags.to_owned()),
        ..SeedWarehouse::default()
    };
    let mut pending = vec![dags.to_owned()];
    let mut files = 0;
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the seed's DAG folder {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            files += 1;
            if files > FILES_MAX {
                return Err(format!(
                    "{} holds more than {FILES_MAX} files: point --seed-dags at the DAG folder",
                    dags.display()
                ));
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let wanted =
                name == "redshift_config.txt" || name.ends_with(".sql") || name.ends_with(".py");
            let Some(text) = wanted
                .then(|| std::fs::read_to_string(&path).ok())
                .flatten()
            else {
                continue;
            };
            if name == "redshift_config.txt" {
                found.cluster = found
                    .cluster
                    .or_else(|| config_value(&text, "redshift_cluster"));
            } else {
                let relative = path.strip_prefix(dags).unwrap_or(&path).to_owned();
                found
                    .copy_roles
                    .extend(copy_roles(&text).into_iter().map(|(line, arn)| CopyRole {
                        arn,
                        file: relative.clone(),
                        line,
                    }));
            }
        }
    }
    found
        .copy_roles
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(found)
}

/// `key = value` (or `key: value`) in an INI file, as Python's configparser reads it.
fn config_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=').or_else(|| line.split_once(':'))?;
        (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// `(line, arn)` of every `IAM_ROLE 'arn:…'` (any case, either quote).
fn copy_roles(text: &str) -> Vec<(usize, String)> {
    let mut roles = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let upper = line.to_ascii_uppercase();
        let mut from = 0;
        while let Some(at) = upper[from..].find("IAM_ROLE") {
            let rest = line[from + at + "IAM_ROLE".len()..].trim_start();
            let quoted = rest
                .strip_prefix('\'')
                .map(|r| (r, '\''))
                .or_else(|| rest.strip_prefix('"').map(|r| (r, '"')));
            if let Some((inner, quote)) = quoted
                && let Some(end) = inner.find(quote)
                && inner[..end].starts_with("arn:")
            {
                roles.push((n + 1, inner[..end].to_owned()));
            }
            from += at + "IAM_ROLE".len();
        }
    }
    roles
}

impl SeedWarehouse {
    /// The plan's warehouse paragraph.
    pub fn hint(&self, stack: &Stack) -> String {
        let referenced = stack.warehouse.as_ref().map(|w| &w.kind);
        let mut out = String::from(
            "\n  Warehouse (the seed's Redshift cluster was made by hand, outside the stack; migrate leaves it alone):\n",
        );
        for role in &self.copy_roles {
            out.push_str(&format!(
                "    the seed's SQL COPYs with a hard-coded role {} ({}:{}); ours uses its own COPY role {}, which may only read the lake\n",
                role.arn,
                role.file.display(),
                role.line,
                crate::resources::copy_role::name(stack),
            ));
        }
        let cluster = self.cluster.as_deref();
        match (referenced, cluster) {
            (Some(WarehouseKind::Existing(ExistingWarehouse::Cluster(id))), Some(seen))
                if id == seen =>
            {
                out.push_str(&format!(
                    "    stack.toml already references cluster {id} ([warehouse] kind = \"existing\")\n"
                ));
            }
            (Some(WarehouseKind::Existing(_)), None) => {
                out.push_str("    stack.toml references an existing warehouse\n");
            }
            (_, Some(seen)) => out.push_str(&format!(
                "    the seed's DAG runs on cluster {seen}: keep it with [warehouse] kind = \"existing\", cluster = \"{seen}\" in stack.toml\n"
            )),
            (_, None) if !self.copy_roles.is_empty() => out.push_str(
                "    COPY statements point at a cluster: reference it with [warehouse] kind = \"existing\", cluster = \"ID\" in stack.toml\n",
            ),
            (_, None) => out.push_str(&format!(
                "    reference it with [warehouse] kind = \"existing\", cluster = \"ID\" in stack.toml{}\n",
                if self.dags.is_none() {
                    " (--seed-dags DIR: the seed's DAG folder, to name the cluster and the COPY role its SQL hard-codes)"
                } else {
                    ""
                }
            )),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cluster_and_every_hard_coded_copy_role_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sql")).unwrap();
        std::fs::write(
            dir.path().join("redshift_config.txt"),
            "[redshift]\nredshift_cluster = seed-cluster\nredshift_database = dev\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sql/s3_to_stage_sales.sql"),
            "TRUNCATE stage_sales;\ncopy stage_sales from 's3://showcase-data-pipeline/{{ ds }}/sales.parquet'\n  iam_role 'arn:aws:iam::123456789012:role/RedshiftS3' FORMAT AS PARQUET;\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("notes.txt"),
            "IAM_ROLE 'arn:aws:iam::1:role/x'",
        )
        .unwrap();
        let found = scan(dir.path()).unwrap();
        assert_eq!(found.cluster.as_deref(), Some("seed-cluster"));
        assert_eq!(
            found.copy_roles,
            [CopyRole {
                arn: "arn:aws:iam::123456789012:role/RedshiftS3".into(),
                file: PathBuf::from("sql/s3_to_stage_sales.sql"),
                line: 3,
            }]
        );
        let stack = crate::config::parse(
            "[stack]\nname = \"demo\"\nregion = \"us-east-1\"\n[lake]\nbucket = \"b-b-b\"\n",
            Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap();
        let hint = found.hint(&stack);
        assert!(
            hint.contains("[warehouse] kind = \"existing\", cluster = \"seed-cluster\""),
            "{hint}"
        );
        assert!(hint.contains("sql/s3_to_stage_sales.sql:3"), "{hint}");
    }
}
