-- load_stage_sales (Redshift only): replace stage_sales with the lake's
-- {{ ds }}/sales.parquet. Parquet columns map by position to the table's
-- columns, so stage_sales keeps the file's column order. DELETE, not
-- TRUNCATE: TRUNCATE would commit the surrounding transaction on Redshift.
-- On PostgreSQL the runner loads staging itself (COPY ... FROM STDIN).

DELETE FROM {{ params.schema }}.stage_sales;

COPY {{ params.schema }}.stage_sales
FROM 's3://{{ params.lake_bucket }}/{{ params.lake_prefix }}{{ ds }}/sales.parquet'
IAM_ROLE '{{ params.copy_role_arn }}'
FORMAT AS PARQUET;
