//! The `keyward` binary as an operator meets it: exit codes, one-line errors on
//! stderr, `migrate`, `admin create`, and `serve` with its log.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::helpers::{Backend, StatusCode, TempDir, TestApp, TestDb, free_port, verify_at};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The binary, run in `dir` with none of keyward's settings in its environment.
fn keyward(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    command.current_dir(dir);
    for variable in [
        "DATABASE_URL",
        "KEYWARD_BIND",
        "KEYWARD_COOKIE_SECURE",
        "KEYWARD_SESSION_IDLE_MINUTES",
        "KEYWARD_POOL_SIZE",
        "KEYWARD_API_BASE_PATH",
        "KEYWARD_VERIFY_CACHE_CAPACITY",
        "KEYWARD_WORKERS",
        "KEYWARD_PROXY",
        "KEYWARD_TRUSTED_PROXY",
        "KEYWARD_BODY_TIMEOUT_SECONDS",
        "KEYWARD_SESSION_LIFETIME_HOURS",
        "RUST_LOG",
        "RUST_BACKTRACE",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Runs to completion with `stdin` as standard input; fails the test if it
/// takes longer than `TIMEOUT`.
fn run(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start keyward");
    let mut input = child.stdin.take().unwrap();
    // keyward may exit before reading: a broken pipe here is its business.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(TIMEOUT) {
        Ok(output) => output.expect("cannot wait for keyward"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("keyward did not exit within {TIMEOUT:?}");
        }
    }
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A failure an operator can read: exit code 1 and exactly one line on stderr,
/// no panic; returns that line.
fn assert_one_line_error(output: &Output) -> String {
    let stderr = lines(&output.stderr);
    assert!(!output.status.success(), "succeeded: {stderr:#?}");
    assert_eq!(stderr.len(), 1, "not one line: {stderr:#?}");
    let line = stderr[0].clone();
    assert!(!line.contains("panicked"), "{line}");
    assert!(!line.contains("RUST_BACKTRACE"), "{line}");
    line
}

#[test]
fn an_unknown_flag_is_refused() {
    let dir = TempDir::new("keyward-cli");
    let output = run(
        {
            let mut command = keyward(&dir.0);
            command.arg("--no-such-flag");
            command
        },
        "",
    );
    let line = assert_one_line_error(&output);
    assert!(line.contains("--no-such-flag"), "{line}");
    assert!(!dir.0.join("keyward.db").exists(), "a database was created");
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = TempDir::new("keyward-cli");
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"]] {
        let mut command = keyward(&dir.0);
        command
            .args(["--database-url", "postgres://nobody@127.0.0.1:1/x"])
            .args(args);
        let line = assert_one_line_error(&run(command, ""));
        assert!(
            line.starts_with("keyward: cannot connect to the database"),
            "{args:?}: {line}"
        );
    }
}

#[test]
fn an_unsupported_database_url_is_one_clear_line() {
    let dir = TempDir::new("keyward-cli");
    let mut command = keyward(&dir.0);
    command.args(["--database-url", "mysql://x", "migrate"]);
    let line = assert_one_line_error(&run(command, ""));
    assert!(line.starts_with("keyward: "), "{line}");
    assert!(line.contains("mysql://"), "{line}");
    assert!(
        !dir.0.join("mysql:").exists(),
        "the URL was taken for a file name"
    );
}

each_backend!(migrate_prepares_a_fresh_database, |db| async move {
    let dir = TempDir::new("keyward-cli");
    for _ in 0..2 {
        let mut command = keyward(&dir.0);
        command.args(["--database-url", &db.url, "migrate"]);
        let output = run(command, "");
        let stderr = lines(&output.stderr).join("\n");
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("migrations applied"), "{stderr}");
    }
    // keyward starts on it and offers the setup page.
    let app = TestApp::start(db, |_| {}).await;
    let setup = app.get(&app.setup_path()).await;
    assert_eq!(setup.status, StatusCode::OK);
});

fn admin_create(url: &str, email: &str, password_line: &str) -> Output {
    let dir = TempDir::new("keyward-cli");
    let mut command = keyward(&dir.0);
    command.args([
        "--database-url",
        url,
        "admin",
        "create",
        "--email",
        email,
        "--name",
        "Ada",
    ]);
    run(command, password_line)
}

