-- fact_sales: incremental load of the cleaned stage_sales for run date
-- {{ ds }}. Delete-then-insert, so a rerun replaces the day:
--   * fact rows of the run date, and rows whose transaction_code is staged
--     again, are deleted. The range of the staged codes changes nothing in
--     what is deleted (a staged code lies within it); it lets the engine
--     read only that range of fact_sales (an index range on PostgreSQL,
--     the transaction_code primary key) instead of every fact ever loaded
--   * staged sales are inserted with
--       date_key     from dim_date (the run date's row)
--       product_key  the SCD1 row of the product
--       customer_key the dim_customers version whose effective_date <=
--                    sale_date <= expired_date. Should no version cover the
--                    sale date (a date run after the customer's first
--                    version already existed), the customer's first version
--                    (lowest key, as history is only appended forward)
-- The keys are NOT NULL columns: a missing dimension row fails the run
-- instead of loading a fact with a NULL key (inferred members exist by now).

DELETE FROM {{ params.schema }}.fact_sales
WHERE date_key = CAST('{{ ds_nodash }}' AS INTEGER);

DELETE FROM {{ params.schema }}.fact_sales
USING {{ params.schema }}.stage_sales
WHERE
    fact_sales.transaction_code = stage_sales.transaction_code
    AND fact_sales.transaction_code
    >= (SELECT MIN(transaction_code) FROM {{ params.schema }}.stage_sales)
    AND fact_sales.transaction_code
    <= (SELECT MAX(transaction_code) FROM {{ params.schema }}.stage_sales);

INSERT INTO {{ params.schema }}.fact_sales (
    transaction_code, date_key, product_key, customer_key,
    quantity_sold, revenue
)
SELECT
    sales.transaction_code,
    calendar.date_key,
    product.product_key,
    COALESCE(customer_version.customer_key, first_version.customer_key),
    sales.quantity_sold,
    sales.revenue
FROM {{ params.schema }}.stage_sales AS sales
LEFT JOIN {{ params.schema }}.dim_date AS calendar
    ON sales.sale_date = calendar.full_date
LEFT JOIN {{ params.schema }}.dim_products AS product
    ON sales.product_id = product.product_id
LEFT JOIN {{ params.schema }}.dim_customers AS customer_version
    ON
        sales.customer_id = customer_version.customer_id
        AND sales.sale_date >= customer_version.effective_date
        AND sales.sale_date <= customer_version.expired_date
LEFT JOIN (
    SELECT
        customer_id,
        MIN(customer_key) AS customer_key
    FROM {{ params.schema }}.dim_customers
    GROUP BY customer_id
) AS first_version
    ON sales.customer_id = first_version.customer_id;
