//! The query behind the one line a day prints, run by every runner (PostgreSQL
//! locally, Redshift on AWS) so the lines mean the same everywhere.

use showcase_dataset::Day;

/// One row: rejected, duplicates removed, facts loaded, customer versions
/// added, products written, inferred members, total quantity, total revenue,
/// transaction count — the order `DayFigures` is read in.
pub fn figures_query(schema: &str, day: Day) -> String {
    let s = schema;
    format!(
        "SELECT
           (SELECT COALESCE(SUM(rows_rejected), 0) FROM {s}.quality_runs WHERE run_date = DATE '{day}'),
           (SELECT COALESCE(SUM(duplicates_removed), 0) FROM {s}.quality_runs WHERE run_date = DATE '{day}'),
           (SELECT COUNT(*) FROM {s}.fact_sales WHERE date_key = {key}),
           (SELECT COUNT(*) FROM {s}.dim_customers WHERE effective_date = DATE '{day}'),
           (SELECT COUNT(*) FROM {s}.dim_products WHERE updated_date = DATE '{day}'),
           (SELECT (SELECT COUNT(*) FROM {s}.dim_products WHERE is_inferred) + (SELECT COUNT(*) FROM {s}.dim_customers WHERE is_inferred)),
           (SELECT COALESCE(MAX(total_quantity), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key}),
           (SELECT COALESCE(MAX(total_revenue), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key}),
           (SELECT COALESCE(MAX(transaction_count), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key})",
        key = day.compact()
    )
}
