-- quality_sales: clean stage_sales for run date {{ ds }}.
--   1. exact duplicate rows are collapsed to one (counted, not rejected)
--   2. invalid rows go to rejects with a reason: missing transaction_code,
--      product_id, customer_id, sale_date, quantity_sold or revenue,
--      sale_date other than the run date, negative quantity or revenue
--   3. of several valid rows sharing a transaction_code, the first in
--      content order is kept and the others are rejected as
--      'duplicate transaction_code' (deterministic, independent of load order)
--   4. counts go to quality_runs
--   5. stage_sales is rewritten with the kept rows only when something was
--      removed (rows_clean <> rows_staged): otherwise it holds exactly
--      the kept rows already, and rewriting 100,000s of rows is the
--      costliest part of this file
-- Rerunnable: the run date's previous rejects and quality_runs rows for
-- 'sales' are replaced.

DELETE FROM {{ params.schema }}.rejects
WHERE entity = 'sales' AND run_date = CAST('{{ ds }}' AS DATE);

DELETE FROM {{ params.schema }}.quality_runs
WHERE entity = 'sales' AND run_date = CAST('{{ ds }}' AS DATE);

DROP TABLE IF EXISTS tmp_quality_sales;

CREATE TEMP TABLE tmp_quality_sales AS
SELECT
    checked.transaction_code,
    checked.sale_date,
    checked.product_id,
    checked.customer_id,
    checked.quantity_sold,
    checked.revenue,
    CASE
        WHEN checked.invalid_reason IS NOT NULL THEN checked.invalid_reason
        WHEN ROW_NUMBER() OVER (
            PARTITION BY checked.transaction_code, checked.invalid_reason
            ORDER BY
                checked.sale_date, checked.product_id, checked.customer_id,
                checked.quantity_sold, checked.revenue
        ) > 1 THEN 'duplicate transaction_code'
    END AS reject_reason
FROM (
    SELECT
        distinct_rows.*,
        CASE
            WHEN distinct_rows.transaction_code IS NULL
                OR TRIM(distinct_rows.transaction_code) = ''
                THEN 'missing transaction_code'
            WHEN distinct_rows.product_id IS NULL THEN 'missing product_id'
            WHEN distinct_rows.customer_id IS NULL THEN 'missing customer_id'
            WHEN distinct_rows.sale_date IS NULL THEN 'missing sale_date'
            WHEN distinct_rows.sale_date <> CAST('{{ ds }}' AS DATE)
                THEN 'sale_date is not the run date'
            WHEN distinct_rows.quantity_sold IS NULL
                THEN 'missing quantity_sold'
            WHEN distinct_rows.quantity_sold < 0 THEN 'negative quantity_sold'
            WHEN distinct_rows.revenue IS NULL THEN 'missing revenue'
            WHEN distinct_rows.revenue < 0 THEN 'negative revenue'
        END AS invalid_reason
    FROM (
        SELECT DISTINCT
            transaction_code,
            sale_date,
            product_id,
            customer_id,
            quantity_sold,
            revenue
        FROM {{ params.schema }}.stage_sales
    ) AS distinct_rows
) AS checked;

INSERT INTO {{ params.schema }}.quality_runs (
    run_date, entity, rows_staged, duplicates_removed, rows_rejected, rows_clean
)
SELECT
    CAST('{{ ds }}' AS DATE),
    'sales',
    staged.row_count,
    staged.row_count - checked.row_count,
    checked.rejected_count,
    checked.row_count - checked.rejected_count
FROM (
    SELECT COUNT(*) AS row_count FROM {{ params.schema }}.stage_sales
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS row_count,
        COALESCE(
            SUM(CASE WHEN reject_reason IS NOT NULL THEN 1 ELSE 0 END), 0
        ) AS rejected_count
    FROM tmp_quality_sales
) AS checked;

INSERT INTO {{ params.schema }}.rejects (entity, run_date, reason, record)
SELECT
    'sales',
    CAST('{{ ds }}' AS DATE),
    reject_reason,
    COALESCE(transaction_code, '')
    || ',' || COALESCE(CAST(sale_date AS VARCHAR(10)), '')
    || ',' || COALESCE(CAST(product_id AS VARCHAR(12)), '')
    || ',' || COALESCE(CAST(customer_id AS VARCHAR(12)), '')
    || ',' || COALESCE(CAST(quantity_sold AS VARCHAR(12)), '')
    || ',' || COALESCE(CAST(revenue AS VARCHAR(16)), '')
FROM tmp_quality_sales
WHERE reject_reason IS NOT NULL;

DELETE FROM {{ params.schema }}.stage_sales
WHERE EXISTS (
    SELECT 1
    FROM {{ params.schema }}.quality_runs
    WHERE
        entity = 'sales'
        AND run_date = CAST('{{ ds }}' AS DATE)
        AND rows_clean <> rows_staged
);

INSERT INTO {{ params.schema }}.stage_sales (
    transaction_code, sale_date, product_id, customer_id, quantity_sold, revenue
)
SELECT
    transaction_code,
    sale_date,
    product_id,
    customer_id,
    quantity_sold,
    revenue
FROM tmp_quality_sales
WHERE
    reject_reason IS NULL
    AND EXISTS (
        SELECT 1
        FROM {{ params.schema }}.quality_runs
        WHERE
            entity = 'sales'
            AND run_date = CAST('{{ ds }}' AS DATE)
            AND rows_clean <> rows_staged
    );

DROP TABLE tmp_quality_sales;
