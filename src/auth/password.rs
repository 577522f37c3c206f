//! Administrator credentials as domain types: a normalised email and a password
//! that meets the length rule, hashed with argon2id.

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

/// How many password hashes may run at once: one core is left for
/// everything else (verification, the console), so a flood of sign-ins
/// queues here instead of taking every core and, at 19 MiB of argon2 memory
/// per hash, gigabytes of memory. At least one.
fn concurrent_hashes() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get().saturating_sub(1))
        .unwrap_or(1)
        .max(1)
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that hash passwords, and the semaphore that hands out turns.
struct Hashers {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
    turns: tokio::sync::Semaphore,
}

/// Hashing runs on threads of its own at a low priority (nice 10), so that
/// when the cores are busy, verifications and console pages come first and
/// sign-ins wait: a gatekeeper must keep answering under a sign-in flood.
fn hashers() -> &'static Hashers {
    static HASHERS: std::sync::OnceLock<Hashers> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let count = concurrent_hashes();
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for i in 0..count {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("keyward-hash-{i}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                log::error!("cannot start a password hashing thread: {e}");
            }
        }
        Hashers {
            jobs: std::sync::Mutex::new(jobs),
            turns: tokio::sync::Semaphore::new(count),
        }
    })
}

fn lower_this_threads_priority() {
    // On Linux the nice value belongs to the thread (its task id).
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority changes only the scheduling priority of this thread.
    unsafe {
        let tid = libc::gettid();
        if libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10) != 0 {
            log::debug!("could not lower the hashing thread's priority");
        }
    }
}

/// Runs `work` on a hashing thread.
async fn on_hashing_thread<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> anyhow::Result<R> {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    hashers()
        .jobs
        .lock()
        .map_err(|_| anyhow::anyhow!("the password hashing queue is poisoned"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("no password hashing thread is running"))?;
    result
        .await
        .map_err(|_| anyhow::anyhow!("a password hashing thread stopped"))
}

/// A turn to hash one password. Every hash a request asks for runs under one,
/// on a hashing thread; waiting for a turn holds no thread and no database
/// connection.
pub struct HashingPermit(#[allow(dead_code)] tokio::sync::SemaphorePermit<'static>);

/// Waits for a turn to hash.
pub async fn hashing_permit() -> anyhow::Result<HashingPermit> {
    // Only a closed semaphore refuses, and this one is never closed.
    let permit = hashers().turns.acquire().await?;
    Ok(HashingPermit(permit))
}

impl HashingPermit {
    /// [`verify`], on a hashing thread.
    pub async fn verify(
        &self,
        password: String,
        stored_hash: Option<String>,
    ) -> anyhow::Result<bool> {
        on_hashing_thread(move || verify(&password, stored_hash.as_deref())).await
    }

    /// [`Password::hash`], on a hashing thread.
    pub async fn hash(&self, password: Password) -> anyhow::Result<String> {
        on_hashing_thread(move || password.hash()).await?
    }
}

/// Checks `password` against a stored hash. An unknown account is checked
/// against a fixed hash so both failures take the same time.
pub fn verify(password: &str, stored_hash: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
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
}
