-- Shaped like the seed's stage loads: its SQL hard-coded the COPY role.
TRUNCATE TABLE showcase_data_pipeline.stage_sales;
COPY showcase_data_pipeline.stage_sales
FROM 's3://showcase-data-pipeline/{{ ds }}/sales.parquet'
IAM_ROLE 'arn:aws:iam::123456789012:role/service-role/AmazonRedshift-CommandsAccessRole'
FORMAT AS PARQUET;
