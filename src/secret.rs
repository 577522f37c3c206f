//! The format of keyward's secrets, API keys (`kw_`), admin API tokens
//! (`kwa_`) and DreamFactory session tokens (`kws_`) alike, each a [`Typed`]
//! secret of its [`Kind`], as GitHub's token format does it: a recognisable prefix,
//! 43 base62 characters from the operating system's CSPRNG (43 × log2 62 ≈
//! 256.03 bits) and a 6-character base62 CRC32 of those 43 characters. The
//! prefix makes a leaked secret recognisable to secret scanners; the checksum
//! lets keyward refuse a mistyped or made-up one without a database look-up.
//! Only the SHA-256 of a secret is stored.

use std::marker::PhantomData;

use sha2::{Digest, Sha256};

pub const RANDOM_CHARS: usize = 43;
pub const CHECKSUM_CHARS: usize = 6;
/// Characters of the random part kept for display (`kw_4fQ9ab…`).
const DISPLAY_CHARS: usize = 6;

pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a presented secret was refused before any look-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("it is empty")]
    Empty,
    #[error("it does not start with `{0}`")]
    Prefix(&'static str),
    #[error("it must be {0} characters long")]
    Length(usize),
    #[error("it contains characters other than letters and digits")]
    Characters,
    #[error("its checksum does not match; it was mistyped or truncated")]
    Checksum,
}

/// A whole secret. It exists in memory only between generation and the one
/// page that shows it, and when a client presents it; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}…)", self.display_prefix())
    }
}

/// How long a secret with `prefix` is.
pub const fn length(prefix: &str) -> usize {
    prefix.len() + RANDOM_CHARS + CHECKSUM_CHARS
}

impl Secret {
    /// A new secret from the operating system's CSPRNG.
    pub fn generate(prefix: &str) -> Self {
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
        Secret(format!("{prefix}{random}{checksum}"))
    }

    /// Checks the prefix, shape and checksum of a presented secret.
    pub fn parse(prefix: &'static str, input: &str) -> Result<Self, FormatError> {
        if input.is_empty() {
            return Err(FormatError::Empty);
        }
        let rest = input
            .strip_prefix(prefix)
            .ok_or(FormatError::Prefix(prefix))?;
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FormatError::Characters);
        }
        if rest.len() != RANDOM_CHARS + CHECKSUM_CHARS {
            return Err(FormatError::Length(length(prefix)));
        }
        let (random, sum) = rest.split_at(RANDOM_CHARS);
        if checksum(random) != sum {
            return Err(FormatError::Checksum);
        }
        Ok(Secret(input.to_owned()))
    }

    /// The whole secret, for the one page that shows it and for nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hex SHA-256 of the secret: what the database stores and looks up.
    pub fn hash(&self) -> String {
        hex::encode(self.digest())
    }

    /// The raw SHA-256 of the secret.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// The start of the secret, enough for an admin to tell secrets apart.
    pub fn display_prefix(&self) -> String {
        let prefix_len = self.0.len() - RANDOM_CHARS - CHECKSUM_CHARS;
        self.0[..prefix_len + DISPLAY_CHARS].to_owned()
    }
}

/// CRC32 of the random part, in base62, left-padded to six characters.
pub fn checksum(random: &str) -> String {
    let mut value = crc32fast::hash(random.as_bytes());
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// A kind of secret: its prefix, and the name its `Debug` shows.
pub trait Kind {
    const PREFIX: &'static str;
    const NAME: &'static str;
}

/// A whole secret of one [`Kind`] (an API key, an admin token, a session
/// token): generated and parsed with that kind's prefix only, so one kind is
/// never taken for another. `Debug` shows the kind and the display prefix,
/// never the secret.
pub struct Typed<K: Kind>(Secret, PhantomData<K>);

impl<K: Kind> Typed<K> {
    /// A new secret from the operating system's CSPRNG.
    pub fn generate() -> Self {
        Typed(Secret::generate(K::PREFIX), PhantomData)
    }

    /// Checks the prefix, shape and checksum of a presented secret.
    pub fn parse(input: &str) -> Result<Self, FormatError> {
        Secret::parse(K::PREFIX, input).map(|secret| Typed(secret, PhantomData))
    }

    /// The whole secret, for the one page (or command) that shows it.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    /// Hex SHA-256 of the secret: what the database stores and looks up.
    pub fn hash(&self) -> String {
        self.0.hash()
    }

    /// The raw SHA-256 of the secret (the verification cache's key).
    pub fn digest(&self) -> [u8; 32] {
        self.0.digest()
    }

    /// The start of the secret, enough for an admin to tell secrets apart.
    pub fn display_prefix(&self) -> String {
        self.0.display_prefix()
    }
}

// By hand: derived, these would ask the same of `K`, which is only a name.
impl<K: Kind> Clone for Typed<K> {
    fn clone(&self) -> Self {
        Typed(self.0.clone(), PhantomData)
    }
}

impl<K: Kind> PartialEq for Typed<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K: Kind> Eq for Typed<K> {}

impl<K: Kind> std::fmt::Debug for Typed<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({}…)", K::NAME, self.display_prefix())
    }
}
