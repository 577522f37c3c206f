//! Signing in and the sessions it makes: the default administrator, the
//! one-time setup URL, the login form, whether the client is signed in, its
//! session cookie and the stored session rows, and `Visitor`, another cookie
//! jar for acting as a second person or from a second device.

use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use reqwest::cookie::CookieStore;

use super::http::{StatusCode, TestResponse, login_next};
use super::server::TestApp;

/// The administrator `login_as_default_admin` creates.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// The `keyward_session` cookie the client holds, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let url = reqwest::Url::parse(&self.address).unwrap();
        let cookies = self.jar.cookies(&url)?;
        cookies
            .to_str()
            .ok()?
            .split("; ")
            .find_map(|c| c.strip_prefix("keyward_session="))
            .map(str::to_owned)
    }

    /// A GET from a second client that presents only the given session cookie
    /// (e.g. one copied before logout).
    pub async fn get_with_session_cookie(&self, path: &str, cookie: &str) -> TestResponse {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = client
            .get(self.url(path))
            .header("cookie", format!("keyward_session={cookie}"))
            .send()
            .await
            .expect("request failed");
        TestResponse::read(response).await
    }

    /// The setup URL's path and query (`/setup?token=...`); panics once an
    /// administrator exists.
    pub fn setup_path(&self) -> String {
        let url = self
            .setup_url
            .as_deref()
            .expect("no setup URL: an administrator exists");
        url.strip_prefix(&self.address)
            .expect("the setup URL is not on this server")
            .to_owned()
    }

    /// The token of the setup URL.
    pub fn setup_token(&self) -> String {
        let path = self.setup_path();
        path.split_once("token=")
            .expect("setup URL without a token")
            .1
            .to_owned()
    }

    /// Signs in through the login form; returns keyward's answer.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Creates `ADMIN_EMAIL` and signs in as that administrator.
    pub async fn login_as_default_admin(&self) -> i32 {
        let id = self.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "sign-in failed: {}",
            response.body
        );
        id
    }

    pub async fn logout(&self) -> TestResponse {
        self.post_form("/logout", &[]).await
    }

    /// True when the client's session is signed in: the console's home page
    /// opens instead of sending it to the login page.
    pub async fn is_signed_in(&self) -> bool {
        let home = self.get("/").await;
        assert_eq!(home.status, StatusCode::SEE_OTHER, "{}", home.body);
        login_next(home.header("location")).is_none()
    }

    /// Rows of the `sessions` table: (id, state as a key → JSON value map).
    pub fn session_rows(&self) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
        use keyward::schema::sessions;
        let mut conn = self.pool.get().expect("no database connection");
        let rows: Vec<(String, String)> = sessions::table
            .select((sessions::id, sessions::state))
            .load(&mut *conn)
            .expect("cannot read sessions");
        rows.into_iter()
            .map(|(id, state)| {
                // actix-session stores each value JSON-encoded inside a string map.
                let raw: std::collections::HashMap<String, String> =
                    serde_json::from_str(&state).expect("session state is not JSON");
                let state = raw
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v)),
                        )
                    })
                    .collect();
                (id, state)
            })
            .collect()
    }

    /// Ids of the session rows that belong to a signed-in administrator.
    pub fn signed_in_session_ids(&self) -> Vec<String> {
        self.session_rows()
            .into_iter()
            .filter(|(_, state)| state.contains_key("admin_id"))
            .map(|(id, _)| id)
            .collect()
    }
}

/// Another visitor of the console: a cookie jar, an HTTP client using it and
/// the CSRF token of the last page it was shown. `TestApp::swap_visitor` puts
/// it in the app's place, so the app's helpers act as this visitor (e.g. the
/// same administrator signed in twice, or two administrators at once).
pub struct Visitor {
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub csrf: Option<String>,
}

impl Default for Visitor {
    /// A visitor with no cookies yet.
    fn default() -> Visitor {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build the HTTP client");
        Visitor {
            client,
            jar,
            csrf: None,
        }
    }
}

impl TestApp {
    /// Exchanges the visitor this app's requests come from with `visitor`;
    /// call it again to switch back.
    pub fn swap_visitor(&mut self, visitor: &mut Visitor) {
        std::mem::swap(&mut self.client, &mut visitor.client);
        std::mem::swap(&mut self.jar, &mut visitor.jar);
        std::mem::swap(
            self.csrf.get_mut().expect("CSRF token lock poisoned"),
            &mut visitor.csrf,
        );
    }

    /// A new visitor signed in as `email`; the app keeps its own client.
    pub async fn signed_in_visitor(&mut self, email: &str, password: &str) -> Visitor {
        let mut visitor = Visitor::default();
        self.swap_visitor(&mut visitor);
        let response = self.login(email, password).await;
        self.swap_visitor(&mut visitor);
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "sign-in as {email} failed: {}",
            response.body
        );
        visitor
    }
}
