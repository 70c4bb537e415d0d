//! The cluster by its identity: reading it (only what `stack.toml` decides
//! and what would widen access), waiting for it, deleting it after a final
//! snapshot.

use super::*;

impl ClusterId {
    async fn describe(
        &self,
        aws: &Aws,
    ) -> Result<Option<aws_sdk_redshift::types::Cluster>, ResourceError> {
        match aws
            .redshift
            .describe_clusters()
            .cluster_identifier(&self.name)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .clusters()
                .iter()
                .find(|c| c.cluster_identifier() == Some(self.name.as_str()))
                .cloned()),
            Err(e) if error_code(&e) == Some("ClusterNotFound") => Ok(None),
            Err(e) => Err(self.error("DescribeClusters", describe(&e))),
        }
    }

    pub(super) async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let Some(cluster) = self.describe(aws).await? else {
            return Ok(None);
        };
        let status = cluster.cluster_status().unwrap_or_default().to_owned();
        if status == "deleting" {
            // On its way out: for the stack it is gone (a rerun of down, say).
            return Ok(None);
        }
        let tags: BTreeMap<String, String> = cluster
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let text = |v: Option<&str>| FieldValue::Text(v.unwrap_or(NONE).to_owned());
        fields.insert(field::NODE_TYPE, text(cluster.node_type()));
        fields.insert(
            field::NODES,
            FieldValue::Number(i64::from(cluster.number_of_nodes().unwrap_or(1))),
        );
        fields.insert(
            field::ENCRYPTED,
            FieldValue::Bool(cluster.encrypted().unwrap_or(false)),
        );
        fields.insert(
            field::PUBLICLY_ACCESSIBLE,
            FieldValue::Bool(cluster.publicly_accessible().unwrap_or(false)),
        );
        // A role being removed still counts until it is gone.
        let roles = cluster
            .iam_roles()
            .iter()
            .filter_map(|r| r.iam_role_arn())
            .map(str::to_owned)
            .collect();
        fields.insert(field::IAM_ROLES, sorted(roles));
        fields.insert(
            field::SUBNET_GROUP,
            text(cluster.cluster_subnet_group_name()),
        );
        let security_groups = cluster
            .vpc_security_groups()
            .iter()
            .filter_map(|g| g.vpc_security_group_id())
            .map(str::to_owned)
            .collect();
        fields.insert(field::SECURITY_GROUPS, sorted(security_groups));
        if let Some(port) = cluster.endpoint().and_then(|e| e.port()) {
            fields.insert(field::PORT, FieldValue::Number(i64::from(port)));
        }
        fields.insert(field::DATABASE, text(cluster.db_name()));
        fields.insert(field::ADMIN_USER, text(cluster.master_username()));
        fields.insert(
            field::SNAPSHOT_RETENTION_DAYS,
            FieldValue::Number(i64::from(
                cluster.automated_snapshot_retention_period().unwrap_or(0),
            )),
        );
        fields.insert(
            field::MAINTENANCE_WINDOW,
            text(cluster.preferred_maintenance_window()),
        );
        Ok(Some(Live::ours(fields, Handle::new(Found { status }))))
    }

    pub(super) async fn wait_until_available(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.redshift
            .wait_until_cluster_available()
            .cluster_identifier(&self.name)
            .wait(AVAILABLE_WITHIN)
            .await
            .map_err(|e| {
                self.error(
                    "DescribeClusters (waiting for available)",
                    describe_wait(&e),
                )
            })?;
        Ok(())
    }
}

/// A waiter's error with its causes (it is not an SDK error of one call).
fn describe_wait(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl Owned for ClusterId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn holds_data(&self) -> bool {
        true
    }

    fn depends_on(&self) -> Vec<Address> {
        self.depends.clone()
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            if !delete_data {
                return Ok(Deleted::KeptData);
            }
            // AWS refuses a delete that names neither a final snapshot nor
            // skipping one: the data is kept in a snapshot the user can
            // restore, unless `--skip-final-snapshot`. Both are sent
            // explicitly (moto skips the snapshot unless told otherwise).
            let skip = crate::resources::final_snapshot::skipped();
            let snapshot = (!skip).then(|| {
                format!(
                    "{}-final-{}",
                    self.name,
                    crate::resources::final_snapshot::utc_stamp()
                )
            });
            match aws
                .redshift
                .delete_cluster()
                .cluster_identifier(&self.name)
                .skip_final_cluster_snapshot(skip)
                .set_final_cluster_snapshot_identifier(snapshot)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some("ClusterNotFound") => Ok(Deleted::Deleted),
                Err(e) => Err(self.error("DeleteCluster", describe(&e))),
            }
        })
    }
}
