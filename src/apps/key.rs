//! The API key format.
//!
//! `kw_` + 43 base62 characters from the operating system's CSPRNG (43 × log2 62
//! ≈ 256.03 bits) + a 6-character base62 CRC32 of those 43 characters — 52
//! characters in all, as GitHub's token format does it. The prefix makes a
//! leaked key recognisable to secret scanners
//! (`\bkw_[0-9A-Za-z]{49}\b`); the checksum lets keyward refuse a mistyped or
//! made-up key without a database look-up. Only the SHA-256 of a key is stored.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "kw_";
pub const RANDOM_CHARS: usize = 43;
pub const CHECKSUM_CHARS: usize = 6;
pub const KEY_CHARS: usize = PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;
/// Characters of the random part kept for display (`kw_4fQ9ab…`).
const DISPLAY_CHARS: usize = 6;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A whole API key. It exists in memory only between generation and the one
/// page that shows it, and when a client presents it; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}…)", self.display_prefix())
    }
}

/// Why a presented key was refused before any look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("the key is empty")]
    Empty,
    #[error("the key does not start with `kw_`")]
    Prefix,
    #[error("the key must be {KEY_CHARS} characters long")]
    Length,
    #[error("the key contains characters other than letters and digits")]
    Characters,
    #[error("the key's checksum does not match; it was mistyped or truncated")]
    Checksum,
}

impl ApiKey {
    /// A new key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut random = String::with_capacity(RANDOM_CHARS);
        // Rejection sampling keeps every character uniform: bytes 248..=255
        // would favour the first eight symbols, so they are drawn again.
        while random.len() < RANDOM_CHARS {
            for byte in crate::random::bytes::<64>() {
                if byte < 248 && random.len() < RANDOM_CHARS {
                    random.push(BASE62[usize::from(byte % 62)] as char);
                }
            }
        }
        let checksum = checksum(&random);
        ApiKey(format!("{PREFIX}{random}{checksum}"))
    }

    /// Checks the shape and checksum of a presented key.
    pub fn parse(input: &str) -> Result<Self, KeyFormatError> {
        if input.is_empty() {
            return Err(KeyFormatError::Empty);
        }
        let rest = input.strip_prefix(PREFIX).ok_or(KeyFormatError::Prefix)?;
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(KeyFormatError::Characters);
        }
        if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS {
            return Err(KeyFormatError::Length);
        }
        let (random, sum) = rest.split_at(RANDOM_CHARS);
        if checksum(random) != sum {
            return Err(KeyFormatError::Checksum);
        }
        Ok(ApiKey(input.to_owned()))
    }

    /// The whole key, for the one page that shows it and for nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hex SHA-256 of the key: what the database stores and looks up.
    pub fn hash(&self) -> String {
        hex::encode(self.digest())
    }

    /// The raw SHA-256 of the key (the verification cache's key).
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The start of the key, enough for an admin to tell keys apart.
    pub fn display_prefix(&self) -> String {
        self.0[..PREFIX.len() + DISPLAY_CHARS].to_owned()
    }
}

/// CRC32 of the random part, in base62, left-padded to six characters.
fn checksum(random: &str) -> String {
    let mut value = crc32fast::hash(random.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(KeyFormatError::Prefix)
        );
        assert_eq!(ApiKey::parse(&key[..51]), Err(KeyFormatError::Length));
        assert_eq!(
            ApiKey::parse(&format!("{key}0")),
            Err(KeyFormatError::Length)
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
}

#[cfg(test)]
mod properties {
    use super::*;
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
