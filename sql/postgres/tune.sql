-- tune_tables (PostgreSQL only): what makes the local warehouse fast,
-- kept out of the portable files because Redshift has no indexes (its
-- counterpart is sql/redshift/tune.sql: distribution and sort keys).
-- The local runner runs this file after every setup_schema; each statement
-- is idempotent and cheap once done. Never part of the task graph or the
-- MWAA DAG.
--   fact_sales (date_key): the day's facts are deleted, counted and summed
--   by date_key (fact_sales.sql, fact_sales_aggregate.sql, the run's
--   report); without it each of those reads every day's facts.
--   Redshift sorts fact_sales by date_key for the same reason.

CREATE INDEX IF NOT EXISTS fact_sales_date_key
ON {{ params.schema }}.fact_sales (date_key);
