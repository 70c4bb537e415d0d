-- tune_tables (Redshift only): distribution and sort keys, kept out of
-- setup/schema.sql so that the DDL stays portable. Run once after the
-- first setup_schema (e.g. at deploy time), not in every daily run: each
-- ALTER may redistribute or re-sort the whole table.
--   fact_sales     distributed on customer_key, co-located with
--                  dim_customers (the dimension that grows), sorted by
--                  date_key (every load, delete and aggregate filters on it)
--   dim_customers  distributed on customer_key, sorted by customer_id
--   dim_products, dim_date  small: a copy on every node (DISTSTYLE ALL)
--   fact_sales_aggregate    small, sorted by date_key

ALTER TABLE {{ params.schema }}.fact_sales
ALTER DISTSTYLE KEY DISTKEY customer_key;

ALTER TABLE {{ params.schema }}.fact_sales
ALTER SORTKEY (date_key);

ALTER TABLE {{ params.schema }}.dim_customers
ALTER DISTSTYLE KEY DISTKEY customer_key;

ALTER TABLE {{ params.schema }}.dim_customers
ALTER SORTKEY (customer_id);

ALTER TABLE {{ params.schema }}.dim_products
ALTER DISTSTYLE ALL;

ALTER TABLE {{ params.schema }}.dim_products
ALTER SORTKEY (product_id);

ALTER TABLE {{ params.schema }}.dim_date
ALTER DISTSTYLE ALL;

ALTER TABLE {{ params.schema }}.dim_date
ALTER SORTKEY (date_key);

ALTER TABLE {{ params.schema }}.fact_sales_aggregate
ALTER SORTKEY (date_key);
