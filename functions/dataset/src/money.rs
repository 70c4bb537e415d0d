//! Exact money: revenue is a count of cents, never a float, from the generator
//! through JSON, Parquet DECIMAL(12,2) and the warehouse.

use std::fmt;
use std::str::FromStr;

/// An amount in cents. DECIMAL(12,2) holds up to 9,999,999,999.99.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cents(pub i64);

/// The largest amount a DECIMAL(12,2) column accepts, in cents.
pub const DECIMAL_12_2_MAX: i64 = 999_999_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an amount with at most two decimals that fits DECIMAL(12,2)")]
pub struct MoneyError(pub String);

impl FromStr for Cents {
    type Err = MoneyError;

    /// Accepts `12`, `12.3`, `12.34`, `-0.50`; refuses exponents, more than two
    /// decimals (rounding would silently change revenue) and out-of-range values.
    fn from_str(text: &str) -> Result<Cents, MoneyError> {
        let error = || MoneyError(text.to_owned());
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty()
            || whole.len() > 10
            || !all_digits(whole)
            || fraction.len() > 2
            || !all_digits(fraction)
        {
            return Err(error());
        }
        if unsigned.ends_with('.') {
            return Err(error());
        }
        let whole: i64 = whole.parse().map_err(|_| error())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| error())? * 10,
            _ => fraction.parse().map_err(|_| error())?,
        };
        let cents = whole * 100 + fraction;
        if cents > DECIMAL_12_2_MAX {
            return Err(error());
        }
        Ok(Cents(if negative { -cents } else { cents }))
    }
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// In JSON an amount is a string (`"12.30"`): a JSON number would be read as a
/// float by most clients, which is exactly the loss this type exists to avoid.
impl serde::Serialize for Cents {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads a string, or a JSON number as written in the document (never via f64).
impl<'de> serde::Deserialize<'de> for Cents {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Cents, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw<'a> {
            Text(std::borrow::Cow<'a, str>),
            Number(serde_json::Number),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text.into_owned(),
            Raw::Number(number) => number.to_string(),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_amounts() {
        assert_eq!("12".parse(), Ok(Cents(1200)));
        assert_eq!("12.3".parse(), Ok(Cents(1230)));
        assert_eq!("12.34".parse(), Ok(Cents(1234)));
        assert_eq!("-0.05".parse(), Ok(Cents(-5)));
        assert_eq!("9999999999.99".parse(), Ok(Cents(DECIMAL_12_2_MAX)));
    }

    #[test]
    fn refuses_inexact_or_oversized_amounts() {
        for bad in [
            "1.234",
            "1e3",
            "",
            ".5",
            "5.",
            "abc",
            "10000000000.00",
            "1,5",
            "+1",
        ] {
            assert!(bad.parse::<Cents>().is_err(), "{bad}");
        }
    }

    #[test]
    fn prints_two_decimals() {
        assert_eq!(Cents(5).to_string(), "0.05");
        assert_eq!(Cents(-1234).to_string(), "-12.34");
        assert_eq!(Cents(100).to_string(), "1.00");
    }

    #[test]
    fn json_round_trip_is_exact() {
        let json = serde_json::to_string(&Cents(1999)).unwrap();
        assert_eq!(json, "\"19.99\"");
        assert_eq!(serde_json::from_str::<Cents>(&json).unwrap(), Cents(1999));
        assert_eq!(serde_json::from_str::<Cents>("19.9").unwrap(), Cents(1990));
    }
}
