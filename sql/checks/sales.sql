-- check_sales: hard checks on stage_sales after quality_sales, before any
-- dimension or fact is touched. One row, every column must be TRUE
-- (Airflow SQLCheckOperator semantics).
SELECT
    staged.row_count > 0 AS has_sales_rows,
    staged.off_date_rows = 0 AS all_rows_on_run_date,
    staged.missing_value_rows = 0 AS no_missing_values,
    staged.negative_rows = 0 AS no_negative_quantities_or_revenue,
    staged.row_count = staged.distinct_codes AS transaction_codes_unique,
    quality.run_count = 1
    AND quality.rows_clean = staged.row_count AS quality_recorded
FROM (
    SELECT
        COUNT(*) AS row_count,
        COUNT(DISTINCT transaction_code) AS distinct_codes,
        COALESCE(SUM(
            CASE
                WHEN sale_date IS NULL
                    OR sale_date <> CAST('{{ ds }}' AS DATE) THEN 1
                ELSE 0
            END
        ), 0) AS off_date_rows,
        COALESCE(SUM(
            CASE
                WHEN transaction_code IS NULL OR product_id IS NULL
                    OR customer_id IS NULL OR quantity_sold IS NULL
                    OR revenue IS NULL THEN 1
                ELSE 0
            END
        ), 0) AS missing_value_rows,
        COALESCE(SUM(
            CASE WHEN quantity_sold < 0 OR revenue < 0 THEN 1 ELSE 0 END
        ), 0) AS negative_rows
    FROM {{ params.schema }}.stage_sales
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS run_count,
        COALESCE(MAX(rows_clean), -1) AS rows_clean
    FROM {{ params.schema }}.quality_runs
    WHERE entity = 'sales' AND run_date = CAST('{{ ds }}' AS DATE)
) AS quality;
