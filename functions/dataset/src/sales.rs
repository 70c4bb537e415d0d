//! One day of sales transactions. Row `i` of day `D` is a pure function of
//! `(D, i)`, so any page can be produced without producing the pages before it.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::dimensions::{Customer, Dimension, Product};
use crate::mix::{below, between, hash, stream};
use crate::money::Cents;

/// The seed's daily volume.
pub const DEFAULT_SALES_PER_DAY: u64 = 50;
/// The largest supported daily volume (the benchmark runs at 10^6).
pub const MAX_SALES_PER_DAY: u64 = 10_000_000;
/// How far ahead a late-arriving product or customer may be: it appears in the
/// dimension within this many days after the sale that references it.
pub const LATE_ARRIVAL_DAYS: u32 = 2;
/// One sale in this many references a product (or customer) that is not known yet.
const LATE_REFERENCE_ONE_IN: u64 = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sale {
    pub transaction_code: String,
    pub date: Day,
    pub product_id: u32,
    pub customer_id: u32,
    pub quantity_sold: u32,
    pub revenue: Cents,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the daily sales volume must be between 0 and {MAX_SALES_PER_DAY}, got {0}")]
pub struct SalesVolumeError(pub String);

/// Parses a daily volume as given in configuration (e.g. `SALES_ROWS_PER_DAY`).
pub fn parse_volume(text: &str) -> Result<u64, SalesVolumeError> {
    match text.trim().parse::<u64>() {
        Ok(volume) if volume <= MAX_SALES_PER_DAY => Ok(volume),
        _ => Err(SalesVolumeError(text.to_owned())),
    }
}

/// The sales of one day at one volume.
#[derive(Debug, Clone)]
pub struct SalesDay {
    day: Day,
    volume: u64,
    known_products: u32,
    products_within_late_window: u32,
    known_customers: u32,
    customers_within_late_window: u32,
}

impl SalesDay {
    pub fn new(day: Day, volume: u64) -> Result<SalesDay, SalesVolumeError> {
        if volume > MAX_SALES_PER_DAY {
            return Err(SalesVolumeError(volume.to_string()));
        }
        let horizon = day.plus_days(LATE_ARRIVAL_DAYS);
        Ok(SalesDay {
            day,
            volume,
            known_products: Product::count_as_of(day),
            products_within_late_window: Product::count_as_of(horizon),
            known_customers: Customer::count_as_of(day),
            customers_within_late_window: Customer::count_as_of(horizon),
        })
    }

    pub fn day(&self) -> Day {
        self.day
    }

    pub fn len(&self) -> u64 {
        self.volume
    }

    pub fn is_empty(&self) -> bool {
        self.volume == 0
    }

    /// Rows `range` (clamped to the day's volume), in transaction order.
    pub fn rows(&self, range: Range<u64>) -> impl Iterator<Item = Sale> + '_ {
        (range.start.min(self.volume)..range.end.min(self.volume)).map(|index| self.row(index))
    }

    fn row(&self, index: u64) -> Sale {
        let day_key = self.day.days_since_unix_epoch() as u64;
        let h = hash(&[stream::SALES, day_key, index]);
        let product_id = reference(
            hash(&[h, 1]),
            self.known_products,
            self.products_within_late_window,
        );
        let customer_id = reference(
            hash(&[h, 2]),
            self.known_customers,
            self.customers_within_late_window,
        );
        let quantity_sold = between(hash(&[h, 3]), 1, 20) as u32;
        Sale {
            transaction_code: format!("TX{}-{:07}", self.day.compact(), index + 1),
            date: self.day,
            product_id,
            customer_id,
            quantity_sold,
            revenue: Cents(i64::from(quantity_sold) * unit_price(product_id).0),
        }
    }
}

/// An id among the known rows, or now and then one that only arrives later.
fn reference(h: u64, known: u32, within_late_window: u32) -> u32 {
    let late = within_late_window - known;
    if late > 0 && below(h, LATE_REFERENCE_ONE_IN) == 0 {
        known + 1 + below(hash(&[h, 1]), u64::from(late)) as u32
    } else {
        1 + below(hash(&[h, 2]), u64::from(known)) as u32
    }
}

/// A product's list price: fixed per product, 5.00 to 500.00.
pub fn unit_price(product_id: u32) -> Cents {
    Cents(between(
        hash(&[stream::SALES, u64::MAX, u64::from(product_id)]),
        500,
        50_000,
    ) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    #[test]
    fn rows_are_a_function_of_day_and_index() {
        let sales = SalesDay::new(day("2024-03-10"), 1000).unwrap();
        let all: Vec<Sale> = sales.rows(0..1000).collect();
        let tail: Vec<Sale> = sales.rows(990..2000).collect();
        assert_eq!(all.len(), 1000);
        assert_eq!(&all[990..], &tail[..]);
        assert_eq!(all[0].transaction_code, "TX20240310-0000001");
        assert_eq!(all[999].transaction_code, "TX20240310-0001000");
    }

    #[test]
    fn different_days_give_different_sales() {
        let a: Vec<Sale> = SalesDay::new(day("2024-03-10"), 50)
            .unwrap()
            .rows(0..50)
            .collect();
        let b: Vec<Sale> = SalesDay::new(day("2024-03-11"), 50)
            .unwrap()
            .rows(0..50)
            .collect();
        let same = a
            .iter()
            .zip(&b)
            .filter(|(x, y)| {
                (x.product_id, x.customer_id, x.quantity_sold)
                    == (y.product_id, y.customer_id, y.quantity_sold)
            })
            .count();
        assert!(same < 5, "{same} of 50 rows coincide");
    }

    #[test]
    fn revenue_is_quantity_times_list_price() {
        for sale in SalesDay::new(day("2024-06-01"), 200).unwrap().rows(0..200) {
            assert_eq!(
                sale.revenue.0,
                i64::from(sale.quantity_sold) * unit_price(sale.product_id).0
            );
            assert!((1..=20).contains(&sale.quantity_sold));
        }
    }

    #[test]
    fn some_sales_reference_rows_that_arrive_later() {
        let d = day("2024-06-01");
        let sales = SalesDay::new(d, 5000).unwrap();
        let known = Product::count_as_of(d);
        let horizon = Product::count_as_of(d.plus_days(LATE_ARRIVAL_DAYS));
        let late: Vec<u32> = sales
            .rows(0..5000)
            .map(|s| s.product_id)
            .filter(|id| *id > known)
            .collect();
        assert!(!late.is_empty());
        assert!(late.len() < 250);
        assert!(late.iter().all(|id| *id <= horizon));
        let customers_known = Customer::count_as_of(d);
        assert!(sales.rows(0..5000).any(|s| s.customer_id > customers_known));
    }

    #[test]
    fn volume_is_validated() {
        assert_eq!(parse_volume("1000000"), Ok(1_000_000));
        assert!(parse_volume("-1").is_err());
        assert!(parse_volume("10000001").is_err());
        assert!(parse_volume("lots").is_err());
        assert!(SalesDay::new(day("2024-01-01"), MAX_SALES_PER_DAY + 1).is_err());
    }
}
