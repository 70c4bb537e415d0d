-- check_customers: hard checks on stage_customers after quality_customers,
-- before any dimension or fact is touched. One row, every column must be
-- TRUE (Airflow SQLCheckOperator semantics).
SELECT
    staged.row_count > 0 AS has_customers,
    staged.row_count = staged.distinct_ids AS customer_ids_unique,
    staged.bad_id_rows = 0 AS customer_ids_are_integers,
    staged.bad_rating_rows = 0 AS ratings_are_integers,
    staged.missing_name_rows = 0 AS company_names_present,
    quality.run_count = 1
    AND quality.rows_clean = staged.row_count AS quality_recorded
FROM (
    SELECT
        COUNT(*) AS row_count,
        COUNT(DISTINCT customer_id) AS distinct_ids,
        COALESCE(SUM(
            CASE
                WHEN customer_id IS NULL
                    OR NOT customer_id ~ '^[0-9]{1,9}$' THEN 1
                ELSE 0
            END
        ), 0) AS bad_id_rows,
        COALESCE(SUM(
            CASE
                WHEN customer_satisfaction_rating IS NULL
                    OR NOT customer_satisfaction_rating ~ '^-?[0-9]{1,9}$' THEN 1
                ELSE 0
            END
        ), 0) AS bad_rating_rows,
        COALESCE(SUM(
            CASE
                WHEN company_name IS NULL OR TRIM(company_name) = '' THEN 1
                ELSE 0
            END
        ), 0) AS missing_name_rows
    FROM {{ params.schema }}.stage_customers
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS run_count,
        COALESCE(MAX(rows_clean), -1) AS rows_clean
    FROM {{ params.schema }}.quality_runs
    WHERE entity = 'customers' AND run_date = CAST('{{ ds }}' AS DATE)
) AS quality;
