-- quality_sales: clean stage_sales for run date {{ ds }}.
--   1. exact duplicate rows are collapsed to one (counted, not rejected)
--   2. invalid rows go to rejects with a reason: missing transaction_code,
--      product_id, customer_id, sale_date, quantity_sold or revenue,
--      sale_date other than the run date, negative quantity or revenue
--   3. of several valid rows sharing a transaction_code, the first in
--      content order is kept and the others are rejected as
--      'duplicate transaction_code' (deterministic, independent of load order)
--   4. counts go to quality_runs
-- Only the rows that need a decision are looked at one by one and kept in
-- tmp_quality_sales: the invalid rows, and every row whose transaction_code
-- is staged more than once (exact duplicates included), with its number of
-- copies. Every other row is valid and alone with its code, so it is kept
-- as it is: a clean day's 100,000s of rows are neither sorted, copied nor
-- rewritten. When something was removed (rows_clean <> rows_staged), the
-- rows of the codes in tmp_quality_sales (and those without a code) are
-- deleted from stage_sales and the kept ones put back, one copy each.
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
    checked.copies,
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
        staged.transaction_code,
        staged.sale_date,
        staged.product_id,
        staged.customer_id,
        staged.quantity_sold,
        staged.revenue,
        staged.invalid_reason,
        COUNT(*) AS copies
    FROM (
        SELECT
            transaction_code,
            sale_date,
            product_id,
            customer_id,
            quantity_sold,
            revenue,
            CASE
                WHEN transaction_code IS NULL OR TRIM(transaction_code) = ''
                    THEN 'missing transaction_code'
                WHEN product_id IS NULL THEN 'missing product_id'
                WHEN customer_id IS NULL THEN 'missing customer_id'
                WHEN sale_date IS NULL THEN 'missing sale_date'
                WHEN sale_date <> CAST('{{ ds }}' AS DATE)
                    THEN 'sale_date is not the run date'
                WHEN quantity_sold IS NULL THEN 'missing quantity_sold'
                WHEN quantity_sold < 0 THEN 'negative quantity_sold'
                WHEN revenue IS NULL THEN 'missing revenue'
                WHEN revenue < 0 THEN 'negative revenue'
            END AS invalid_reason
        FROM {{ params.schema }}.stage_sales
    ) AS staged
    WHERE
        staged.invalid_reason IS NOT NULL
        OR staged.transaction_code IN (
            SELECT transaction_code
            FROM {{ params.schema }}.stage_sales
            GROUP BY transaction_code
            HAVING COUNT(*) > 1
        )
    GROUP BY
        staged.transaction_code,
        staged.sale_date,
        staged.product_id,
        staged.customer_id,
        staged.quantity_sold,
        staged.revenue,
        staged.invalid_reason
) AS checked;

INSERT INTO {{ params.schema }}.quality_runs (
    run_date, entity, rows_staged, duplicates_removed, rows_rejected, rows_clean
)
SELECT
    CAST('{{ ds }}' AS DATE),
    'sales',
    staged.row_count,
    -- rows outside tmp_quality_sales are all distinct: only its copies collapse
    checked.copy_count - checked.row_count,
    checked.rejected_count,
    staged.row_count - (checked.copy_count - checked.row_count)
    - checked.rejected_count
FROM (
    SELECT COUNT(*) AS row_count FROM {{ params.schema }}.stage_sales
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS row_count,
        COALESCE(SUM(copies), 0) AS copy_count,
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

-- Only on a day with something removed: the rows to decide on leave
-- staging (no row outside tmp_quality_sales shares a code with one inside),
-- then the kept ones come back. A kept row in tmp_quality_sales always
-- means something was removed (a duplicate copy or code), so the INSERT
-- needs no condition of its own.
DELETE FROM {{ params.schema }}.stage_sales
WHERE
    EXISTS (
        SELECT 1
        FROM {{ params.schema }}.quality_runs
        WHERE
            entity = 'sales'
            AND run_date = CAST('{{ ds }}' AS DATE)
            AND rows_clean <> rows_staged
    )
    AND (
        transaction_code IS NULL
        OR transaction_code IN (
            SELECT transaction_code
            FROM tmp_quality_sales
        )
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
WHERE reject_reason IS NULL;

DROP TABLE tmp_quality_sales;
