-- load_stage_customers (Redshift only): replace stage_customers with the
-- lake's {{ ds }}/customers.csv (header line skipped, standard CSV quoting).
-- Every staging column is text, so bad values load and are rejected by
-- quality_customers. TRUNCATECOLUMNS keeps an over-long value from failing
-- the COPY (quality rejects it as too long anyway).

DELETE FROM {{ params.schema }}.stage_customers;

COPY {{ params.schema }}.stage_customers (
    customer_id, company_name, industry, customer_satisfaction_rating
)
FROM 's3://{{ params.lake_bucket }}/{{ params.lake_prefix }}{{ ds }}/customers.csv'
IAM_ROLE '{{ params.copy_role_arn }}'
FORMAT AS CSV
IGNOREHEADER 1
TRUNCATECOLUMNS;
