use showcase_extractor::Entity;

use crate::local::DayOutcome;

/// One line per day: what was extracted, rejected, loaded, versioned, and the day's totals.
pub fn day_line(outcome: &DayOutcome) -> String {
    let f = &outcome.figures;
    format!(
        "{day}  extracted {sales} sales, {products} products, {customers} customers | rejected {rejected}, duplicates {duplicates} | \
         facts {facts} | dims: {versions} customer versions, {written} products written, {inferred} inferred pending | \
         day total: {count} sales, quantity {quantity}, revenue {revenue}",
        day = outcome.day,
        sales = outcome.extracted_rows(Entity::Sales),
        products = outcome.extracted_rows(Entity::Products),
        customers = outcome.extracted_rows(Entity::Customers),
        rejected = f.rejected,
        duplicates = f.duplicates_removed,
        facts = f.facts_loaded,
        versions = f.customer_versions_added,
        written = f.products_written,
        inferred = f.inferred_members,
        count = f.transaction_count,
        quantity = f.total_quantity,
        revenue = f.total_revenue,
    )
}

/// A run's days as a Markdown table (`run --output markdown`, and the job
/// summary under GitHub Actions): what a reviewer of a scheduled run reads.
pub fn run_markdown(outcomes: &[DayOutcome]) -> String {
    let mut out = String::from(
        "### showcase-deploy run\n\n\
         | day | sales | products | customers | rejected | facts | customer versions | sales in the day | revenue |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for outcome in outcomes {
        let f = &outcome.figures;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            outcome.day,
            outcome.extracted_rows(Entity::Sales),
            outcome.extracted_rows(Entity::Products),
            outcome.extracted_rows(Entity::Customers),
            f.rejected,
            f.facts_loaded,
            f.customer_versions_added,
            f.transaction_count,
            f.total_revenue,
        ));
    }
    out.push_str(&format!("\n{} day(s) loaded.\n", outcomes.len()));
    out
}
