//! Settings refused at start-up: each bad flag or environment variable is
//! one line naming both, and nothing is created.

use super::{assert_one_line_error, keyward, run};
use crate::harness::TempDir;

/// `keyward serve` with a bad setting, given once as a flag and once as its
/// environment variable: both times one line naming both, and nothing created.
fn refused_setting(flag: &str, variable: &str, value: &str) -> String {
    let dir = TempDir::new("keyward-cli");
    let mut lines = Vec::new();
    for as_flag in [true, false] {
        let mut command = keyward(&dir.0);
        command.arg("serve");
        if as_flag {
            command.arg(format!("{flag}={value}"));
        } else {
            command.env(variable, value);
        }
        let output = run(command, "");
        let line = assert_one_line_error(&output);
        let named = format!("keyward: {flag} ({variable}) ");
        assert!(line.starts_with(&named), "{line}");
        assert!(
            !dir.0.join("keyward.db").exists(),
            "a database was created before the setting was checked"
        );
        lines.push(line);
    }
    assert_eq!(
        lines[0], lines[1],
        "flag and variable are reported differently"
    );
    lines.remove(0)
}

#[test]
fn a_pool_size_of_zero_is_refused() {
    let line = refused_setting("--pool-size", "KEYWARD_POOL_SIZE", "0");
    assert_eq!(
        line,
        "keyward: --pool-size (KEYWARD_POOL_SIZE) must be at least 1, got 0"
    );
    let line = refused_setting("--pool-size", "KEYWARD_POOL_SIZE", "eight");
    assert!(
        line.ends_with("must be a whole number from 1 to 256, got \"eight\""),
        "{line}"
    );
}

#[test]
fn a_proxy_keyward_does_not_know_is_refused() {
    let line = refused_setting("--proxy", "KEYWARD_PROXY", "haproxy");
    assert_eq!(
        line,
        "keyward: --proxy (KEYWARD_PROXY) must be one of nginx, traefik or caddy, got \"haproxy\""
    );
}

#[test]
fn a_trusted_proxy_that_is_not_an_address_or_range_is_refused() {
    let line = refused_setting(
        "--trusted-proxy",
        "KEYWARD_TRUSTED_PROXY",
        "10.0.0.0/8,proxy.lan",
    );
    assert_eq!(
        line,
        "keyward: --trusted-proxy (KEYWARD_TRUSTED_PROXY) must be IP addresses or CIDR ranges \
         like 10.0.0.0/8, got \"proxy.lan\""
    );
}

#[test]
fn body_timeouts_and_session_lifetimes_out_of_range_are_refused() {
    let line = refused_setting(
        "--body-timeout-seconds",
        "KEYWARD_BODY_TIMEOUT_SECONDS",
        "0",
    );
    assert_eq!(
        line,
        "keyward: --body-timeout-seconds (KEYWARD_BODY_TIMEOUT_SECONDS) must be at least 1, got 0"
    );
    let line = refused_setting(
        "--session-lifetime-hours",
        "KEYWARD_SESSION_LIFETIME_HOURS",
        "1000",
    );
    assert_eq!(
        line,
        "keyward: --session-lifetime-hours (KEYWARD_SESSION_LIFETIME_HOURS) must be at most 720, got 1000"
    );
}

#[test]
fn a_worker_count_out_of_range_is_refused() {
    let line = refused_setting("--workers", "KEYWARD_WORKERS", "300");
    assert_eq!(
        line,
        "keyward: --workers (KEYWARD_WORKERS) must be at most 256, got 300"
    );
}

#[test]
fn a_session_idle_time_of_zero_is_refused() {
    let line = refused_setting(
        "--session-idle-minutes",
        "KEYWARD_SESSION_IDLE_MINUTES",
        "0",
    );
    assert!(line.ends_with("must be at least 1, got 0"), "{line}");
}

#[test]
fn an_api_base_path_that_is_not_a_path_is_refused() {
    for bad in ["api/v2/", "/api v2/", "/api/v2/?x"] {
        let line = refused_setting("--api-base-path", "KEYWARD_API_BASE_PATH", bad);
        assert!(line.contains("must be a path starting with /"), "{line}");
    }
}

#[test]
fn a_verify_cache_capacity_that_is_not_a_count_is_refused() {
    for bad in ["-1", "lots", "99999999999"] {
        let line = refused_setting(
            "--verify-cache-capacity",
            "KEYWARD_VERIFY_CACHE_CAPACITY",
            bad,
        );
        assert!(line.contains("must be "), "{line}");
        assert!(line.contains(bad), "the value is not shown: {line}");
    }
}

#[test]
fn an_expiry_warning_that_is_not_a_number_of_days_is_refused() {
    for bad in ["-1", "soon", "366"] {
        let line = refused_setting("--expiry-warning-days", "KEYWARD_EXPIRY_WARNING_DAYS", bad);
        assert!(line.contains("must be "), "{line}");
        assert!(line.contains(bad), "the value is not shown: {line}");
    }
}

#[test]
fn a_cookie_secure_that_is_not_true_or_false_is_refused() {
    let line = refused_setting("--cookie-secure", "KEYWARD_COOKIE_SECURE", "yes");
    assert!(
        line.ends_with("must be true or false, got \"yes\""),
        "{line}"
    );
}

#[test]
fn a_bind_address_that_is_not_an_address_is_refused() {
    let line = refused_setting("--bind", "KEYWARD_BIND", "localhost");
    assert!(line.contains("must be an IP address and port"), "{line}");
}

#[test]
fn a_database_url_of_another_kind_is_refused_without_echoing_it() {
    let dir = TempDir::new("keyward-cli");
    for args in [&["migrate"][..], &["serve"]] {
        let mut command = keyward(&dir.0);
        command
            .args(["--database-url", "mysql://root:hunter2secret@db/keys"])
            .args(args);
        let line = assert_one_line_error(&run(command, ""));
        assert!(
            line.starts_with("keyward: --database-url (DATABASE_URL) must be a SQLite file path"),
            "{args:?}: {line}"
        );
        assert!(line.contains("mysql://"), "{line}");
        assert!(
            !line.contains("hunter2secret"),
            "the password was printed: {line}"
        );
    }
    let mut command = keyward(&dir.0);
    command.env("DATABASE_URL", "  ").arg("migrate");
    let line = assert_one_line_error(&run(command, ""));
    assert!(
        line.starts_with("keyward: --database-url (DATABASE_URL) must not be empty"),
        "{line}"
    );
}

#[test]
fn a_bind_address_in_use_is_refused() {
    let dir = TempDir::new("keyward-cli");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let mut command = keyward(&dir.0);
    command.args(["serve", "--bind", &address]);
    let line = assert_one_line_error(&run(command, ""));
    assert!(
        line.starts_with(&format!(
            "keyward: --bind (KEYWARD_BIND) cannot listen on {address}: "
        )),
        "{line}"
    );
}
