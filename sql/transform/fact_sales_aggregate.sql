-- fact_sales_aggregate: per-day totals (gold) for run date {{ ds }}.
-- Delete-then-insert of exactly one row for the run date (zeros when the
-- day has no sales), so a rerun replaces it.

DELETE FROM {{ params.schema }}.fact_sales_aggregate
WHERE date_key = CAST('{{ ds_nodash }}' AS INTEGER);

INSERT INTO {{ params.schema }}.fact_sales_aggregate (
    date_key, total_quantity, total_revenue, transaction_count
)
SELECT
    CAST('{{ ds_nodash }}' AS INTEGER),
    COALESCE(SUM(CAST(quantity_sold AS BIGINT)), 0),
    CAST(COALESCE(SUM(revenue), 0) AS DECIMAL(18, 2)),
    COUNT(*)
FROM {{ params.schema }}.fact_sales
WHERE date_key = CAST('{{ ds_nodash }}' AS INTEGER);
