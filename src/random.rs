//! Randomness for secrets (API keys, session ids, CSRF and setup tokens), always
//! straight from the operating system's CSPRNG.

use rand::TryRngCore;

/// `N` random bytes from the operating system.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator fails only when the OS has no entropy source at all;
    // there is no safe way to carry on making secrets then.
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random generator failed");
    bytes
}

/// A 256-bit random token, hex-encoded (URL- and form-safe).
pub fn token() -> String {
    hex::encode(bytes::<32>())
}
