-- setup_schema: create the warehouse schema and every table, idempotently.
-- Portable DDL (PostgreSQL 15 and Redshift): no IDENTITY, no DISTKEY/SORTKEY
-- (those live in sql/redshift/tune.sql). Surrogate keys are plain integers
-- filled by the transform SQL as MAX(key) + ROW_NUMBER(), so reruns give
-- identical keys. Money is DECIMAL, never a float.

CREATE SCHEMA IF NOT EXISTS {{ params.schema }};

-- Staging (silver input). Emptied and reloaded for every run date.
-- stage_sales is typed exactly as D/sales.parquet.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.stage_sales (
    transaction_code VARCHAR(64),
    sale_date DATE,
    product_id INTEGER,
    customer_id INTEGER,
    quantity_sold INTEGER,
    revenue DECIMAL(12, 2)
);

-- Dimension staging is all text so that a bad value loads and is rejected
-- by quality/*.sql instead of failing the COPY.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.stage_products (
    product_id VARCHAR(1024),
    product_name VARCHAR(1024),
    category VARCHAR(1024),
    product_rating VARCHAR(1024)
);

CREATE TABLE IF NOT EXISTS {{ params.schema }}.stage_customers (
    customer_id VARCHAR(1024),
    company_name VARCHAR(1024),
    industry VARCHAR(1024),
    customer_satisfaction_rating VARCHAR(1024)
);

-- One row per run date, added by transform/dim_date.sql.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.dim_date (
    date_key INTEGER NOT NULL,
    full_date DATE NOT NULL,
    year SMALLINT NOT NULL,
    quarter SMALLINT NOT NULL,
    month SMALLINT NOT NULL,
    day SMALLINT NOT NULL,
    day_of_week SMALLINT NOT NULL,
    day_name VARCHAR(16) NOT NULL,
    month_name VARCHAR(16) NOT NULL,
    is_weekend BOOLEAN NOT NULL,
    PRIMARY KEY (date_key)
);

-- SCD type 1. updated_date = run date that last wrote the attributes.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.dim_products (
    product_key INTEGER NOT NULL,
    product_id INTEGER NOT NULL,
    product_name VARCHAR(256),
    category VARCHAR(256),
    product_rating INTEGER,
    is_inferred BOOLEAN NOT NULL,
    updated_date DATE NOT NULL,
    PRIMARY KEY (product_key)
);

-- SCD type 2. Exactly one row per customer_id has is_current = TRUE
-- (expired_date 9999-12-31).
CREATE TABLE IF NOT EXISTS {{ params.schema }}.dim_customers (
    customer_key INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    company_name VARCHAR(256),
    industry VARCHAR(256),
    customer_satisfaction_rating INTEGER,
    effective_date DATE NOT NULL,
    expired_date DATE NOT NULL,
    is_current BOOLEAN NOT NULL,
    is_inferred BOOLEAN NOT NULL,
    PRIMARY KEY (customer_key)
);

-- Grain: one row per sales transaction.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.fact_sales (
    transaction_code VARCHAR(64) NOT NULL,
    date_key INTEGER NOT NULL,
    product_key INTEGER NOT NULL,
    customer_key INTEGER NOT NULL,
    quantity_sold INTEGER NOT NULL,
    revenue DECIMAL(12, 2) NOT NULL,
    PRIMARY KEY (transaction_code)
);

-- Gold: one row per run date. total_revenue is wider than a single sale
-- (DECIMAL(18, 2)) so that a day of 10^6 sales cannot overflow it.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.fact_sales_aggregate (
    date_key INTEGER NOT NULL,
    total_quantity BIGINT NOT NULL,
    total_revenue DECIMAL(18, 2) NOT NULL,
    transaction_count BIGINT NOT NULL,
    PRIMARY KEY (date_key)
);

-- Rows removed by quality/*.sql, with the reason. record is the rejected
-- row as comma-separated text (NULL shown as empty).
CREATE TABLE IF NOT EXISTS {{ params.schema }}.rejects (
    entity VARCHAR(32) NOT NULL,
    run_date DATE NOT NULL,
    reason VARCHAR(128) NOT NULL,
    record VARCHAR(65535)
);

-- One row per (run_date, entity): rows_staged = duplicates_removed
-- + rows_rejected + rows_clean.
CREATE TABLE IF NOT EXISTS {{ params.schema }}.quality_runs (
    run_date DATE NOT NULL,
    entity VARCHAR(32) NOT NULL,
    rows_staged BIGINT NOT NULL,
    duplicates_removed BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rows_clean BIGINT NOT NULL,
    PRIMARY KEY (run_date, entity)
);