// Run against the database of a keyward that is serving, as an operator would.
storage_test!(
    admin_create_reads_the_password_from_stdin,
    |app| async move {
        let setup_path = app.setup_path();
        let password = "correct horse battery";
        let created = admin_create(&app.db.url, "Ada@Example.com", &format!("{password}\n"));
        let (stdout, stderr) = (lines(&created.stdout), lines(&created.stderr));
        assert!(created.status.success(), "{stderr:#?}");
        assert_eq!(stdout, ["administrator ada@example.com created"]);
        assert!(
            !stdout.iter().chain(&stderr).any(|l| l.contains(password)),
            "the password was printed"
        );

        let duplicate = admin_create(&app.db.url, "ADA@example.com", &format!("{password}\n"));
        let line = assert_one_line_error(&duplicate);
        assert_eq!(
            line,
            "keyward: an administrator with email ada@example.com already exists"
        );

        let short = admin_create(&app.db.url, "bob@example.com", "short\n");
        let line = assert_one_line_error(&short);
        assert!(line.contains("at least 12 characters"), "{line}");
        let no_password = admin_create(&app.db.url, "bob@example.com", "");
        assert!(assert_one_line_error(&no_password).contains("at least 12 characters"));

        let bad_email = admin_create(&app.db.url, "bob", &format!("{password}\n"));
        assert!(
            assert_one_line_error(&bad_email)
                .to_lowercase()
                .contains("email")
        );

        // The setup page closes, and the new administrator signs in with that password.
        assert_eq!(app.get(&setup_path).await.status, StatusCode::NOT_FOUND);
        app.login("ada@example.com", password)
            .await
            .assert_redirects_to("/");
        app.logout().await;
        // The refused ones were not created.
        assert_eq!(
            app.login("bob@example.com", "short").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
);

/// `keyward serve` as a child process whose stderr is read line by line;
/// killed when dropped.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    fn start(mut command: Command) -> Served {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start keyward serve");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first log line containing `text`, waiting for it with a deadline.
    fn wait_for_line(&mut self, text: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line with {text:?} within {TIMEOUT:?}; the log so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serve_logs_the_setup_url_and_each_request_without_its_query() {
    let dir = TempDir::new("keyward-serve");
    let database = dir.0.join("keyward.db");
    let mut command = keyward(&dir.0);
    command.args([
        "--database-url",
        database.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    let mut served = Served::start(command);

    let notice = served.wait_for_line("no administrator yet: create the first one at ");
    let setup_url = notice.split_once(" at ").unwrap().1.trim().to_owned();
    let (base, token) = setup_url
        .split_once("/setup?token=")
        .expect("not a setup URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{setup_url}");
    assert!(
        !base.ends_with(":0"),
        "the log shows port 0, not the real port: {setup_url}"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let setup = client
        .get(&setup_url)
        .send()
        .await
        .expect("the setup URL does not answer");
    assert_eq!(setup.status(), StatusCode::OK);
    assert!(
        setup
            .text()
            .await
            .unwrap()
            .contains("Create the first administrator")
    );
    let login = client
        .get(format!("{base}/login?next=/secret-query"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    // `... keyward::http] GET /login 200 1.2ms`
    let line = served.wait_for_line("GET /login ");
    let entry = &line[line.find("GET /login ").unwrap()..];
    let millis = entry
        .strip_prefix("GET /login 200 ")
        .and_then(|rest| rest.strip_suffix("ms"))
        .unwrap_or_else(|| panic!("unexpected request log line: {line}"));
    assert!(millis.parse::<f64>().is_ok(), "{line}");
    served.wait_for_line("GET /setup 200 ");

    let log = served.seen.join("\n");
    assert!(
        !log.contains("secret-query"),
        "a query string was logged:\n{log}"
    );
    // The setup token is in the notice and nowhere else.
    assert_eq!(
        log.matches(token).count(),
        1,
        "the setup token was logged again:\n{log}"
    );
}

// ---- Settings refused at start-up, naming the flag and its variable ----

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

// ---- SIGTERM: in-flight requests finish, last-used times are written ----

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_and_writes_last_used_times() {
    use std::io::Read;
    use std::net::TcpStream;

    // A key made through the console of an in-process keyward, which then
    // stops; the binary serves the same SQLite file.
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let app = TestApp::start(db, |_| {}).await;
    app.login_as_default_admin().await;
    let role = app.create_role("reader").await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    app.handle.stop(true).await;

    let dir = TempDir::new("keyward-serve");
    let mut command = keyward(&dir.0);
    let port = free_port();
    command.args([
        "--database-url",
        &app.db.url,
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    let mut served = Served::start(command);
    served.wait_for_line("keyward listening on ");
    let address = format!("http://127.0.0.1:{port}");

    // A verification whose body is still on its way when SIGTERM arrives.
    let body = serde_json::json!({ "key": key }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        slow,
        "POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    slow.flush().unwrap();

    // A verification that completes: its last-used time is only in memory
    // (written in batches every few seconds) when SIGTERM arrives.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let answer = verify_at(&client, &address, &serde_json::json!({ "key": key })).await;
    assert_eq!(answer["code"], "VALID", "{answer}");
    drop(client);

    let sent = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    served.wait_for_line("SIGTERM received; starting graceful shutdown");
    // The request in flight is still answered.
    slow.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"VALID\""), "{answer}");

    let status = {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = served.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "keyward did not exit after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(status.code(), Some(0), "{}", served.seen.join("\n"));

    use diesel::prelude::*;
    use keyward::schema::apps;
    let mut conn = app.pool.get().unwrap();
    let last_used: Option<chrono::NaiveDateTime> = apps::table
        .find(app_id)
        .select(apps::last_used_at)
        .first(&mut *conn)
        .unwrap();
    assert!(
        last_used.is_some(),
        "the last use was not written before keyward exited"
    );
}
