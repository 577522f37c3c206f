//! DreamFactory's system API (`/api/v2/system/…`), on SQLite and PostgreSQL,
//! as DreamFactory scripts call it: signing in and out and every refusal
//! (`session`), apps listed, created, changed and deleted (`apps`), batches
//! that fail part-way (`batches`), filters that try to be SQL (`filters`), roles with their rules
//! and services (`roles`), and a DreamFactory-style Python script run
//! unchanged against a real keyward (`script`).

mod apps;
mod batches;
mod filters;
mod hostile;
mod roles;
mod script;
mod session;

use serde_json::{Value, json};

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestResponse, api_client};

/// A script's client: no cookies, its session token in
/// `X-DreamFactory-Session-Token`, and an `X-DreamFactory-API-Key` that
/// keyward ignores, as DreamFactory's own clients send one.
pub struct Df {
    pub address: String,
    pub token: String,
    client: reqwest::Client,
}

/// Signs in for a DreamFactory session; asserts it worked.
pub async fn sign_in(address: &str, email: &str, password: &str) -> Df {
    let answer = TestResponse::read(
        api_client()
            .post(format!("{address}/api/v2/system/admin/session"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let body = expect(&answer, StatusCode::OK);
    Df::new(address, body["session_token"].as_str().unwrap())
}

impl Df {
    pub fn new(address: &str, token: &str) -> Df {
        Df {
            address: address.to_owned(),
            token: token.to_owned(),
            client: api_client(),
        }
    }

    /// Creates the default administrator (if need be) and signs in as them.
    pub async fn for_app(app: &TestApp) -> Df {
        if !app.admin_exists() {
            app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        }
        sign_in(&app.address, ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v2/system{path}", self.address)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let request = request
            .header("X-DreamFactory-Session-Token", &self.token)
            .header(
                "X-DreamFactory-API-Key",
                "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d",
            );
        TestResponse::read(request.send().await.expect("request failed")).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.client.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.client.post(self.url(path)).json(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.client.patch(self.url(path)).json(body))
            .await
    }

    pub async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.send(self.client.put(self.url(path)).json(body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(self.client.delete(self.url(path))).await
    }

    /// `POST` running as `method` (`X-HTTP-METHOD`), as DreamFactory's admin UI deletes.
    pub async fn tunnel(&self, method: &str, path: &str, body: &Value) -> TestResponse {
        self.send(
            self.client
                .post(self.url(path))
                .header("X-HTTP-METHOD", method)
                .json(body),
        )
        .await
    }
}

/// Asserts `response` has `status` and JSON; returns the JSON.
#[track_caller]
pub fn expect(response: &TestResponse, status: StatusCode) -> Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .starts_with("application/json"),
        "{:?}",
        response.headers
    );
    response.json()
}

/// Asserts DreamFactory's error shape, `{"error":{"code","context","message"}}`
/// with the status as its code; returns the message and the context.
#[track_caller]
pub fn expect_error(response: &TestResponse, status: StatusCode) -> (String, Value) {
    let body = expect(response, status);
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("not an error: {body}"));
    let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["code", "context", "message"], "{body}");
    assert_eq!(error["code"], status.as_u16(), "{body}");
    (
        error["message"].as_str().unwrap().to_owned(),
        error["context"].clone(),
    )
}

/// The ids of a `{"resource":[…]}` answer.
pub fn ids(body: &Value) -> Vec<i64> {
    body["resource"]
        .as_array()
        .unwrap_or_else(|| panic!("no resource in {body}"))
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// Names of the apps in the database, sorted.
pub fn app_names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app.stored_apps().into_iter().map(|a| a.name).collect();
    names.sort();
    names
}
