-- quality_customers: clean stage_customers (all text) for run date {{ ds }}.
--   1. exact duplicate rows are collapsed to one (counted, not rejected)
--   2. invalid rows go to rejects with a reason: empty or non-integer
--      customer_id or customer_satisfaction_rating, missing company_name, a name or
--      industry longer than the dimension column (256 bytes)
--   3. of several valid rows for one customer_id, the first in content order
--      is kept and the others are rejected as 'duplicate customer_id'
--   4. the kept rows are written back normalised (trimmed, canonical
--      integers, empty industry as NULL), so transforms can CAST them
--   5. counts go to quality_runs
-- Rerunnable: the run date's previous rejects and quality_runs rows for
-- 'customers' are replaced.

DELETE FROM {{ params.schema }}.rejects
WHERE entity = 'customers' AND run_date = CAST('{{ ds }}' AS DATE);

DELETE FROM {{ params.schema }}.quality_runs
WHERE entity = 'customers' AND run_date = CAST('{{ ds }}' AS DATE);

DROP TABLE IF EXISTS tmp_quality_customers;

CREATE TEMP TABLE tmp_quality_customers AS
SELECT
    typed.raw_id,
    typed.raw_name,
    typed.raw_industry,
    typed.raw_rating,
    typed.customer_id,
    typed.company_name,
    typed.industry,
    typed.customer_satisfaction_rating,
    CASE
        WHEN typed.invalid_reason IS NOT NULL THEN typed.invalid_reason
        WHEN ROW_NUMBER() OVER (
            PARTITION BY typed.customer_id
            ORDER BY
                typed.company_name, typed.industry, typed.customer_satisfaction_rating,
                typed.raw_id, typed.raw_name, typed.raw_industry,
                typed.raw_rating
        ) > 1 THEN 'duplicate customer_id'
    END AS reject_reason
FROM (
    SELECT
        checked.*,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN CAST(TRIM(checked.raw_id) AS INTEGER)
        END AS customer_id,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN TRIM(checked.raw_name)
        END AS company_name,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN NULLIF(TRIM(checked.raw_industry), '')
        END AS industry,
        CASE
            WHEN checked.invalid_reason IS NULL
                THEN CAST(TRIM(checked.raw_rating) AS INTEGER)
        END AS customer_satisfaction_rating
    FROM (
        SELECT
            distinct_rows.*,
            CASE
                WHEN COALESCE(TRIM(distinct_rows.raw_id), '') = ''
                    THEN 'missing customer_id'
                WHEN NOT TRIM(distinct_rows.raw_id) ~ '^[0-9]{1,9}$'
                    THEN 'customer_id is not an integer'
                WHEN COALESCE(TRIM(distinct_rows.raw_name), '') = ''
                    THEN 'missing company_name'
                WHEN OCTET_LENGTH(TRIM(distinct_rows.raw_name)) > 256
                    THEN 'company_name too long'
                WHEN OCTET_LENGTH(TRIM(distinct_rows.raw_industry)) > 256
                    THEN 'industry too long'
                WHEN COALESCE(TRIM(distinct_rows.raw_rating), '') = ''
                    THEN 'missing customer_satisfaction_rating'
                WHEN NOT TRIM(distinct_rows.raw_rating) ~ '^-?[0-9]{1,9}$'
                    THEN 'customer_satisfaction_rating is not an integer'
            END AS invalid_reason
        FROM (
            SELECT DISTINCT
                customer_id AS raw_id,
                company_name AS raw_name,
                industry AS raw_industry,
                customer_satisfaction_rating AS raw_rating
            FROM {{ params.schema }}.stage_customers
        ) AS distinct_rows
    ) AS checked
) AS typed;

INSERT INTO {{ params.schema }}.quality_runs (
    run_date, entity, rows_staged, duplicates_removed, rows_rejected, rows_clean
)
SELECT
    CAST('{{ ds }}' AS DATE),
    'customers',
    staged.row_count,
    staged.row_count - checked.row_count,
    checked.rejected_count,
    checked.row_count - checked.rejected_count
FROM (
    SELECT COUNT(*) AS row_count FROM {{ params.schema }}.stage_customers
) AS staged
CROSS JOIN (
    SELECT
        COUNT(*) AS row_count,
        COALESCE(
            SUM(CASE WHEN reject_reason IS NOT NULL THEN 1 ELSE 0 END), 0
        ) AS rejected_count
    FROM tmp_quality_customers
) AS checked;

INSERT INTO {{ params.schema }}.rejects (entity, run_date, reason, record)
SELECT
    'customers',
    CAST('{{ ds }}' AS DATE),
    reject_reason,
    COALESCE(raw_id, '')
    || ',' || COALESCE(raw_name, '')
    || ',' || COALESCE(raw_industry, '')
    || ',' || COALESCE(raw_rating, '')
FROM tmp_quality_customers
WHERE reject_reason IS NOT NULL;

DELETE FROM {{ params.schema }}.stage_customers;

INSERT INTO {{ params.schema }}.stage_customers (
    customer_id, company_name, industry, customer_satisfaction_rating
)
SELECT
    CAST(customer_id AS VARCHAR(12)),
    company_name,
    industry,
    CAST(customer_satisfaction_rating AS VARCHAR(12))
FROM tmp_quality_customers
WHERE reject_reason IS NULL;

DROP TABLE tmp_quality_customers;
