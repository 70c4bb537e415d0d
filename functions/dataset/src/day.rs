//! Calendar days as the pipeline uses them: `YYYY-MM-DD`, within a bounded range.

use std::fmt;
use std::str::FromStr;

use time::Date;
use time::macros::{date, format_description};

/// The first day the simulated sources have history for. Dimension changes
/// accumulate from the day after; earlier days see the base lists.
pub const HISTORY_START: Day = Day(date!(2024 - 01 - 01));

/// Days outside this range are refused: they are almost always typos, and the
/// bound keeps a dimension replay (one step per day since [`HISTORY_START`]) cheap.
pub const EARLIEST: Day = Day(date!(2000 - 01 - 01));
pub const LATEST: Day = Day(date!(2099 - 12 - 31));

/// One calendar day, the partition unit of the lake and the pipeline's logical date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(Date);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    #[error("'{0}' is not a date in the form YYYY-MM-DD (for example 2024-03-15)")]
    Malformed(String),
    #[error("{0} is outside the supported range {EARLIEST} to {LATEST}")]
    OutOfRange(String),
}

impl Day {
    pub fn from_date(date: Date) -> Result<Day, DayError> {
        let day = Day(date);
        if day < EARLIEST || day > LATEST {
            return Err(DayError::OutOfRange(day.to_string()));
        }
        Ok(day)
    }

    pub fn date(self) -> Date {
        self.0
    }

    /// Days since 1970-01-01: a stable number to hash and to store as Parquet DATE.
    pub fn days_since_unix_epoch(self) -> i32 {
        self.0.to_julian_day() - date!(1970 - 01 - 01).to_julian_day()
    }

    /// The inverse of [`Day::days_since_unix_epoch`] (e.g. a Parquet DATE).
    pub fn from_days_since_unix_epoch(days: i32) -> Result<Day, DayError> {
        let julian = date!(1970 - 01 - 01).to_julian_day() + days;
        let date = Date::from_julian_day(julian)
            .map_err(|_| DayError::OutOfRange(format!("day {days} after 1970-01-01")))?;
        Day::from_date(date)
    }

    /// The next day, or `None` past [`LATEST`].
    pub fn next(self) -> Option<Day> {
        self.0.next_day().and_then(|d| Day::from_date(d).ok())
    }

    /// `self + n` days, saturating at [`LATEST`].
    pub fn plus_days(self, n: u32) -> Day {
        (0..n).fold(self, |day, _| day.next().unwrap_or(LATEST))
    }

    /// `YYYYMMDD`, as in Airflow's `ds_nodash`.
    pub fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// Every day from `self` to `last` inclusive, in order.
    pub fn through(self, last: Day) -> impl Iterator<Item = Day> {
        std::iter::successors(Some(self), move |d| d.next()).take_while(move |d| *d <= last)
    }
}

impl FromStr for Day {
    type Err = DayError;

    fn from_str(text: &str) -> Result<Day, DayError> {
        // Exactly ten characters: `time` alone would also accept some other widths.
        let format = format_description!("[year]-[month]-[day]");
        if text.len() != 10 {
            return Err(DayError::Malformed(text.to_owned()));
        }
        let date = Date::parse(text, format).map_err(|_| DayError::Malformed(text.to_owned()))?;
        Day::from_date(date)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl serde::Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Day, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let day: Day = "2024-02-29".parse().unwrap();
        assert_eq!(day.to_string(), "2024-02-29");
        assert_eq!(day.compact(), "20240229");
        assert_eq!(day.next().unwrap().to_string(), "2024-03-01");
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for bad in [
            "2024-2-01",
            "2024-02-30",
            "20240201",
            "2024-02-01T00:00",
            "",
            "yesterday",
        ] {
            assert!(
                matches!(bad.parse::<Day>(), Err(DayError::Malformed(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            "1999-12-31".parse::<Day>(),
            Err(DayError::OutOfRange(_))
        ));
        assert!(matches!(
            "2100-01-01".parse::<Day>(),
            Err(DayError::OutOfRange(_))
        ));
    }

    #[test]
    fn unix_day_numbers_match_parquet_dates() {
        assert_eq!(
            "1970-01-02".parse::<Day>().map(|_| ()),
            Err(DayError::OutOfRange("1970-01-02".into()))
        );
        assert_eq!(
            "2000-01-01".parse::<Day>().unwrap().days_since_unix_epoch(),
            10_957
        );
        let day: Day = "2024-02-29".parse().unwrap();
        assert_eq!(
            Day::from_days_since_unix_epoch(day.days_since_unix_epoch()),
            Ok(day)
        );
        assert!(Day::from_days_since_unix_epoch(0).is_err());
    }

    #[test]
    fn through_is_inclusive_and_ordered() {
        let first: Day = "2024-01-30".parse().unwrap();
        let last: Day = "2024-02-02".parse().unwrap();
        let days: Vec<String> = first.through(last).map(|d| d.to_string()).collect();
        assert_eq!(
            days,
            ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"]
        );
    }
}
