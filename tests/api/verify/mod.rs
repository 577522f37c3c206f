//! Verification (`src/verify/`), on SQLite and PostgreSQL: every answer of
//! `POST /api/v1/verify`, access rules judged end to end, the forward-auth
//! endpoint `GET /api/v1/auth` and the proxy headers it reads, requests it
//! refuses rather than judges, changes honoured within a second (also by a
//! second instance) and dropping only what they make stale, last-used times
//! (also across a failed write), and guarding an API in Chromium. The setup
//! and the answer checks the tests share are here.

mod allowed_ips;
mod answers;
mod browser;
mod forward_auth;
mod freshness;
mod last_used;
mod limits;
mod limits_shared;
mod precise;
mod proxy_headers;
mod refusals;
mod rules;

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{StatusCode, TestApp, TestResponse, api_client};

/// keyward promises that a change is honoured within one second; the margin
/// is for the HTTP round trips of the check itself.
const FRESH: Duration = Duration::from_millis(1200);

/// A service `db`, a role "Readers" granting GET on all of it, and an active
/// key "Mobile app" with that role.
struct Setup {
    db: i32,
    role: i32,
    app_id: i32,
    key: String,
}

async fn setup(app: &TestApp) -> Setup {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    Setup {
        db,
        role,
        app_id,
        key,
    }
}

fn code(answer: &Value) -> &str {
    answer["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {answer}"))
}

/// `{"id": .., "name": ..}` as the answers name an app or a role.
fn named(id: i32, name: &str) -> Value {
    json!({"id": id, "name": name})
}

/// The same key with another, still alphanumeric, last checksum character.
fn with_altered_checksum(key: &str) -> String {
    let mut altered = key.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    altered
}

/// Asserts a DreamFactory-shaped error body with `status` and returns its message.
fn error_message(response: &TestResponse, status: StatusCode) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .starts_with("application/json"),
        "{}",
        response.header("content-type")
    );
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {}", response.body));
    assert_eq!(body["error"]["code"], json!(status.as_u16()), "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error without a message: {body}"))
        .to_owned();
    assert!(!message.trim().is_empty(), "{body}");
    message
}

/// Asks the forward-auth endpoint about `method uri` as nginx's `auth_request` does.
pub(crate) async fn forward_auth(
    app: &TestApp,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut request = api_client()
        .get(app.url("/api/v1/auth"))
        .header("X-Original-Method", method)
        .header("X-Original-URI", uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestResponse::read(request.send().await.expect("request failed")).await
}

fn assert_passes(response: &TestResponse, app_id: i32, app_name: &str, role: &str, what: &str) {
    assert_eq!(response.status, StatusCode::OK, "{what}: {}", response.body);
    assert_eq!(response.header("x-keyward-app"), app_name, "{what}");
    assert_eq!(
        response.header("x-keyward-app-id"),
        app_id.to_string(),
        "{what}"
    );
    assert_eq!(response.header("x-keyward-role"), role, "{what}");
}

/// The request each freshness test asks about: allowed before the change.
fn contacts_get(key: &str) -> Value {
    json!({"key": key, "service": "db", "component": "_table/contacts", "verb": "GET"})
}
