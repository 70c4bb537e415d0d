-- load_stage_products (Redshift only): replace stage_products with the
-- lake's {{ ds }}/products.csv (header line skipped, standard CSV quoting).
-- Every staging column is text, so bad values load and are rejected by
-- quality_products. TRUNCATECOLUMNS keeps an over-long value from failing
-- the COPY (quality rejects it as too long anyway).

DELETE FROM {{ params.schema }}.stage_products;

COPY {{ params.schema }}.stage_products (
    product_id, product_name, category, product_rating
)
FROM 's3://{{ params.lake_bucket }}/{{ params.lake_prefix }}{{ ds }}/products.csv'
IAM_ROLE '{{ params.copy_role_arn }}'
FORMAT AS CSV
IGNOREHEADER 1
TRUNCATECOLUMNS;
