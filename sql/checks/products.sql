-- check_products: hard checks on stage_products after quality_products,
-- before any dimension or fact is touched. One row, every column must be
-- TRUE (Airflow SQLCheckOperator semantics).
SELECT
    staged.row_count > 0 AS has_products,
    staged.row_count = staged.distinct_ids AS product_ids_unique,
    staged.bad_id_rows = 0 AS product_ids_are_integers,
    staged.bad_rating_rows = 0 AS ratings_are_integers,
    staged.missing_name_rows = 0 AS product_names_present,
    quality.run_count = 1
    AND quality.rows_clean = staged.row_count AS quality_recorded
FROM (
    SELECT
        COUNT(*) AS row_count,
        COUNT(DISTINCT product_id) AS distinct_ids,
        COALESCE(SUM(
            CASE
                WHEN product_id IS NULL
                    OR NOT product_id ~ '^[0-9]{1,9}$' THEN 1
                ELSE 0
            END
        ), 0) AS bad_id_rows,
        COALESCE(SUM(
            CASE
                WHEN product_rating IS NULL
                    OR NOT product_rating ~ '^-?[0-9]{1,9}$' THEN 1
                ELSE 0
            END
        ), 0) AS bad_rating_rows,
        COALESCE(SUM(
            CASE
                WHEN product_name IS NULL OR TRIM(product_name) = '' THEN 1
                ELSE 0
            END
        ), 0) AS missing_name_rows
    FROM {{ params.schema }}.stage_products
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS run_count,
        COALESCE(MAX(rows_clean), -1) AS rows_clean
    FROM {{ params.schema }}.quality_runs
    WHERE entity = 'products' AND run_date = CAST('{{ ds }}' AS DATE)
) AS quality;
