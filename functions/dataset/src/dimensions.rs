//! Products and customers as of a day: the seed's base lists, then, for every
//! day after [`HISTORY_START`], a few rows changed and a few new ones. Changes
//! accumulate, so the warehouse's SCD1/SCD2 logic sees real history.

use serde::{Deserialize, Serialize};

use crate::day::{Day, HISTORY_START};
use crate::mix::{below, between, hash, stream};

const PRODUCT_SEED: &str = include_str!("../seed/product_data.csv");
const CUSTOMER_SEED: &str = include_str!("../seed/customer_data.csv");

/// Rows changed per day and dimension.
const CHANGES_PER_DAY: u64 = 2;
/// New rows per day and dimension are drawn from `0..=MAX_ARRIVALS_PER_DAY`.
const MAX_ARRIVALS_PER_DAY: u64 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub product_id: u32,
    pub product_name: String,
    pub category: String,
    pub product_rating: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub customer_id: u32,
    pub company_name: String,
    pub industry: String,
    pub customer_satisfaction_rating: u32,
}

/// A dimension whose rows evolve day by day. Ids are dense: 1..=n, in order of arrival.
pub trait Dimension: Sized + Clone {
    const CHANGES: u64;
    const ARRIVALS: u64;
    fn base() -> Vec<Self>;
    /// A row first seen on `day`.
    fn arriving(id: u32, day: Day, base: &[Self]) -> Self;
    /// Changes one attribute of an existing row, chosen by `h`.
    fn change(&mut self, h: u64, base: &[Self]);

    /// The whole dimension as it is on `day`, ordered by id.
    fn as_of(day: Day) -> Vec<Self> {
        let base = Self::base();
        let mut rows = base.clone();
        for d in days_after_history_start(day) {
            let existing = rows.len() as u64;
            for change in 0..CHANGES_PER_DAY {
                let h = hash(&[Self::CHANGES, day_key(d), change]);
                let index = below(h, existing) as usize;
                rows[index].change(hash(&[h]), &base);
            }
            for _ in 0..arrivals_on(Self::ARRIVALS, d) {
                let id = rows.len() as u32 + 1;
                rows.push(Self::arriving(id, d, &base));
            }
        }
        rows
    }

    /// How many rows the dimension has on `day` (ids 1..=count), without building them.
    fn count_as_of(day: Day) -> u32 {
        let base = Self::base().len() as u64;
        let arrived: u64 = days_after_history_start(day)
            .map(|d| arrivals_on(Self::ARRIVALS, d))
            .sum();
        (base + arrived) as u32
    }
}

fn days_after_history_start(day: Day) -> impl Iterator<Item = Day> {
    HISTORY_START
        .next()
        .into_iter()
        .flat_map(move |first| first.through(day))
}

fn day_key(day: Day) -> u64 {
    day.days_since_unix_epoch() as u64
}

fn arrivals_on(stream: u64, day: Day) -> u64 {
    below(hash(&[stream, day_key(day)]), MAX_ARRIVALS_PER_DAY + 1)
}

fn pick<'a>(h: u64, words: &[&'a str]) -> &'a str {
    words[below(h, words.len() as u64) as usize]
}

const NAME_STARTS: &[&str] = &[
    "Quantum",
    "Nebula",
    "Aero",
    "Zenith",
    "Celestial",
    "Nimbus",
    "Solar",
    "Gravity",
    "Terra",
    "Sonic",
    "Aqua",
    "Nova",
    "Ember",
    "Vortex",
    "Pixel",
    "Galaxy",
    "Infinity",
    "Zephyr",
    "Astro",
    "Mystic",
    "Titan",
    "Frost",
    "Hyper",
    "Bio",
];
const NAME_ENDS: &[&str] = &[
    "Blaze", "Glow", "Fusion", "Flare", "Echo", "Jet", "Spectra", "Strike", "Tron", "Pulse",
    "Vista", "Lume", "Sphere", "Wave", "Harbor", "Rift", "Glide", "Shift", "Pod", "Bloom", "Forge",
    "Flow", "Beam", "Burst", "Zen", "Quill", "Ease",
];
const CITIES: &[&str] = &[
    "Lisbon", "Oslo", "Seoul", "Lagos", "Lima", "Zagreb", "Austin", "Hanoi", "Dublin", "Nairobi",
    "Porto", "Krakow", "Osaka", "Quito", "Tallinn", "Perth",
];
const COMPANY_KINDS: &[&str] = &[
    "Analytics",
    "Robotics",
    "Motors",
    "Logistics",
    "Software",
    "Energy",
    "Foods",
    "Textiles",
    "Systems",
    "Labs",
];
const COMPANY_FORMS: &[&str] = &["Inc.", "Ltd.", "Co.", "Group", "GmbH", "S.A."];

impl Dimension for Product {
    const CHANGES: u64 = stream::PRODUCT_CHANGES;
    const ARRIVALS: u64 = stream::PRODUCT_ARRIVALS;

    fn base() -> Vec<Product> {
        parse_seed(PRODUCT_SEED, |record| Product {
            product_id: record.0,
            product_name: record.1,
            category: record.2,
            product_rating: record.3,
        })
    }

