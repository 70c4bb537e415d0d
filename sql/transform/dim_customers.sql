-- dim_customers: SCD type 2 from the cleaned stage_customers of run date
-- {{ ds }}, then inferred members for late-arriving customers.
-- The current version of a customer is the row with is_current = TRUE
-- (never "the row with the latest dates").
--   1. an inferred member (current, is_inferred) is completed in place:
--      same customer_key, effective_date stays 1900-01-01, no new version
--   2. a customer whose attributes differ from its current version, when
--      the run date is after that version's effective_date: the current
--      version is expired at run date - 1 (is_current FALSE) ...
--   3. ... and every staged customer left without a current version (the
--      ones just expired, and new customers) gets one new current version
--      effective on the run date, expired_date 9999-12-31
--   4. every customer_id of stage_sales still unknown gets an inferred
--      member ('Unknown' attributes, NULL rating) effective 1900-01-01
-- History is only appended forward: a run for a date that is not after the
-- current version's effective_date changes nothing for that customer, so a
-- rerun of the same date or of an older date leaves the history as it is.
-- New keys are MAX(customer_key) + ROW_NUMBER() in customer_id order.

UPDATE {{ params.schema }}.dim_customers
SET
    company_name = incoming.company_name,
    industry = incoming.industry,
    customer_satisfaction_rating = incoming.customer_satisfaction_rating,
    is_inferred = FALSE
FROM (
    SELECT
        CAST(customer_id AS INTEGER) AS customer_id,
        company_name,
        industry,
        CAST(customer_satisfaction_rating AS INTEGER)
        AS customer_satisfaction_rating
    FROM {{ params.schema }}.stage_customers
) AS incoming
WHERE
    dim_customers.customer_id = incoming.customer_id
    AND dim_customers.is_current
    AND dim_customers.is_inferred;

UPDATE {{ params.schema }}.dim_customers
SET
    expired_date = CAST('{{ ds }}' AS DATE) - 1,
    is_current = FALSE
FROM (
    SELECT
        CAST(customer_id AS INTEGER) AS customer_id,
        company_name,
        industry,
        CAST(customer_satisfaction_rating AS INTEGER)
        AS customer_satisfaction_rating
    FROM {{ params.schema }}.stage_customers
) AS incoming
WHERE
    dim_customers.customer_id = incoming.customer_id
    AND dim_customers.is_current
    AND dim_customers.effective_date < CAST('{{ ds }}' AS DATE)
    AND (
        dim_customers.company_name <> incoming.company_name
        OR dim_customers.company_name IS NULL
        OR dim_customers.industry <> incoming.industry
        OR (
            dim_customers.industry IS NULL
            AND incoming.industry IS NOT NULL
        )
        OR (
            dim_customers.industry IS NOT NULL
            AND incoming.industry IS NULL
        )
        OR dim_customers.customer_satisfaction_rating
        <> incoming.customer_satisfaction_rating
        OR dim_customers.customer_satisfaction_rating IS NULL
    );

INSERT INTO {{ params.schema }}.dim_customers (
    customer_key, customer_id, company_name, industry,
    customer_satisfaction_rating, effective_date, expired_date,
    is_current, is_inferred
)
SELECT
    COALESCE(
        (SELECT MAX(customer_key) FROM {{ params.schema }}.dim_customers), 0
    )
    + ROW_NUMBER() OVER (ORDER BY incoming.customer_id),
    incoming.customer_id,
    incoming.company_name,
    incoming.industry,
    incoming.customer_satisfaction_rating,
    CAST('{{ ds }}' AS DATE),
    CAST('9999-12-31' AS DATE),
    TRUE,
    FALSE
FROM (
    SELECT
        CAST(customer_id AS INTEGER) AS customer_id,
        company_name,
        industry,
        CAST(customer_satisfaction_rating AS INTEGER)
        AS customer_satisfaction_rating
    FROM {{ params.schema }}.stage_customers
) AS incoming
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ params.schema }}.dim_customers AS known
    WHERE known.customer_id = incoming.customer_id AND known.is_current
);

INSERT INTO {{ params.schema }}.dim_customers (
    customer_key, customer_id, company_name, industry,
    customer_satisfaction_rating, effective_date, expired_date,
    is_current, is_inferred
)
SELECT
    COALESCE(
        (SELECT MAX(customer_key) FROM {{ params.schema }}.dim_customers), 0
    )
    + ROW_NUMBER() OVER (ORDER BY late.customer_id),
    late.customer_id,
    'Unknown',
    'Unknown',
    NULL,
    CAST('1900-01-01' AS DATE),
    CAST('9999-12-31' AS DATE),
    TRUE,
    TRUE
FROM (
    SELECT DISTINCT customer_id
    FROM {{ params.schema }}.stage_sales
    WHERE customer_id IS NOT NULL
) AS late
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ params.schema }}.dim_customers AS known
    WHERE known.customer_id = late.customer_id
);
