//! `dag --out DIR`: the stack's Airflow DAG and its SQL, rendered from the
//! task graph with the names `run` resolves (extractor, warehouse, who the SQL
//! runs as, lake, COPY role).

use std::path::Path;

use showcase_deploy::aws::Aws;
use showcase_deploy::aws_run;
use showcase_deploy::config::{self, Vars};
use showcase_deploy::dag::{self, DagFile, DagInput};

use super::StackArgs;

pub fn write_dag(stack_args: &StackArgs, out: &Path, schema: &str) -> Result<(), String> {
    let vars = Vars::from_args_and_env(&stack_args.vars)?;
    let stack = config::load(&stack_args.stack, &vars).map_err(|errors| errors.to_string())?;
    showcase_deploy::pipeline::check_schema_name(schema).map_err(|e| format!("--schema: {e}"))?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let target = runtime.block_on(async {
        let aws = Aws::connect(&stack.region).await;
        aws_run::resolve(&aws, &stack, schema)
            .await
            .map_err(|e| e.to_string())
    })?;
    let files = dag::render(&DagInput {
        stack_name: &stack.name,
        region: &stack.region,
        target: &target,
        schedule: dag::DagSchedule::of(&stack),
    })
    .map_err(|e| e.to_string())?;
    write(out, &dag::dag_id(&stack.name), &files)?;
    println!(
        "{} files for DAG {} in {}",
        files.len(),
        dag::dag_id(&stack.name),
        out.display()
    );
    Ok(())
}

/// Replaces the DAG's own folder (a file no longer rendered goes) and writes
/// every file; nothing else in `out` is touched.
fn write(out: &Path, id: &str, files: &[DagFile]) -> Result<(), String> {
    let own = out.join(id);
    if own.exists() {
        std::fs::remove_dir_all(&own)
            .map_err(|e| format!("cannot remove {}: {e}", own.display()))?;
    }
    for file in files {
        let path = out.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &file.text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
