//! Stateless pseudo-randomness: every value is a hash of *where* it is used
//! (stream, day, row, field), so any row of any day can be produced on its own,
//! in any order. SplitMix64 is written out here on purpose: a dependency bump of
//! a random-number crate must never change the data of a past day.

/// The SplitMix64 finalizer (Steele, Lea, Flood 2014).
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of a sequence of coordinates.
pub(crate) fn hash(parts: &[u64]) -> u64 {
    parts
        .iter()
        .fold(0x05EE_D0F5_A1E5_u64, |acc, part| splitmix64(acc ^ part))
}

/// A value in `0..n` drawn from `h` (n > 0). The modulo bias is below 2^-40 for
/// the small ranges used here, which no consumer can observe.
pub(crate) fn below(h: u64, n: u64) -> u64 {
    debug_assert!(n > 0);
    h % n
}

/// A value in `low..=high`.
pub(crate) fn between(h: u64, low: u64, high: u64) -> u64 {
    low + below(h, high - low + 1)
}

/// Streams keep the coordinates of different kinds of values apart.
pub(crate) mod stream {
    pub const PRODUCT_CHANGES: u64 = 1;
    pub const CUSTOMER_CHANGES: u64 = 2;
    pub const PRODUCT_ARRIVALS: u64 = 3;
    pub const CUSTOMER_ARRIVALS: u64 = 4;
    pub const SALES: u64 = 5;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_reference_values() {
        // First outputs of the reference SplitMix64 generator seeded with 0:
        // the generator adds the constant before mixing, as `splitmix64` does.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn between_stays_in_bounds() {
        for i in 0..10_000 {
            let v = between(hash(&[i]), 3, 7);
            assert!((3..=7).contains(&v));
        }
    }
}
