//! The API key format: `kw_` and the rest of `crate::secret`'s format, 52
//! characters in all (secret scanners: `\bkw_[0-9A-Za-z]{49}\b`); and how a
//! roll retires the old key.

use chrono::TimeDelta;

use crate::secret::{FormatError, Kind, Typed};

pub const PREFIX: &str = "kw_";
pub use crate::secret::{CHECKSUM_CHARS, RANDOM_CHARS};
pub const KEY_CHARS: usize = crate::secret::length(PREFIX);

/// The kind of API keys.
pub enum KeyKind {}

impl Kind for KeyKind {
    const PREFIX: &'static str = PREFIX;
    const NAME: &'static str = "ApiKey";
}

/// A whole API key (see `crate::secret`); `Debug` never prints it.
pub type ApiKey = Typed<KeyKind>;

/// Why a presented key was refused before any look-up.
pub type KeyFormatError = FormatError;

/// How long the old key keeps working after a roll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grace {
    AtOnce,
    OneHour,
    OneDay,
    SevenDays,
}

impl Grace {
    /// Each choice with its form value and label, in the order offered.
    pub const ALL: [(Grace, &'static str, &'static str); 4] = [
        (Grace::AtOnce, "now", "At once"),
        (Grace::OneHour, "1h", "After 1 hour"),
        (Grace::OneDay, "24h", "After 24 hours"),
        (Grace::SevenDays, "7d", "After 7 days"),
    ];

    pub fn parse(value: &str) -> Option<Grace> {
        Grace::ALL
            .iter()
            .find(|(_, v, _)| *v == value)
            .map(|(grace, ..)| *grace)
    }

    /// How long the old key keeps working; `None`: it stops at once.
    pub fn period(self) -> Option<TimeDelta> {
        match self {
            Grace::AtOnce => None,
            Grace::OneHour => Some(TimeDelta::hours(1)),
            Grace::OneDay => Some(TimeDelta::hours(24)),
            Grace::SevenDays => Some(TimeDelta::days(7)),
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::secret::checksum;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_string_parses_or_is_refused_without_panicking(input in any::<String>()) {
            if let Ok(key) = ApiKey::parse(&input) {
                // Only the documented shape ever parses.
                prop_assert_eq!(key.expose(), input.as_str());
                prop_assert_eq!(input.len(), KEY_CHARS);
                prop_assert!(input.starts_with(PREFIX));
                prop_assert!(input[PREFIX.len()..].bytes().all(|b| b.is_ascii_alphanumeric()));
            }
        }

        #[test]
        fn keyish_strings_parse_only_with_their_checksum(random in "[0-9A-Za-z]{43}", sum in "[0-9A-Za-z]{6}") {
            let input = format!("{PREFIX}{random}{sum}");
            prop_assert_eq!(ApiKey::parse(&input).is_ok(), checksum(&random) == sum);
        }

        #[test]
        fn a_changed_or_cut_key_is_refused(position in 0..KEY_CHARS, replacement in any::<char>(), cut in 0..KEY_CHARS) {
            let key = ApiKey::generate().expose().to_owned();
            let mut chars: Vec<char> = key.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            // A CRC32 catches every single-character change.
            prop_assert!(ApiKey::parse(&changed).is_err());
            prop_assert_eq!(ApiKey::parse(&key[..cut]).is_err(), true);
        }
    }

    #[test]
    fn generated_keys_round_trip() {
        for _ in 0..256 {
            let key = ApiKey::generate();
            assert_eq!(ApiKey::parse(key.expose()), Ok(key.clone()));
            assert_eq!(ApiKey::parse(key.expose()).unwrap().hash(), key.hash());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::{BASE62, checksum};

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let key = ApiKey::generate();
        let s = key.expose();
        assert_eq!(s.len(), 52);
        assert!(s.starts_with("kw_"));
        assert!(s[3..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(ApiKey::parse(s), Ok(key.clone()));
        assert_eq!(key.display_prefix(), &s[..9]);
    }

    #[test]
    fn generated_keys_differ() {
        let keys: std::collections::HashSet<String> = (0..1000)
            .map(|_| ApiKey::generate().expose().to_owned())
            .collect();
        assert_eq!(keys.len(), 1000);
    }

    #[test]
    fn every_symbol_is_used() {
        // 200 keys × 43 characters: each of 62 symbols is expected ~139 times.
        let mut seen = std::collections::HashMap::new();
        for _ in 0..200 {
            for c in ApiKey::generate().expose()[3..46].chars() {
                *seen.entry(c).or_insert(0) += 1;
            }
        }
        assert_eq!(seen.len(), 62);
        assert!(seen.values().all(|&n| n > 60), "{seen:?}");
    }

    #[test]
    fn checksum_catches_a_changed_character() {
        let key = ApiKey::generate().expose().to_owned();
        let mut changed = key.clone().into_bytes();
        changed[10] = if changed[10] == b'a' { b'b' } else { b'a' };
        let changed = String::from_utf8(changed).unwrap();
        assert_eq!(ApiKey::parse(&changed), Err(KeyFormatError::Checksum));
    }

    #[test]
    fn checksum_is_crc32_in_base62() {
        let random = "0".repeat(RANDOM_CHARS);
        let crc = crc32fast::hash(random.as_bytes());
        let sum = checksum(&random);
        let decoded = sum.bytes().fold(0u64, |acc, b| {
            acc * 62 + BASE62.iter().position(|&c| c == b).unwrap() as u64
        });
        assert_eq!(decoded, u64::from(crc));
        assert_eq!(
            ApiKey::parse(&format!("kw_{random}{sum}")).map(|k| k.hash().len()),
            Ok(64)
        );
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        let key = ApiKey::generate().expose().to_owned();
        assert_eq!(
            ApiKey::parse(&key.replacen("kw_", "kx_", 1)),
            Err(KeyFormatError::Prefix("kw_"))
        );
        assert_eq!(
            ApiKey::parse(&key[..51]),
            Err(KeyFormatError::Length(KEY_CHARS))
        );
        assert_eq!(
            ApiKey::parse(&format!("{key}0")),
            Err(KeyFormatError::Length(KEY_CHARS))
        );
        let mut dashed = key.clone();
        dashed.replace_range(10..11, "-");
        assert_eq!(ApiKey::parse(&dashed), Err(KeyFormatError::Characters));
        assert_eq!(ApiKey::parse(""), Err(KeyFormatError::Empty));
        assert_eq!(ApiKey::parse("kw_é"), Err(KeyFormatError::Characters));
    }

    #[test]
    fn debug_does_not_print_the_key() {
        let key = ApiKey::generate();
        let debug = format!("{key:?}");
        assert!(!debug.contains(&key.expose()[10..]));
    }

    #[test]
    fn grace_choices() {
        assert_eq!(Grace::parse("now").and_then(Grace::period), None);
        assert_eq!(
            Grace::parse("1h").and_then(Grace::period),
            Some(TimeDelta::hours(1))
        );
        assert_eq!(
            Grace::parse("24h").and_then(Grace::period),
            Some(TimeDelta::hours(24))
        );
        assert_eq!(
            Grace::parse("7d").and_then(Grace::period),
            Some(TimeDelta::days(7))
        );
        assert_eq!(Grace::parse("2d"), None);
    }
}
