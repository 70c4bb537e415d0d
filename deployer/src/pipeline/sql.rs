//! The warehouse SQL (the files under `sql/`, compiled in) and its templating.
//!
//! The files use Airflow's template syntax so the MWAA DAG can run them as they
//! are; here they are rendered by plain substitution of a closed set of
//! placeholders, and anything else in `{{ }}` is an error rather than a silent
//! leftover.

use showcase_dataset::Day;

/// One SQL file of `sql/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlFile {
    /// Path relative to `sql/`.
    pub path: &'static str,
    pub text: &'static str,
}

macro_rules! sql_file {
    ($path:literal) => {
        SqlFile {
            path: $path,
            text: include_str!(concat!("../../../sql/", $path)),
        }
    };
}

pub mod files {
    use super::SqlFile;

    pub const SCHEMA: SqlFile = sql_file!("setup/schema.sql");
    pub const LOAD_SALES: SqlFile = sql_file!("redshift/load_stage_sales.sql");
    pub const LOAD_PRODUCTS: SqlFile = sql_file!("redshift/load_stage_products.sql");
    pub const LOAD_CUSTOMERS: SqlFile = sql_file!("redshift/load_stage_customers.sql");
    pub const TUNE: SqlFile = sql_file!("redshift/tune.sql");
    pub const QUALITY_SALES: SqlFile = sql_file!("quality/sales.sql");
    pub const QUALITY_PRODUCTS: SqlFile = sql_file!("quality/products.sql");
    pub const QUALITY_CUSTOMERS: SqlFile = sql_file!("quality/customers.sql");
    pub const CHECK_SALES: SqlFile = sql_file!("checks/sales.sql");
    pub const CHECK_PRODUCTS: SqlFile = sql_file!("checks/products.sql");
    pub const CHECK_CUSTOMERS: SqlFile = sql_file!("checks/customers.sql");
    pub const DIM_DATE: SqlFile = sql_file!("transform/dim_date.sql");
    pub const DIM_PRODUCTS: SqlFile = sql_file!("transform/dim_products.sql");
    pub const DIM_CUSTOMERS: SqlFile = sql_file!("transform/dim_customers.sql");
    pub const FACT_SALES: SqlFile = sql_file!("transform/fact_sales.sql");
    pub const FACT_SALES_AGGREGATE: SqlFile = sql_file!("transform/fact_sales_aggregate.sql");

    /// PostgreSQL only (indexes): the local runner runs it after
    /// `setup_schema`. Not a task of the graph, not in [`ALL`]: never sent
    /// to Redshift.
    pub const POSTGRES_TUNE: SqlFile = sql_file!("postgres/tune.sql");

    /// Every file the pipeline runs on Redshift, for checks that must cover them all.
    pub const ALL: [SqlFile; 16] = [
        SCHEMA,
        LOAD_SALES,
        LOAD_PRODUCTS,
        LOAD_CUSTOMERS,
        TUNE,
        QUALITY_SALES,
        QUALITY_PRODUCTS,
        QUALITY_CUSTOMERS,
        CHECK_SALES,
        CHECK_PRODUCTS,
        CHECK_CUSTOMERS,
        DIM_DATE,
        DIM_PRODUCTS,
        DIM_CUSTOMERS,
        FACT_SALES,
        FACT_SALES_AGGREGATE,
    ];
}

/// The values of the placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlParams {
    pub ds: Day,
    pub schema: String,
    /// Only the Redshift load files use the lake and role.
    pub lake_bucket: String,
    pub lake_prefix: String,
    pub copy_role_arn: String,
}

impl SqlParams {
    pub fn local(ds: Day, schema: &str) -> SqlParams {
        SqlParams {
            ds,
            schema: schema.to_owned(),
            lake_bucket: String::new(),
            lake_prefix: String::new(),
            copy_role_arn: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "sql/{file}: unknown placeholder {placeholder} (known: ds, ds_nodash, params.schema, params.lake_bucket, params.lake_prefix, params.copy_role_arn)"
    )]
    UnknownPlaceholder {
        file: &'static str,
        placeholder: String,
    },
    #[error(
        "schema name '{0}' is not a plain identifier (lowercase letters, digits and _, starting with a letter or _, at most 63 characters)"
    )]
    BadSchema(String),
}

/// Validates a schema name: it is pasted into SQL, so only plain identifiers.
pub fn check_schema_name(schema: &str) -> Result<(), RenderError> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    if first_ok
        && schema.len() <= 63
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        Ok(())
    } else {
        Err(RenderError::BadSchema(schema.to_owned()))
    }
}

pub fn render(file: &SqlFile, params: &SqlParams) -> Result<String, RenderError> {
    check_schema_name(&params.schema)?;
    let rendered = file
        .text
        .replace("{{ ds }}", &params.ds.to_string())
        .replace("{{ ds_nodash }}", &params.ds.compact())
        .replace("{{ params.schema }}", &params.schema)
        .replace("{{ params.lake_bucket }}", &params.lake_bucket)
        .replace("{{ params.lake_prefix }}", &params.lake_prefix)
        .replace("{{ params.copy_role_arn }}", &params.copy_role_arn);
    if let Some(start) = rendered.find("{{") {
        let end = rendered[start..]
            .find("}}")
            .map_or(rendered.len(), |e| start + e + 2);
        return Err(RenderError::UnknownPlaceholder {
            file: file.path,
            placeholder: rendered[start..end].to_owned(),
        });
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_renders_with_no_placeholder_left() {
        let params = SqlParams {
            ds: "2024-01-05".parse().unwrap(),
            schema: "analytics".into(),
            lake_bucket: "lake".into(),
            lake_prefix: "raw/".into(),
            copy_role_arn: "arn:aws:iam::123456789012:role/copy".into(),
        };
        for file in files::ALL.into_iter().chain([files::POSTGRES_TUNE]) {
            let sql = render(&file, &params).unwrap();
            assert!(!sql.contains("{{"), "{}", file.path);
            assert!(
                !sql.contains("showcase_data_pipeline"),
                "{} hard-codes the schema",
                file.path
            );
        }
        let load = render(&files::LOAD_SALES, &params).unwrap();
        assert!(
            load.contains("s3://lake/raw/2024-01-05/sales.parquet"),
            "{load}"
        );
        assert!(
            load.contains("IAM_ROLE 'arn:aws:iam::123456789012:role/copy'"),
            "{load}"
        );
        assert!(load.contains("FORMAT AS PARQUET"), "{load}");
    }

    #[test]
    fn unknown_placeholders_and_unsafe_schemas_are_refused() {
        let file = SqlFile {
            path: "x.sql",
            text: "SELECT '{{ macros.ds_add(ds, 1) }}'",
        };
        let params = SqlParams::local("2024-01-05".parse().unwrap(), "s");
        assert!(matches!(
            render(&file, &params),
            Err(RenderError::UnknownPlaceholder { .. })
        ));
        for bad in ["", "Public", "a;drop", "1abc", "x y"] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }
}
