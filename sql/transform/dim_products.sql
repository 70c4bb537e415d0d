-- dim_products: SCD type 1 upsert from the cleaned stage_products of run
-- date {{ ds }}, then inferred members for late-arriving products.
--   * a known product whose attributes changed is overwritten in place,
--     unless its updated_date is after the run date (an out-of-order rerun
--     of an older date never writes older attributes over newer ones)
--   * an inferred member is completed in place (same product_key,
--     is_inferred becomes FALSE) whatever its updated_date
--   * new products get product_key = MAX(product_key) + ROW_NUMBER() in
--     product_id order (deterministic, no IDENTITY)
--   * every product_id of stage_sales still unknown gets an inferred member
--     ('Unknown' attributes, NULL rating, is_inferred TRUE)
-- A rerun of the same date changes nothing.

UPDATE {{ params.schema }}.dim_products
SET
    product_name = incoming.product_name,
    category = incoming.category,
    product_rating = incoming.product_rating,
    is_inferred = FALSE,
    updated_date = CAST('{{ ds }}' AS DATE)
FROM (
    SELECT
        CAST(product_id AS INTEGER) AS product_id,
        product_name,
        category,
        CAST(product_rating AS INTEGER) AS product_rating
    FROM {{ params.schema }}.stage_products
) AS incoming
WHERE
    dim_products.product_id = incoming.product_id
    AND (
        dim_products.is_inferred
        OR (
            dim_products.updated_date <= CAST('{{ ds }}' AS DATE)
            AND (
                dim_products.product_name <> incoming.product_name
                OR dim_products.product_name IS NULL
                OR dim_products.category <> incoming.category
                OR (
                    dim_products.category IS NULL
                    AND incoming.category IS NOT NULL
                )
                OR (
                    dim_products.category IS NOT NULL
                    AND incoming.category IS NULL
                )
                OR dim_products.product_rating <> incoming.product_rating
                OR dim_products.product_rating IS NULL
            )
        )
    );

INSERT INTO {{ params.schema }}.dim_products (
    product_key, product_id, product_name, category, product_rating,
    is_inferred, updated_date
)
SELECT
    COALESCE((SELECT MAX(product_key) FROM {{ params.schema }}.dim_products), 0)
    + ROW_NUMBER() OVER (ORDER BY incoming.product_id),
    incoming.product_id,
    incoming.product_name,
    incoming.category,
    incoming.product_rating,
    FALSE,
    CAST('{{ ds }}' AS DATE)
FROM (
    SELECT
        CAST(product_id AS INTEGER) AS product_id,
        product_name,
        category,
        CAST(product_rating AS INTEGER) AS product_rating
    FROM {{ params.schema }}.stage_products
) AS incoming
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ params.schema }}.dim_products AS known
    WHERE known.product_id = incoming.product_id
);

INSERT INTO {{ params.schema }}.dim_products (
    product_key, product_id, product_name, category, product_rating,
    is_inferred, updated_date
)
SELECT
    COALESCE((SELECT MAX(product_key) FROM {{ params.schema }}.dim_products), 0)
    + ROW_NUMBER() OVER (ORDER BY late.product_id),
    late.product_id,
    'Unknown',
    'Unknown',
    NULL,
    TRUE,
    CAST('{{ ds }}' AS DATE)
FROM (
    SELECT DISTINCT product_id
    FROM {{ params.schema }}.stage_sales
    WHERE product_id IS NOT NULL
) AS late
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ params.schema }}.dim_products AS known
    WHERE known.product_id = late.product_id
);
