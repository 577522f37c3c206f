//! `keyward token create`, the real binary on a fresh SQLite database: it
//! prints the token alone on stdout; the token works against a keyward on
//! that database (read-write, read-only, expiring), its creation is in the
//! audit log, and what it refuses (an unknown or inactive administrator, a
//! name a live token has, no name, zero days) is one line on stderr with a
//! failing exit code and nothing on stdout.

use std::process::{Output, Stdio};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::{Api, expect, expect_error};
use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TempDir, TestApp, TestDb, attr, table_rows,
};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the binary on `database` with `args`, `stdin` as its input, none of
/// keyward's settings from the environment; fails after `TIMEOUT`.
async fn keyward(database: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .arg("--database-url")
        .arg(database)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start keyward");
    let mut input = child.stdin.take().unwrap();
    // keyward may exit before reading: a broken pipe here is its business.
    let _ = input.write_all(stdin.as_bytes()).await;
    drop(input);
    tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("keyward {args:?} did not exit within {TIMEOUT:?}"))
        .expect("cannot wait for keyward")
}

/// `keyward token create` that succeeds; returns the token it printed,
/// checking that stdout holds that and nothing else.
async fn create_token(database: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let output = keyward(database, &all, "").await;
    let stdout = String::from_utf8(output.stdout).expect("stdout is not UTF-8");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{all:?} failed: {stderr}");
    let format = regex::Regex::new(r"^kwa_[0-9A-Za-z]{49}\n$").unwrap();
    assert!(format.is_match(&stdout), "{all:?} printed {stdout:?}");
    stdout.trim_end().to_owned()
}

/// `keyward token create` that fails: exit code not 0, nothing on stdout,
/// one line on stderr (no panic); returns that line.
async fn refused(database: &str, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let output = keyward(database, &all, "").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!output.status.success(), "{all:?} succeeded: {stdout:?}");
    assert_eq!(stdout, "", "{all:?} printed on stdout");
    assert_eq!(lines.len(), 1, "{all:?}: not one line: {lines:#?}");
    assert!(!lines[0].contains("panicked"), "{}", lines[0]);
    lines[0].to_owned()
}

