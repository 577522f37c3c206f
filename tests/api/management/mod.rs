//! The management API (`/api/v1/…` with an admin API token): each feature's
//! endpoints on SQLite and PostgreSQL (`apps`, `roles`, `services`, `admins`,
//! `audit`), the token wall and the tokens' life (`tokens`), the tokens page
//! in Chromium (`browser`), `keyward token create` (`cli`), the OpenAPI
//! document and reference page (`docs`), and schemathesis driving every
//! operation of the document (`schemathesis`).

mod admins;
mod apps;
mod audit;
mod browser;
mod cli;
mod docs;
mod roles;
mod schemathesis;
mod services;
mod tokens;

use serde_json::Value;

use crate::harness::{StatusCode, TestApp, TestResponse, api_client};

/// A program calling the management API with one token, as a pipeline does:
/// no cookies, `Authorization: Bearer`.
pub struct Api {
    pub address: String,
    pub token: String,
    client: reqwest::Client,
}

impl Api {
    pub fn new(address: &str, token: &str) -> Api {
        Api {
            address: address.to_owned(),
            token: token.to_owned(),
            client: api_client(),
        }
    }

    /// Signs in as the default administrator, makes a token of `scope`
    /// (`"read"` or `"write"`) on the tokens page, and returns a client with it.
    pub async fn for_app(app: &TestApp, scope: &str) -> Api {
        if !app.is_signed_in().await {
            app.login_as_default_admin().await;
        }
        let name = format!("tests {scope} {}", rand_suffix());
        let (_, token) = app.create_token(&name, scope).await;
        Api::new(&app.address, &token)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request failed");
        TestResponse::read(response).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
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
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Asserts `response` has `status` and returns its JSON body.
#[track_caller]
pub fn expect(response: &TestResponse, status: StatusCode) -> Value {
    assert_eq!(response.status, status, "{}", response.body);
    if status == StatusCode::NO_CONTENT {
        assert!(response.body.is_empty(), "{}", response.body);
        return Value::Null;
    }
    assert!(
        response
            .header("content-type")
            .starts_with("application/json"),
        "{:?}",
        response.headers
    );
    response.json()
}

/// Asserts a DreamFactory-shaped error with `status`, and returns its
/// `context` (per-field messages; `Null` when it has none) and message.
#[track_caller]
pub fn expect_error(response: &TestResponse, status: StatusCode) -> (Value, String) {
    let body = expect(response, status);
    assert_eq!(body["error"]["code"], status.as_u16(), "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"))
        .to_owned();
    (body["error"]["context"].clone(), message)
}
