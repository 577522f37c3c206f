//! Administrator credentials as domain types: a normalised email and a password
//! that meets the length rule, hashed with argon2id. Hashes imported from
//! DreamFactory (Laravel's bcrypt, `$2y$…`) are accepted until the first
//! successful sign-in replaces them with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub const MIN_PASSWORD_CHARS: usize = 12;
const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_EMAIL_CHARS: usize = 254;

/// An email address, trimmed and lower-cased so sign-in is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, String> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("Email required".into());
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(format!(
                "Email must be at most {MAX_EMAIL_CHARS} characters"
            ));
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err("Enter an email address like name@example.com".into());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 12 characters. Never logged, never echoed back.
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

impl Password {
    pub fn parse(input: &str) -> Result<Self, String> {
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!(
                "Password must be at least {MIN_PASSWORD_CHARS} characters"
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!(
                "Password must be at most {MAX_PASSWORD_CHARS} characters"
            ));
        }
        Ok(Password(input.to_owned()))
    }

    /// The argon2id PHC string to store.
    pub fn hash(&self) -> anyhow::Result<String> {
        hash_password(&self.0)
    }
}

fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt: [u8; 16] = crate::random::bytes();
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?
        .to_string())
}

/// A bcrypt hash, as DreamFactory stores passwords (`$2y$`, `$2b$`, `$2a$`).
pub fn is_bcrypt(stored_hash: &str) -> bool {
    ["$2y$", "$2b$", "$2a$"]
        .iter()
        .any(|version| stored_hash.starts_with(version))
}

/// The argon2id hash of a password that was just checked against an older
/// kind of hash, whatever its length (the length rule is for new passwords).
pub fn rehash(password: &str) -> anyhow::Result<String> {
    hash_password(password)
}

/// Checks `password` against a stored hash. An unknown account is checked
/// against a fixed hash so both failures take the same time.
pub fn verify(password: &str, stored_hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = stored_hash.filter(|hash| is_bcrypt(hash)) {
        return bcrypt::verify(password, hash).unwrap_or(false);
    }
    let dummy = DUMMY.get_or_init(|| hash_password("keyward-timing-equaliser").unwrap_or_default());
    let hash = stored_hash.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && stored_hash.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "a b@example.com",
            "a@b@c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn password_needs_twelve_characters() {
        assert!(Password::parse("elevenchars").is_err());
        assert!(Password::parse("twelve chars").is_ok());
        // Characters, not bytes: twelve two-byte characters pass, six do not.
        assert!(Password::parse(&"é".repeat(12)).is_ok());
        assert!(Password::parse(&"é".repeat(6)).is_err());
    }

    #[test]
    fn hash_verifies_only_the_same_password() {
        let hash = Password::parse("correct horse battery")
            .unwrap()
            .hash()
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&hash)));
        assert!(!verify("correct horse batterY", Some(&hash)));
        assert!(!verify("correct horse battery", None));
    }

    #[test]
    fn dreamfactory_bcrypt_hashes_verify_until_rehashed() {
        // Laravel writes `$2y$`; the bcrypt crate writes `$2b$` with the same
        // algorithm, so the test's hash is relabelled as Laravel's would be.
        let hash = bcrypt::hash("short pw", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        assert!(is_bcrypt(&hash));
        assert!(verify("short pw", Some(&hash)));
        assert!(!verify("short pW", Some(&hash)));
        assert!(!verify("short pw", Some("$2y$10$garbage")));
        let argon = rehash("short pw").unwrap();
        assert!(!is_bcrypt(&argon));
        assert!(verify("short pw", Some(&argon)));
    }
}
