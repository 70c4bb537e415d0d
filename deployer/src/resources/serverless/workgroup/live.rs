//! The workgroup by its identity: reading it (only what `stack.toml`
//! decides and what would widen access), waiting for it, deleting it.

use super::*;

impl WorkgroupId {
    async fn get(
        &self,
        aws: &Aws,
    ) -> Result<Option<aws_sdk_redshiftserverless::types::Workgroup>, ResourceError> {
        match aws
            .redshiftserverless
            .get_workgroup()
            .workgroup_name(&self.name)
            .send()
            .await
        {
            Ok(out) => Ok(out.workgroup().cloned()),
            Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(None),
            Err(e) => Err(self.error("GetWorkgroup", describe(&e))),
        }
    }

    async fn status(&self, aws: &Aws) -> Result<Option<String>, ResourceError> {
        Ok(self.get(aws).await?.map(|w| {
            w.status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        }))
    }

    pub(super) async fn wait_until_available(&self, aws: &Aws) -> Result<(), ResourceError> {
        wait_until_available(
            "GetWorkgroup (waiting for AVAILABLE)",
            || self.status(aws),
            |op, detail| self.error(op, detail),
        )
        .await
    }

    pub(super) async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let Some(workgroup) = self.get(aws).await? else {
            return Ok(None);
        };
        let status = workgroup
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if status == "DELETING" {
            return Ok(None);
        }
        let arn = workgroup.workgroup_arn().unwrap_or_default().to_owned();
        let tags = read_tags(aws, &arn)
            .await
            .map_err(|e| self.error("ListTagsForResource", e))?;
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let number = |v: Option<i32>| match v {
            Some(n) => FieldValue::Number(i64::from(n)),
            None => FieldValue::Text(AWS_CHOICE.to_owned()),
        };
        fields.insert(field::BASE_CAPACITY, number(workgroup.base_capacity()));
        fields.insert(field::MAX_CAPACITY, number(workgroup.max_capacity()));
        fields.insert(
            field::PUBLICLY_ACCESSIBLE,
            FieldValue::Bool(workgroup.publicly_accessible().unwrap_or(false)),
        );
        fields.insert(field::SUBNETS, sorted(workgroup.subnet_ids().to_vec()));
        fields.insert(
            field::SECURITY_GROUPS,
            sorted(workgroup.security_group_ids().to_vec()),
        );
        fields.insert(field::STATUS, FieldValue::Text(status.clone()));
        fields.insert(field::PORT, number(workgroup.port()));
        fields.insert(
            field::NAMESPACE,
            FieldValue::Text(workgroup.namespace_name().unwrap_or_default().to_owned()),
        );
        Ok(Some(Live::ours(fields, Handle::new(Found { arn, status }))))
    }
}

impl Owned for WorkgroupId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    /// The namespace's data is queried through it: kept with the namespace.
    fn holds_data(&self) -> bool {
        true
    }

    fn depends_on(&self) -> Vec<Address> {
        self.depends.clone()
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    /// Waits until it is gone: AWS refuses to delete its namespace before.
    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            if !delete_data {
                return Ok(Deleted::KeptData);
            }
            if live
                .handle
                .get::<Found>()
                .is_some_and(|found| found.status != AVAILABLE)
            {
                self.wait_until_available(aws).await?;
            }
            match aws
                .redshiftserverless
                .delete_workgroup()
                .workgroup_name(&self.name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some(NOT_FOUND) => return Ok(Deleted::Deleted),
                Err(e) => return Err(self.error("DeleteWorkgroup", describe(&e))),
            }
            wait_until_gone(
                "GetWorkgroup (waiting for it to be deleted)",
                || self.status(aws),
                |op, detail| self.error(op, detail),
            )
            .await?;
            Ok(Deleted::Deleted)
        })
    }
}
