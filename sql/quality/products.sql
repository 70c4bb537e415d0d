-- quality_products: clean stage_products (all text) for run date {{ ds }}.
--   1. exact duplicate rows are collapsed to one (counted, not rejected)
--   2. invalid rows go to rejects with a reason: empty or non-integer
--      product_id or product_rating, missing product_name, a name or
--      category longer than the dimension column (256 bytes)
--   3. of several valid rows for one product_id, the first in content order
--      is kept and the others are rejected as 'duplicate product_id'
--   4. the kept rows are written back normalised (trimmed, canonical
--      integers, empty category as NULL), so transforms can CAST them
--   5. counts go to quality_runs
-- Rerunnable: the run date's previous rejects and quality_runs rows for
-- 'products' are replaced.

DELETE FROM {{ params.schema }}.rejects
WHERE entity = 'products' AND run_date = CAST('{{ ds }}' AS DATE);

DELETE FROM {{ params.schema }}.quality_runs
WHERE entity = 'products' AND run_date = CAST('{{ ds }}' AS DATE);

DROP TABLE IF EXISTS tmp_quality_products;

CREATE TEMP TABLE tmp_quality_products AS
SELECT
    typed.raw_id,
    typed.raw_name,
    typed.raw_category,
    typed.raw_rating,
    typed.product_id,
    typed.product_name,
    typed.category,
    typed.product_rating,
    CASE
        WHEN typed.invalid_reason IS NOT NULL THEN typed.invalid_reason
        WHEN ROW_NUMBER() OVER (
            PARTITION BY typed.product_id
            ORDER BY
                typed.product_name, typed.category, typed.product_rating,
                typed.raw_id, typed.raw_name, typed.raw_category,
                typed.raw_rating
        ) > 1 THEN 'duplicate product_id'
    END AS reject_reason
FROM (
    SELECT
        checked.*,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN CAST(TRIM(checked.raw_id) AS INTEGER)
        END AS product_id,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN TRIM(checked.raw_name)
        END AS product_name,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN NULLIF(TRIM(checked.raw_category), '')
        END AS category,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN CAST(TRIM(checked.raw_rating) AS INTEGER)
        END AS product_rating
    FROM (
        SELECT
            distinct_rows.*,
            CASE
                WHEN COALESCE(TRIM(distinct_rows.raw_id), '') = ''
                    THEN 'missing product_id'
                WHEN NOT TRIM(distinct_rows.raw_id) ~ '^[0-9]{1,9}$'
                    THEN 'product_id is not an integer'
                WHEN COALESCE(TRIM(distinct_rows.raw_name), '') = ''
                    THEN 'missing product_name'
                WHEN OCTET_LENGTH(TRIM(distinct_rows.raw_name)) > 256
                    THEN 'product_name too long'
                WHEN OCTET_LENGTH(TRIM(distinct_rows.raw_category)) > 256
                    THEN 'category too long'
                WHEN COALESCE(TRIM(distinct_rows.raw_rating), '') = ''
                    THEN 'missing product_rating'
                WHEN NOT TRIM(distinct_rows.raw_rating) ~ '^-?[0-9]{1,9}$'
                    THEN 'product_rating is not an integer'
            END AS invalid_reason
        FROM (
            SELECT DISTINCT
                product_id AS raw_id,
                product_name AS raw_name,
                category AS raw_category,
                product_rating AS raw_rating
            FROM {{ params.schema }}.stage_products
        ) AS distinct_rows
    ) AS checked
) AS typed;

INSERT INTO {{ params.schema }}.quality_runs (
    run_date, entity, rows_staged, duplicates_removed, rows_rejected, rows_clean
)
SELECT
    CAST('{{ ds }}' AS DATE),
    'products',
    staged.row_count,
    staged.row_count - checked.row_count,
    checked.rejected_count,
    checked.row_count - checked.rejected_count
FROM (
    SELECT COUNT(*) AS row_count FROM {{ params.schema }}.stage_products
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS row_count,
        COALESCE(
            SUM(CASE WHEN reject_reason IS NOT NULL THEN 1 ELSE 0 END), 0
        ) AS rejected_count
    FROM tmp_quality_products
) AS checked;

INSERT INTO {{ params.schema }}.rejects (entity, run_date, reason, record)
SELECT
    'products',
    CAST('{{ ds }}' AS DATE),
    reject_reason,
    COALESCE(raw_id, '')
    || ',' || COALESCE(raw_name, '')
    || ',' || COALESCE(raw_category, '')
    || ',' || COALESCE(raw_rating, '')
FROM tmp_quality_products
WHERE reject_reason IS NOT NULL;

DELETE FROM {{ params.schema }}.stage_products;

INSERT INTO {{ params.schema }}.stage_products (
    product_id, product_name, category, product_rating
)
SELECT
    CAST(product_id AS VARCHAR(12)),
    product_name,
    category,
    CAST(product_rating AS VARCHAR(12))
FROM tmp_quality_products
WHERE reject_reason IS NULL;

DROP TABLE tmp_quality_products;
