-- dim_date: add the row for run date {{ ds }} if it is missing.
-- One row per run date (no generate_series: leader-node-only on Redshift).
-- day_of_week is ISO: 1 = Monday ... 7 = Sunday. Names are spelled out in
-- English here rather than taken from TO_CHAR, which depends on the locale.
INSERT INTO {{ params.schema }}.dim_date (
    date_key, full_date, year, quarter, month, day,
    day_of_week, day_name, month_name, is_weekend
)
SELECT
    CAST('{{ ds_nodash }}' AS INTEGER),
    parts.full_date,
    parts.year_number,
    parts.quarter_number,
    parts.month_number,
    parts.day_number,
    CASE WHEN parts.dow = 0 THEN 7 ELSE parts.dow END,
    CASE parts.dow
        WHEN 0 THEN 'Sunday'
        WHEN 1 THEN 'Monday'
        WHEN 2 THEN 'Tuesday'
        WHEN 3 THEN 'Wednesday'
        WHEN 4 THEN 'Thursday'
        WHEN 5 THEN 'Friday'
        ELSE 'Saturday'
    END,
    CASE parts.month_number
        WHEN 1 THEN 'January'
        WHEN 2 THEN 'February'
        WHEN 3 THEN 'March'
        WHEN 4 THEN 'April'
        WHEN 5 THEN 'May'
        WHEN 6 THEN 'June'
        WHEN 7 THEN 'July'
        WHEN 8 THEN 'August'
        WHEN 9 THEN 'September'
        WHEN 10 THEN 'October'
        WHEN 11 THEN 'November'
        ELSE 'December'
    END,
    parts.dow IN (0, 6)
FROM (
    SELECT
        run_day.full_date,
        CAST(EXTRACT(YEAR FROM run_day.full_date) AS SMALLINT) AS year_number,
        CAST(EXTRACT(QUARTER FROM run_day.full_date) AS SMALLINT)
        AS quarter_number,
        CAST(EXTRACT(MONTH FROM run_day.full_date) AS SMALLINT)
        AS month_number,
        CAST(EXTRACT(DAY FROM run_day.full_date) AS SMALLINT) AS day_number,
        CAST(EXTRACT(DOW FROM run_day.full_date) AS SMALLINT) AS dow
    FROM (SELECT CAST('{{ ds }}' AS DATE) AS full_date) AS run_day
) AS parts
WHERE NOT EXISTS (
    SELECT 1
    FROM {{ params.schema }}.dim_date AS existing
    WHERE existing.date_key = CAST('{{ ds_nodash }}' AS INTEGER)
);