async fn create_admin(database: &str, email: &str) {
    let output = keyward(
        database,
        &["admin", "create", "--email", email],
        &format!("{ADMIN_PASSWORD}\n"),
    )
    .await;
    assert!(
        output.status.success(),
        "admin create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn token_create_prints_a_token_that_works_and_refuses_in_one_line() {
    let dir = TempDir::new("keyward-token-cli");
    let database = dir.0.join("keyward.db").display().to_string();
    create_admin(&database, ADMIN_EMAIL).await;
    create_admin(&database, "second@example.com").await;

    let write = create_token(&database, &["--email", ADMIN_EMAIL, "--name", "CI"]).await;
    let read = create_token(
        &database,
        &["--email", ADMIN_EMAIL, "--name", "Reports", "--read-only"],
    )
    .await;
    let before = Utc::now();
    let expiring = create_token(
        &database,
        &[
            "--email",
            ADMIN_EMAIL,
            "--name",
            "Tomorrow",
            "--expires-days",
            "1",
        ],
    )
    .await;
    let after = Utc::now();
    assert!(write != read && read != expiring && write != expiring);

    // keyward on that database takes them.
    let app = TestApp::start(TestDb::existing(&database), |_| {}).await;
    let ci = Api::new(&app.address, &write);
    let listed = expect(&ci.get("/apps").await, StatusCode::OK);
    assert_eq!(listed["apps"], json!([]), "{listed}");
    let created = expect(
        &ci.post("/apps", &json!({"name": "Made by CI"})).await,
        StatusCode::CREATED,
    );
    assert_eq!(created["name"], "Made by CI");

    let reports = Api::new(&app.address, &read);
    expect(&reports.get("/apps").await, StatusCode::OK);
    let (_, message) = expect_error(
        &reports.post("/apps", &json!({"name": "Not allowed"})).await,
        StatusCode::FORBIDDEN,
    );
    assert!(message.contains("read-only"), "{message}");
    assert_eq!(app.stored_apps().len(), 1);

    let tomorrow = Api::new(&app.address, &expiring);
    expect(&tomorrow.get("/apps").await, StatusCode::OK);

    // The tokens page shows the expiry, a day from when it was made.
    let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let page = app.get("/admins/tokens").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = table_rows(&page);
    let row = rows
        .iter()
        .find(|row| row[0] == "Tomorrow")
        .unwrap_or_else(|| panic!("no row for Tomorrow in {rows:?}"));
    assert_eq!(row[1], ADMIN_EMAIL, "{row:?}");
    let at = page.body.find("Tomorrow").unwrap();
    let expiry_tag = &page.body[at..][page.body[at..].find("<time").unwrap()..];
    let expires: DateTime<Utc> = attr(expiry_tag, "datetime")
        .unwrap()
        .parse()
        .expect("an RFC 3339 expiry");
    let day = TimeDelta::days(1);
    assert!(
        expires >= (before + day - TimeDelta::seconds(1)) && expires <= after + day,
        "Tomorrow expires at {expires}, made between {before} and {after}"
    );
    let ci_row = rows
        .iter()
        .find(|row| row[0] == "CI")
        .expect("no row for CI");
    assert!(ci_row[4].contains("Never"), "{ci_row:?}");

    // The audit log has each token's creation, on the command line.
    let events = expect(&ci.get("/audit-events?object=token").await, StatusCode::OK);
    let events = events["events"].as_array().expect("events");
    let mut made: Vec<(&str, &str)> = events
        .iter()
        .map(|event| {
            assert_eq!(event["action"], "created", "{event}");
            assert_eq!(event["actor"]["admin_id"], 1, "{event}");
            assert_eq!(event["actor"]["address"], "command line", "{event}");
            let scope = event["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|change| change["field"] == "Scope")
                .and_then(|change| change["after"].as_str())
                .unwrap_or_else(|| panic!("no scope in {event}"));
            (event["object"]["name"].as_str().unwrap(), scope)
        })
        .collect();
    made.sort();
    assert_eq!(
        made,
        [
            ("CI", "Read-write"),
            ("Reports", "Read-only"),
            ("Tomorrow", "Read-write")
        ]
    );
    for token in [&write, &read, &expiring] {
        assert!(
            !events
                .iter()
                .any(|e| e.to_string().contains(token.as_str()))
        );
    }

    // What it refuses, it says in one line, and makes nothing.
    let line = refused(&database, &["--email", "nobody@example.com", "--name", "X"]).await;
    assert!(line.contains("nobody@example.com"), "{line}");
    let line = refused(&database, &["--email", ADMIN_EMAIL, "--name", "CI"]).await;
    assert!(line.contains("name"), "{line}");
    let line = refused(
        &database,
        &[
            "--email",
            ADMIN_EMAIL,
            "--name",
            "Never",
            "--expires-days",
            "0",
        ],
    )
    .await;
    assert!(
        line.contains("--expires-days") && line.contains("must be at least 1"),
        "{line}"
    );
    let line = refused(&database, &["--email", ADMIN_EMAIL, "--name", ""]).await;
    assert!(line.to_lowercase().contains("name"), "{line}");
    let line = refused(&database, &["--email", ADMIN_EMAIL, "--name", "   "]).await;
    assert!(line.to_lowercase().contains("name"), "{line}");

    let second = expect(&ci.get("/admins").await, StatusCode::OK)["admins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|admin| admin["email"] == "second@example.com")
        .map(|admin| admin["id"].as_i64().unwrap())
        .expect("no second administrator");
    expect(
        &ci.put(
            &format!("/admins/{second}/active"),
            &json!({"active": false}),
        )
        .await,
        StatusCode::OK,
    );
    let line = refused(
        &database,
        &["--email", "second@example.com", "--name", "Inactive"],
    )
    .await;
    assert!(line.contains("inactive"), "{line}");

    let events = expect(&ci.get("/audit-events?object=token").await, StatusCode::OK);
    assert_eq!(events["events"].as_array().unwrap().len(), 3, "{events}");
}
