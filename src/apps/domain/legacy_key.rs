//! Keys imported from DreamFactory ("legacy keys"). DreamFactory makes its
//! keys as 64 lowercase hex characters, but it also takes any key a client
//! supplies of at least 64 letters and digits, so a legacy key is exactly
//! that: 64 to 255 (its column's width) ASCII letters and digits. No `kw_`
//! key has that shape (its `_` is neither), so a presented key is one or the
//! other before any look-up. Only the SHA-256 is stored, as for `kw_` keys;
//! a legacy key has no checksum, so every well-shaped one is looked up.

use sha2::{Digest, Sha256};

use super::key::{ApiKey, KeyFormatError};

/// The fewest characters DreamFactory accepts in a client-supplied key.
pub const MIN_CHARS: usize = 64;
/// The width of DreamFactory's `app.api_key` column.
pub const MAX_CHARS: usize = 255;
/// Characters kept for display: a legacy key has no prefix of its own, so a
/// few more than a `kw_` key's six random ones.
const DISPLAY_CHARS: usize = 8;

/// A whole DreamFactory key; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct LegacyKey(String);

impl std::fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LegacyKey({}…)", self.display_prefix())
    }
}

impl LegacyKey {
    /// `None` unless `input` has a DreamFactory key's shape.
    pub fn parse(input: &str) -> Option<LegacyKey> {
        let shaped = (MIN_CHARS..=MAX_CHARS).contains(&input.len())
            && input.bytes().all(|b| b.is_ascii_alphanumeric());
        shaped.then(|| LegacyKey(input.to_owned()))
    }

    /// The whole key, for the one answer that hands it back (to the client
    /// that supplied it) and for nothing else.
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
        self.0[..DISPLAY_CHARS].to_owned()
    }
}

/// A key as a client presents it: keyward's own or one imported from
/// DreamFactory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedKey {
    Keyward(ApiKey),
    Legacy(LegacyKey),
}

impl PresentedKey {
    /// A `kw_` key with its checksum, or a legacy key's shape; otherwise why
    /// the `kw_` format refuses it (what a client most likely meant).
    pub fn parse(input: &str) -> Result<PresentedKey, KeyFormatError> {
        match ApiKey::parse(input) {
            Ok(key) => Ok(PresentedKey::Keyward(key)),
            Err(why) => LegacyKey::parse(input).map(PresentedKey::Legacy).ok_or(why),
        }
    }

    /// The raw SHA-256 the key is looked up by.
    pub fn digest(&self) -> [u8; 32] {
        match self {
            PresentedKey::Keyward(key) => key.digest(),
            PresentedKey::Legacy(key) => key.digest(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dreamfactory_keys_of_64_to_255_letters_and_digits_are_legacy_keys() {
        let generated = "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d";
        let supplied = "ABCdef0123".repeat(7);
        for (input, legacy) in [
            (generated, true),
            (supplied.as_str(), true),
            (&generated[..63], false),
            (&"a".repeat(255)[..], true),
            (&"a".repeat(256)[..], false),
            // DreamFactory's own check takes letters and digits only.
            (&format!("{}-", &generated[..64])[..], false),
            (&format!("{}é", &generated[..63])[..], false),
            ("", false),
        ] {
            assert_eq!(LegacyKey::parse(input).is_some(), legacy, "{input:?}");
        }
    }

    #[test]
    fn a_legacy_key_is_stored_as_its_sha256_and_shown_by_its_start() {
        let key = LegacyKey::parse(&"0".repeat(64)).unwrap();
        assert_eq!(
            key.hash(),
            "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55"
        );
        assert_eq!(key.display_prefix(), "00000000");
        assert!(!format!("{key:?}").contains(&"0".repeat(9)));
    }

    #[test]
    fn presented_keys_are_keyward_keys_or_legacy_keys_never_both() {
        let kw = ApiKey::generate();
        assert_eq!(
            PresentedKey::parse(kw.expose()),
            Ok(PresentedKey::Keyward(kw.clone()))
        );
        let legacy = "f".repeat(64);
        assert!(matches!(
            PresentedKey::parse(&legacy),
            Ok(PresentedKey::Legacy(_))
        ));
        assert_eq!(
            PresentedKey::parse(&legacy).unwrap().digest(),
            LegacyKey::parse(&legacy).unwrap().digest()
        );
        // A kw_ key with a typo is not a legacy key: the checksum's answer stands.
        let mut typo = kw.expose().to_owned();
        typo.replace_range(5..6, if &typo[5..6] == "a" { "b" } else { "a" });
        assert_eq!(PresentedKey::parse(&typo), Err(KeyFormatError::Checksum));
        assert_eq!(
            PresentedKey::parse("short"),
            Err(KeyFormatError::Prefix("kw_"))
        );
    }
}
