//! Which glibc a binary needs: the highest `GLIBC_x.y` version its dynamic
//! symbols reference (the same names `objdump -T` lists).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion(pub u32, pub u32);

impl fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Scans for `GLIBC_<major>.<minor>[.<patch>]` version strings. In a stripped
/// binary these live only in the dynamic string table, so the scan is exact
/// enough, and needs no ELF parser. `None` means no glibc versions: static.
pub fn highest_glibc_requirement(binary: &[u8]) -> Option<GlibcVersion> {
    const MARK: &[u8] = b"GLIBC_";
    let mut highest = None;
    let mut at = 0;
    while let Some(found) = binary[at..].windows(MARK.len()).position(|w| w == MARK) {
        let start = at + found + MARK.len();
        at = start;
        let digits = |from: usize| {
            let end = binary[from..]
                .iter()
                .position(|b| !b.is_ascii_digit())
                .map_or(binary.len(), |n| from + n);
            (
                std::str::from_utf8(&binary[from..end])
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok()),
                end,
            )
        };
        let (Some(major), dot) = digits(start) else {
            continue;
        };
        if binary.get(dot) != Some(&b'.') {
            continue;
        }
        let (Some(minor), _) = digits(dot + 1) else {
            continue;
        };
        let version = GlibcVersion(major, minor);
        if highest.is_none_or(|h| version > h) {
            highest = Some(version);
        }
    }
    highest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_highest_version() {
        let table = b"\0memcpy\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_2.3\0GLIBC_PRIVATE\0GLIBC_2.28\0";
        assert_eq!(highest_glibc_requirement(table), Some(GlibcVersion(2, 34)));
        assert_eq!(highest_glibc_requirement(b"static binary"), None);
        assert!(GlibcVersion(2, 36) > GlibcVersion(2, 34));
        assert!(GlibcVersion(2, 4) < GlibcVersion(2, 34));
    }
}
