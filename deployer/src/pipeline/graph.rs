//! The daily task graph, as in the seed's DAG: schema setup → three extracts in
//! parallel → per entity stage load → quality → hard check → dim_date →
//! dim_products → dim_customers → fact_sales → fact_sales_aggregate.

use showcase_extractor::Entity;

use super::sql::{SqlFile, files};

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Portable SQL, run in one transaction.
    Sql(SqlFile),
    /// The extractor function for one entity.
    Extract(Entity),
    /// Loads the day's lake file into staging: Redshift runs `load` (COPY from
    /// S3); the local runner streams the file with `COPY … FROM STDIN`.
    LoadStage { entity: Entity, redshift: SqlFile },
    /// One row of booleans that must all be true, else the run stops
    /// (Airflow's SQLCheckOperator semantics).
    Check(SqlFile),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    pub id: &'static str,
    pub step: Step,
    pub upstream: &'static [&'static str],
}

const fn task(id: &'static str, step: Step, upstream: &'static [&'static str]) -> Task {
    Task { id, step, upstream }
}

/// Every task of one day's run.
pub const TASKS: [Task; 18] = [
    task("setup_schema", Step::Sql(files::SCHEMA), &[]),
    task(
        "extract_sales",
        Step::Extract(Entity::Sales),
        &["setup_schema"],
    ),
    task(
        "extract_products",
        Step::Extract(Entity::Products),
        &["setup_schema"],
    ),
    task(
        "extract_customers",
        Step::Extract(Entity::Customers),
        &["setup_schema"],
    ),
    task(
        "load_stage_sales",
        Step::LoadStage {
            entity: Entity::Sales,
            redshift: files::LOAD_SALES,
        },
        &["extract_sales"],
    ),
    task(
        "load_stage_products",
        Step::LoadStage {
            entity: Entity::Products,
            redshift: files::LOAD_PRODUCTS,
        },
        &["extract_products"],
    ),
    task(
        "load_stage_customers",
        Step::LoadStage {
            entity: Entity::Customers,
            redshift: files::LOAD_CUSTOMERS,
        },
        &["extract_customers"],
    ),
    task(
        "quality_sales",
        Step::Sql(files::QUALITY_SALES),
        &["load_stage_sales"],
    ),
    task(
        "quality_products",
        Step::Sql(files::QUALITY_PRODUCTS),
        &["load_stage_products"],
    ),
    task(
        "quality_customers",
        Step::Sql(files::QUALITY_CUSTOMERS),
        &["load_stage_customers"],
    ),
    task(
        "check_sales",
        Step::Check(files::CHECK_SALES),
        &["quality_sales"],
    ),
    task(
        "check_products",
        Step::Check(files::CHECK_PRODUCTS),
        &["quality_products"],
    ),
    task(
        "check_customers",
        Step::Check(files::CHECK_CUSTOMERS),
        &["quality_customers"],
    ),
    task(
        "dim_date",
        Step::Sql(files::DIM_DATE),
        &["check_sales", "check_products", "check_customers"],
    ),
    task(
        "dim_products",
        Step::Sql(files::DIM_PRODUCTS),
        &["dim_date"],
    ),
    task(
        "dim_customers",
        Step::Sql(files::DIM_CUSTOMERS),
        &["dim_products"],
    ),
    task(
        "fact_sales",
        Step::Sql(files::FACT_SALES),
        &["dim_customers"],
    ),
    task(
        "fact_sales_aggregate",
        Step::Sql(files::FACT_SALES_AGGREGATE),
        &["fact_sales"],
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the task graph is broken: {0}")]
pub struct GraphError(String);

/// Tasks in layers: every task's upstream tasks are in earlier layers, and the
/// tasks of one layer are independent of each other (they may run in parallel).
pub fn execution_layers() -> Result<Vec<Vec<&'static Task>>, GraphError> {
    let ids: Vec<&'static str> = TASKS.iter().map(|t| t.id).collect();
    let edges: Vec<(&'static str, &'static str)> = TASKS
        .iter()
        .flat_map(|t| t.upstream.iter().map(move |up| (*up, t.id)))
        .collect();
    let layered = crate::layers::layers(&ids, &edges).map_err(|e| GraphError(e.to_string()))?;
    Ok(layered
        .into_iter()
        .map(|layer| {
            layer
                .into_iter()
                .filter_map(|id| TASKS.iter().find(|t| t.id == id))
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(layers: &[Vec<&Task>], id: &str) -> usize {
        layers
            .iter()
            .position(|layer| layer.iter().any(|t| t.id == id))
            .unwrap()
    }

    #[test]
    fn the_graph_orders_tasks_as_the_seed_dag() {
        let layers = execution_layers().unwrap();
        assert_eq!(
            layers[0].iter().map(|t| t.id).collect::<Vec<_>>(),
            ["setup_schema"]
        );
        assert_eq!(
            layers[1].iter().map(|t| t.id).collect::<Vec<_>>(),
            ["extract_sales", "extract_products", "extract_customers"]
        );
        for entity in ["sales", "products", "customers"] {
            assert!(position(&layers, &format!("check_{entity}")) < position(&layers, "dim_date"));
            assert!(
                position(&layers, &format!("quality_{entity}"))
                    < position(&layers, &format!("check_{entity}"))
            );
        }
        let chain = [
            "dim_date",
            "dim_products",
            "dim_customers",
            "fact_sales",
            "fact_sales_aggregate",
        ];
        for pair in chain.windows(2) {
            assert!(position(&layers, pair[0]) < position(&layers, pair[1]));
        }
        assert_eq!(layers.iter().map(Vec::len).sum::<usize>(), 18);
    }

    #[test]
    fn postgres_only_files_are_no_task_of_the_graph() {
        for task in &TASKS {
            let file = match task.step {
                Step::Sql(file) | Step::Check(file) => file,
                Step::LoadStage { redshift, .. } => redshift,
                Step::Extract(_) => continue,
            };
            assert!(!file.path.starts_with("postgres/"), "{}", task.id);
        }
        assert!(files::ALL.iter().all(|f| !f.path.starts_with("postgres/")));
    }
}
