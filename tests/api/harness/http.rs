//! HTTP as the tests speak it: `TestResponse` (an answer read whole), the
//! app's own client with the CSRF token of the last page it showed (`send`,
//! `get`, `follow`, `post_form`), URLs (`login_next`, `query`), and the
//! cookie-less client an API client or a proxy has, with `POST /api/v1/verify`.

use std::time::Duration;

use reqwest::header::HeaderMap;

pub use reqwest::StatusCode;

use super::html::html_unescape;
use super::server::TestApp;

/// A response with its body read, so a test can look at all of it.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub async fn read(response: reqwest::Response) -> TestResponse {
        TestResponse {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("cannot read the body"),
        }
    }

    /// A header's value; panics if it is missing or not text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:#?}"))
            .to_str()
            .expect("header is not text")
    }

    /// Where a redirect points; panics unless this is a 303 See Other.
    pub fn location(&self) -> &str {
        assert_eq!(
            self.status,
            StatusCode::SEE_OTHER,
            "expected a redirect; body: {}",
            self.body
        );
        self.header("location")
    }

    pub fn assert_redirects_to(&self, location: &str) {
        assert_eq!(self.location(), location);
    }

    /// The value of the `<input>` named `name`, HTML entities decoded.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let start = self.body[..at].rfind('<')?;
        let end = at + self.body[at..].find('>')?;
        let tag = &self.body[start..end];
        let value = tag.split_once(" value=\"")?.1;
        let value = &value[..value.find('"')?];
        Some(html_unescape(value))
    }

    /// The value of the `<input>` with this `id`, HTML entities decoded.
    pub fn input_value_of_id(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let start = self.body[..at].rfind('<')?;
        let end = at + self.body[at..].find('>')?;
        let value = self.body[start..end].split_once(" value=\"")?.1;
        Some(html_unescape(&value[..value.find('"')?]))
    }

    /// The body as JSON; panics (with the body) when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), {}: {}", self.status, self.body))
    }

    /// The CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> Option<String> {
        self.input_value("csrf_token").filter(|t| !t.is_empty())
    }
}

/// The `next` a login redirect carries, decoded (`/login?next=%2Fapi-keys` →
/// `/api-keys`); `None` when `location` is not the login page.
pub fn login_next(location: &str) -> Option<String> {
    let url = reqwest::Url::parse("http://keyward.test")
        .unwrap()
        .join(location)
        .ok()?;
    if url.path() != "/login" {
        return None;
    }
    url.query_pairs()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
}

/// A URL query string, form-encoded: `query(&[("next", "/a b")])` → `next=%2Fa+b`.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://keyward.test/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

/// An HTTP client as an API client or a reverse proxy has: no cookies, no redirects.
pub fn api_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("cannot build the HTTP client")
}

/// `POST {address}/api/v1/verify` with `body`; asserts a 200 and returns its JSON.
pub async fn verify_at(
    client: &reqwest::Client,
    address: &str,
    body: &serde_json::Value,
) -> serde_json::Value {
    let response = client
        .post(format!("{address}/api/v1/verify"))
        .json(body)
        .send()
        .await
        .expect("request failed");
    let response = TestResponse::read(response).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "verify {body} answered {}",
        response.body
    );
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("verify answered non-JSON ({e}): {}", response.body))
}

impl TestApp {
    /// Sends a request and reads the whole answer; remembers a CSRF token the
    /// page carries, as a browser keeps the form it shows.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        let response = TestResponse::read(request.send().await.expect("request failed")).await;
        if let Some(token) = response.csrf_token() {
            *self.csrf.lock().unwrap() = Some(token);
        }
        response
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.client.get(self.url(path))).await
    }

    /// Follows redirects from `response` as a browser would, up to a limit.
    pub async fn follow(&self, mut response: TestResponse) -> TestResponse {
        for _ in 0..10 {
            if !response.status.is_redirection() {
                return response;
            }
            let location = response.header("location").to_owned();
            response = self.get(&location).await;
        }
        panic!("too many redirects");
    }

    /// A form post carrying the session's CSRF token, as keyward's own forms do.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let token = self.csrf_token().await;
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        let response = self.post_form_raw(path, &fields).await;
        // Signing in or out starts a new session with a new token.
        if response.status == StatusCode::SEE_OTHER
            && ["/login", "/logout", "/setup"].contains(&path)
        {
            self.forget_csrf_token();
        }
        response
    }

    /// A form post exactly as given: no CSRF token is added.
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        self.send(self.client.post(self.url(path)).form(fields))
            .await
    }

    /// The current session's CSRF token: from the last page that showed one,
    /// else from the login page (or, signed in, the page it leads to).
    pub async fn csrf_token(&self) -> String {
        if let Some(token) = self.csrf.lock().unwrap().clone() {
            return token;
        }
        let page = self.get("/login").await;
        if let Some(token) = page.csrf_token() {
            return token;
        }
        self.follow(page)
            .await
            .csrf_token()
            .expect("neither the login page nor the page it leads to shows a CSRF token")
    }

    pub fn forget_csrf_token(&self) {
        *self.csrf.lock().unwrap() = None;
    }

    /// `POST /api/v1/verify` from an API client; asserts a 200, returns its JSON.
    pub async fn verify(&self, body: &serde_json::Value) -> serde_json::Value {
        verify_at(&api_client(), &self.address, body).await
    }
}
