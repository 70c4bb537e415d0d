//! What runs on Redshift for a day, task by task: the task graph's SQL files
//! rendered with the stack's real names and split into the statements one
//! `BatchExecuteStatement` takes. The executor runs exactly this, and
//! `showcase-deploy sql` prints it.

use showcase_dataset::Day;

use crate::pipeline::{RenderError, SqlFile, SqlParams, Step, Task, execution_layers, files};

use super::AwsRunError;

/// The most statements one `BatchExecuteStatement` takes.
pub const BATCH_LIMIT: usize = 40;

/// The names the SQL is rendered with (besides the date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlNames {
    pub schema: String,
    pub lake_bucket: String,
    /// Empty or ending in `/`.
    pub lake_prefix: String,
    pub copy_role_arn: String,
}

impl SqlNames {
    pub fn params(&self, day: Day) -> SqlParams {
        SqlParams {
            ds: day,
            schema: self.schema.clone(),
            lake_bucket: self.lake_bucket.clone(),
            lake_prefix: self.lake_prefix.clone(),
            copy_role_arn: self.copy_role_arn.clone(),
        }
    }
}

/// The SQL file a task runs on Redshift, if it runs one (extracts do not).
pub fn task_file(task: &Task) -> Option<SqlFile> {
    match task.step {
        Step::Sql(file) | Step::Check(file) => Some(file),
        Step::LoadStage { redshift, .. } => Some(redshift),
        Step::Extract(_) => None,
    }
}

/// A file's statements, split on the `;`s that end statements: not those
/// inside `--` or `/* */` comments, quoted strings or quoted identifiers.
/// Pieces that are only comments and whitespace are not statements.
pub fn split(sql: &str) -> Vec<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        Code,
        LineComment,
        BlockComment,
        Quoted(char),
    }
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut has_code = false;
    let mut state = In::Code;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            In::Code => match c {
                ';' => {
                    if has_code {
                        statements.push(current.trim().to_owned());
                    }
                    current.clear();
                    has_code = false;
                    continue;
                }
                '-' if chars.peek() == Some(&'-') => state = In::LineComment,
                '/' if chars.peek() == Some(&'*') => state = In::BlockComment,
                '\'' | '"' => {
                    state = In::Quoted(c);
                    has_code = true;
                }
                c if !c.is_whitespace() => has_code = true,
                _ => {}
            },
            In::LineComment if c == '\n' => state = In::Code,
            In::BlockComment if c == '*' && chars.peek() == Some(&'/') => {
                current.push(c);
                current.extend(chars.next());
                state = In::Code;
                continue;
            }
            // A doubled quote inside a quoted string is the quote itself.
            In::Quoted(quote) if c == quote => {
                if chars.peek() == Some(&quote) {
                    current.push(c);
                    current.extend(chars.next());
                    continue;
                }
                state = In::Code;
            }
            _ => {}
        }
        current.push(c);
    }
    if has_code {
        statements.push(current.trim().to_owned());
    }
    statements
}

/// A file rendered for `day` and split into its statements.
pub fn rendered(file: &SqlFile, names: &SqlNames, day: Day) -> Result<Vec<String>, RenderError> {
    Ok(split(&crate::pipeline::render(file, &names.params(day))?))
}

/// One-time physical design (`sql/redshift/tune.sql`): one statement at a
/// time, as Redshift runs `ALTER … DISTSTYLE/SORTKEY` outside transactions.
pub fn tune(names: &SqlNames, day: Day) -> Result<Vec<String>, RenderError> {
    rendered(&files::TUNE, names, day)
}

/// Whether the warehouse schema exists yet (then `tune.sql` has run).
pub fn schema_exists_query(schema: &str) -> String {
    format!("SELECT COUNT(*) FROM pg_namespace WHERE nspname = '{schema}'")
}

/// A task and the statements it runs on Redshift (`None` for the extracts,
/// which invoke the extractor function).
pub type TaskStatements = (&'static Task, Option<Vec<String>>);

/// Every task of the day in graph order with what it runs on Redshift.
pub fn day_plan(names: &SqlNames, day: Day) -> Result<Vec<TaskStatements>, AwsRunError> {
    let mut plan = Vec::new();
    for layer in execution_layers()? {
        for task in layer {
            let statements = match task_file(task) {
                Some(file) => {
                    Some(
                        rendered(&file, names, day).map_err(|source| AwsRunError::Task {
                            day,
                            task: task.id,
                            source: source.into(),
                        })?,
                    )
                }
                None => None,
            };
            plan.push((task, statements));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> SqlNames {
        SqlNames {
            schema: "analytics".into(),
            lake_bucket: "acme-lake".into(),
            lake_prefix: "raw/".into(),
            copy_role_arn: "arn:aws:iam::123456789012:role/demo-warehouse-copy-role".into(),
        }
    }

    #[test]
    fn statements_end_at_semicolons_outside_comments_and_quotes() {
        assert_eq!(
            split("-- head\nDELETE FROM a;\n\n-- between\nSELECT 1;\n-- trailing\n"),
            ["-- head\nDELETE FROM a", "-- between\nSELECT 1"]
        );
        assert_eq!(
            split(
                "-- a comment; with a semicolon\nSELECT 'x;''y' AS \"a;b\" /* c; d */ FROM t;\n/* only; a comment */"
            ),
            ["-- a comment; with a semicolon\nSELECT 'x;''y' AS \"a;b\" /* c; d */ FROM t"]
        );
        assert_eq!(split("SELECT 1"), ["SELECT 1"]);
    }

    #[test]
    fn every_task_of_a_day_fits_one_batch_with_the_stacks_names() {
        let day: Day = "2024-03-01".parse().unwrap();
        let plan = day_plan(&names(), day).unwrap();
        assert_eq!(plan.len(), 18);
        for (task, statements) in &plan {
            match task.step {
                Step::Extract(_) => assert!(statements.is_none(), "{}", task.id),
                _ => {
                    let statements = statements.as_ref().unwrap();
                    assert!((1..=BATCH_LIMIT).contains(&statements.len()), "{}", task.id);
                    assert!(statements.iter().all(|s| !s.contains("{{")), "{}", task.id);
                }
            }
        }
        let (_, load) = plan
            .iter()
            .find(|(t, _)| t.id == "load_stage_sales")
            .unwrap();
        let load = load.as_ref().unwrap();
        assert_eq!(load.len(), 2);
        assert!(load[1].contains("s3://acme-lake/raw/2024-03-01/sales.parquet"));
        assert!(load[1].contains("demo-warehouse-copy-role"));
        assert!(tune(&names(), day).unwrap().len() > 1);
    }
}