    fn arriving(id: u32, day: Day, base: &[Product]) -> Product {
        let h = hash(&[stream::PRODUCT_ARRIVALS, day_key(day), u64::from(id)]);
        // A new product borrows the kind (last word of the name) and category of a base product.
        let model = &base[below(hash(&[h, 1]), base.len() as u64) as usize];
        let kind = model.product_name.rsplit(' ').next().unwrap_or("Gadget");
        Product {
            product_id: id,
            product_name: format!(
                "{}{} {kind}",
                pick(hash(&[h, 2]), NAME_STARTS),
                pick(hash(&[h, 3]), NAME_ENDS)
            ),
            category: model.category.clone(),
            product_rating: between(hash(&[h, 4]), 1, 30) as u32,
        }
    }

    fn change(&mut self, h: u64, base: &[Product]) {
        if below(h, 3) == 0 {
            let category = &base[below(hash(&[h, 1]), base.len() as u64) as usize].category;
            if *category != self.category {
                self.category = category.clone();
                return;
            }
        }
        self.product_rating = next_value(self.product_rating, hash(&[h, 2]), 1, 30);
    }
}

impl Dimension for Customer {
    const CHANGES: u64 = stream::CUSTOMER_CHANGES;
    const ARRIVALS: u64 = stream::CUSTOMER_ARRIVALS;

    fn base() -> Vec<Customer> {
        parse_seed(CUSTOMER_SEED, |record| Customer {
            customer_id: record.0,
            company_name: record.1,
            industry: record.2,
            customer_satisfaction_rating: record.3,
        })
    }

    fn arriving(id: u32, day: Day, base: &[Customer]) -> Customer {
        let h = hash(&[stream::CUSTOMER_ARRIVALS, day_key(day), u64::from(id)]);
        let model = &base[below(hash(&[h, 1]), base.len() as u64) as usize];
        Customer {
            customer_id: id,
            company_name: format!(
                "{} {} {}",
                pick(hash(&[h, 2]), CITIES),
                pick(hash(&[h, 3]), COMPANY_KINDS),
                pick(hash(&[h, 4]), COMPANY_FORMS)
            ),
            industry: model.industry.clone(),
            customer_satisfaction_rating: between(hash(&[h, 5]), 0, 100) as u32,
        }
    }

    fn change(&mut self, h: u64, base: &[Customer]) {
        if below(h, 3) == 0 {
            let industry = &base[below(hash(&[h, 1]), base.len() as u64) as usize].industry;
            if *industry != self.industry {
                self.industry = industry.clone();
                return;
            }
        }
        self.customer_satisfaction_rating =
            next_value(self.customer_satisfaction_rating, hash(&[h, 2]), 0, 100);
    }
}

/// A value in `low..=high` that differs from `current`, so a change is always visible.
fn next_value(current: u32, h: u64, low: u32, high: u32) -> u32 {
    let candidate = between(h, u64::from(low), u64::from(high) - 1) as u32;
    if candidate >= current {
        candidate + 1
    } else {
        candidate
    }
}

/// The seed files are compiled in; a malformed one is a build defect caught by the
/// unit tests, so a bad record is skipped here rather than failing a request.
fn parse_seed<R>(text: &str, make: impl Fn((u32, String, String, u32)) -> R) -> Vec<R> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize::<(u32, String, String, u32)>()
        .filter_map(Result::ok)
        .map(make)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    #[test]
    fn seed_files_load_completely() {
        assert_eq!(Product::base().len(), 30);
        assert_eq!(Customer::base().len(), 30);
        assert_eq!(Product::base()[0].product_name, "QuantumBlaze Tablet");
        assert_eq!(Customer::base()[29].company_name, "LA Tech Ventures");
        let ids: Vec<u32> = Customer::base().iter().map(|c| c.customer_id).collect();
        assert_eq!(ids, (1..=30).collect::<Vec<_>>());
    }

    #[test]
    fn history_start_is_the_base_list() {
        assert_eq!(Product::as_of(HISTORY_START), Product::base());
        assert_eq!(Customer::as_of(day("2020-06-01")), Customer::base());
    }

    #[test]
    fn rows_change_and_arrive_day_by_day() {
        let mut previous = Customer::as_of(HISTORY_START);
        let mut changed_days = 0;
        for d in day("2024-01-02").through(day("2024-01-31")) {
            let today = Customer::as_of(d);
            assert!(today.len() >= previous.len());
            assert_eq!(today.len() as u32, Customer::count_as_of(d));
            let changed = previous.iter().zip(&today).filter(|(a, b)| a != b).count();
            assert!(changed <= CHANGES_PER_DAY as usize);
            if changed > 0 {
                changed_days += 1;
            }
            for (index, row) in today.iter().enumerate() {
                assert_eq!(row.customer_id as usize, index + 1);
            }
            previous = today;
        }
        assert!(changed_days >= 25, "changes should happen nearly every day");
        assert!(previous.len() > 40, "about one customer arrives per day");
    }

    #[test]
    fn same_day_gives_same_rows_and_days_differ() {
        assert_eq!(
            Product::as_of(day("2024-05-05")),
            Product::as_of(day("2024-05-05"))
        );
        assert_ne!(
            Product::as_of(day("2024-05-05")),
            Product::as_of(day("2024-05-06"))
        );
    }

    #[test]
    fn changed_values_stay_in_range() {
        for p in Product::as_of(day("2025-01-01")) {
            assert!((1..=30).contains(&p.product_rating), "{p:?}");
        }
        for c in Customer::as_of(day("2025-01-01")) {
            assert!(c.customer_satisfaction_rating <= 100);
        }
    }
}
