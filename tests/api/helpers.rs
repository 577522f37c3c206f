//! The test harness: a fresh database per test (SQLite file or PostgreSQL
//! database), keyward running on a free port, and an HTTP client with a cookie
//! jar that follows no redirects, so tests see what a browser would be told.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use keyward::auth::admins;
use keyward::auth::password::{Email, Password};
use keyward::config::Settings;
use keyward::db::DbPool;
use keyward::startup::Application;
use reqwest::cookie::CookieStore;
use reqwest::header::HeaderMap;

pub use keyward::db::Backend;
pub use reqwest::StatusCode;

/// The administrator `login_as_default_admin` creates.
pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// Where the PostgreSQL tests create their databases (trust auth).
const POSTGRES_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// One test's own database, removed again when the test ends.
pub struct TestDb {
    /// What keyward's `--database-url` takes.
    pub url: String,
    /// SQLite: the temp folder holding the file (and its -wal and -shm).
    _sqlite_dir: Option<TempDir>,
    postgres_database: Option<String>,
}

impl TestDb {
    /// A fresh, empty database; `None` when PostgreSQL is not reachable outside CI.
    pub fn new(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = TempDir::new("keyward-test");
                Some(TestDb {
                    url: dir.0.join("keyward.db").display().to_string(),
                    _sqlite_dir: Some(dir),
                    postgres_database: None,
                })
            }
            Backend::Postgres => {
                let mut server = match postgres_server() {
                    Ok(conn) => conn,
                    Err(error) => {
                        skip_or_fail(&format!(
                            "PostgreSQL not reachable at 127.0.0.1:5432 as user postgres ({error})"
                        ));
                        return None;
                    }
                };
                let name = format!("keyward_test_{}", &keyward::random::token()[..16]);
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut server)
                    .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
                Some(TestDb {
                    url: format!("{POSTGRES_SERVER}/{name}"),
                    _sqlite_dir: None,
                    postgres_database: Some(name),
                })
            }
        }
    }
}

impl TestDb {
    /// A database this harness did not create and will not drop (e.g. one on
    /// a PostgreSQL cluster the test runs itself).
    pub fn existing(url: impl Into<String>) -> TestDb {
        TestDb {
            url: url.into(),
            _sqlite_dir: None,
            postgres_database: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_database {
            // FORCE ends the connections a stopped server's pool still holds.
            let dropped = postgres_server().and_then(|mut conn| {
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .map_err(|e| e.to_string())
            });
            if let Err(error) = dropped {
                let _ = writeln!(
                    std::io::stderr(),
                    "warning: test database {name} not dropped: {error}"
                );
            }
        }
    }
}

fn postgres_server() -> Result<PgConnection, String> {
    PgConnection::establish(&format!("{POSTGRES_SERVER}/postgres?connect_timeout=5")).map_err(|e| {
        e.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// True in CI, where a missing service or browser is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Outside CI a test whose service is missing passes with a loud notice;
/// in CI it fails.
pub fn skip_or_fail(reason: &str) {
    if in_ci() {
        panic!("{reason}; CI=true, so this is a failure, not a skip");
    }
    // Straight to stderr: libtest swallows `eprintln!` of passing tests.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {reason} (the test passes without running; CI=true makes this fail)"
    );
}

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

    /// The CSRF token of the first form on the page.
    pub fn csrf_token(&self) -> Option<String> {
        self.input_value("csrf_token").filter(|t| !t.is_empty())
    }
}

/// Decodes the entities askama writes (`&amp;`, `&quot;`, `&#x27;`, ...).
pub fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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

/// A running keyward on its own database, and a browser-like HTTP client.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    /// The one-time setup URL while no administrator exists.
    pub setup_url: Option<String>,
    pub pool: DbPool,
    pub handle: actix_web::dev::ServerHandle,
    settings: Settings,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    csrf: Mutex<Option<String>>,
    // Last, so the server has been told to stop before its database goes.
    pub db: TestDb,
}

/// Starts keyward on a fresh database of `backend`; `None` when that backend
/// is unavailable outside CI (the test then passes as skipped).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As `spawn_app`, with settings changed first (e.g. `cookie_secure`).
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    let db = TestDb::new(backend)?;
    Some(TestApp::start(db, configure).await)
}

struct Running {
    address: String,
    setup_url: Option<String>,
    pool: DbPool,
    handle: actix_web::dev::ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn run(settings: Settings) -> Running {
    let app = Application::build(settings)
        .await
        .expect("keyward failed to start");
    Running {
        address: format!("http://{}", app.address()),
        setup_url: app.setup_url(),
        pool: app.pool().clone(),
        handle: app.handle(),
        server: tokio::spawn(app.run_until_stopped()),
    }
}

impl TestApp {
    /// The backend this app's database is on.
    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.settings.database_url).expect("a test database URL")
    }

    /// Starts keyward on an existing test database (e.g. one the CLI prepared).
    pub async fn start(db: TestDb, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = Settings::for_database(db.url.clone());
        // Two cores: one worker and a small pool per test server is plenty.
        settings.workers = 1;
        settings.pool_size = 4;
        // Forward-auth tests ask as nginx does unless they choose another proxy.
        settings.proxy = Some(keyward::proxy::Proxy::Nginx);
        configure(&mut settings);
        let running = run(settings.clone()).await;
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build the HTTP client");
        TestApp {
            address: running.address,
            client,
            jar,
            setup_url: running.setup_url,
            pool: running.pool,
            handle: running.handle,
            settings,
            server: running.server,
            csrf: Mutex::new(None),
            db,
        }
    }

    /// Stops the server and starts a new one on the same database, keeping the
    /// cookie jar (cookies are not bound to a port, so the new one gets them).
    pub async fn restart(&mut self) {
        self.handle.stop(false).await;
        (&mut self.server)
            .await
            .expect("server task failed")
            .expect("server failed");
        let running = run(self.settings.clone()).await;
        self.address = running.address;
        self.setup_url = running.setup_url;
        self.pool = running.pool;
        self.handle = running.handle;
        self.server = running.server;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

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

    pub fn admin_exists(&self) -> bool {
        let mut conn = self.pool.get().expect("no database connection");
        admins::any_exist(&mut conn).expect("cannot read admins")
    }

    /// Creates an administrator directly in the database, as `keyward admin create` does.
    pub fn create_admin(&self, email: &str, password: &str) -> i32 {
        let hash = Password::parse(password).unwrap().hash().unwrap();
        let mut conn = self.pool.get().expect("no database connection");
        admins::create(
            &mut conn,
            &Email::parse(email).unwrap(),
            "Test Admin",
            &hash,
            &keyward::audit::Actor::command_line(),
            chrono::Utc::now().naive_utc(),
        )
        .expect("cannot create the administrator")
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

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the database is dropped after.
        drop(self.handle.stop(false));
    }
}

/// Polls `check` until it returns `Some`, failing after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh temp folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("{prefix}-{}", &keyward::random::token()[..16]));
        std::fs::create_dir_all(&dir).expect("cannot create a temp folder");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `#[tokio::test]` per backend on a fresh database:
/// `each_backend!(name, |db| async move { ... })` makes `name::sqlite` and
/// `name::postgres`, each given its own `TestDb`.
macro_rules! each_backend {
    ($name:ident, |$db:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let Some($db) = $crate::helpers::TestDb::new($crate::helpers::Backend::Sqlite)
                else {
                    return;
                };
                $body.await
            }

            #[tokio::test]
            async fn postgres() {
                let Some($db) = $crate::helpers::TestDb::new($crate::helpers::Backend::Postgres)
                else {
                    return;
                };
                $body.await
            }
        }
    };
}

/// One `#[tokio::test]` per backend with keyward running on a fresh database:
/// `storage_test!(name, |app| async move { ... })` makes `name::sqlite` and
/// `name::postgres`, each given its own `TestApp`.
macro_rules! storage_test {
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                #[allow(unused_mut)]
                let Some(mut $app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await
                else {
                    return;
                };
                $body.await
            }

            #[tokio::test]
            async fn postgres() {
                #[allow(unused_mut)]
                let Some(mut $app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                else {
                    return;
                };
                $body.await
            }
        }
    };
}

// ---- Services, roles, rules and keys, set up through the console's forms ----

/// The key on the page that shows a new key once (`<input id="api-key" value="kw_...">`).
pub fn shown_api_key(page: &TestResponse) -> Option<String> {
    let at = page.body.find("id=\"api-key\"")?;
    let start = page.body[..at].rfind('<')?;
    let end = at + page.body[at..].find('>')?;
    let value = page.body[start..end].split_once(" value=\"")?.1;
    Some(html_unescape(&value[..value.find('"')?]))
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
    /// Creates an active service through its form; returns its id.
    pub async fn create_service(&self, name: &str, kind: &str) -> i32 {
        let label = format!("The {name} service");
        let response = self
            .post_form(
                "/services",
                &[
                    ("name", name),
                    ("label", &label),
                    ("description", ""),
                    ("kind", kind),
                    ("is_active", "true"),
                ],
            )
            .await;
        response.assert_redirects_to("/services");
        self.service_id(name)
    }

    /// The id of the service named `name`.
    pub fn service_id(&self, name: &str) -> i32 {
        use keyward::schema::services;
        let mut conn = self.pool.get().expect("no database connection");
        services::table
            .filter(services::name.eq(name))
            .select(services::id)
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("no service {name}: {e}"))
    }

    /// Creates an active role through its form; returns its id.
    pub async fn create_role(&self, name: &str) -> i32 {
        let response = self
            .post_form(
                "/roles",
                &[("name", name), ("description", ""), ("is_active", "true")],
            )
            .await;
        response.assert_redirects_to("/roles");
        self.role_id(name)
    }

    /// The id of the role named `name`.
    pub fn role_id(&self, name: &str) -> i32 {
        use keyward::schema::roles;
        let mut conn = self.pool.get().expect("no database connection");
        roles::table
            .filter(roles::name.eq(name))
            .select(roles::id)
            .first(&mut *conn)
            .unwrap_or_else(|e| panic!("no role {name}: {e}"))
    }

    /// Adds a rule to a role through the "Add rule" form (no JavaScript):
    /// `service_id` `None` is "All services", `verbs` like `["GET", "POST"]`.
    /// Returns the new rule's id.
    pub async fn add_rule(
        &self,
        role_id: i32,
        service_id: Option<i32>,
        component: &str,
        verbs: &[&str],
    ) -> i32 {
        use keyward::schema::role_rules;
        let service = service_id.map(|id| id.to_string()).unwrap_or_default();
        let verb_fields: Vec<String> = verbs
            .iter()
            .map(|v| format!("verb_{}", v.to_lowercase()))
            .collect();
        let mut fields = vec![("service_id", service.as_str()), ("component", component)];
        fields.extend(verb_fields.iter().map(|f| (f.as_str(), "on")));
        let response = self
            .post_form(&format!("/roles/{role_id}/rules"), &fields)
            .await;
        response.assert_redirects_to(&format!("/roles/{role_id}#rules"));
        let mut conn = self.pool.get().expect("no database connection");
        role_rules::table
            .filter(role_rules::role_id.eq(role_id))
            .order(role_rules::id.desc())
            .select(role_rules::id)
            .first(&mut *conn)
            .expect("the new rule is not in the database")
    }

    /// Creates an active API key ("No Storage Required") with `role_id` as its
    /// default role; returns the app's id and the key its page shows once.
    pub async fn create_key(&self, name: &str, role_id: Option<i32>) -> (i32, String) {
        let role = role_id.map(|id| id.to_string()).unwrap_or_default();
        let response = self
            .post_form(
                "/api-keys",
                &[
                    ("name", name),
                    ("description", ""),
                    ("is_active", "true"),
                    ("location", "0"),
                    ("role_id", &role),
                ],
            )
            .await;
        let location = response.location().to_owned();
        let app_id = location
            .strip_prefix("/api-keys/")
            .and_then(|rest| rest.strip_suffix("/key"))
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("unexpected redirect after creating a key: {location}"));
        let page = self.get(&location).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let key = shown_api_key(&page)
            .unwrap_or_else(|| panic!("the key page shows no key: {}", page.body));
        (app_id, key)
    }

    /// Flips an API key's Active toggle on the list (without JavaScript).
    pub async fn set_key_active(&self, app_id: i32, active: bool) {
        let response = self
            .post_form(
                &format!("/api-keys/{app_id}/active"),
                &[("active", if active { "true" } else { "false" })],
            )
            .await;
        response.assert_redirects_to("/api-keys");
    }

    /// `POST /api/v1/verify` from an API client; asserts a 200, returns its JSON.
    pub async fn verify(&self, body: &serde_json::Value) -> serde_json::Value {
        verify_at(&api_client(), &self.address, body).await
    }

    /// Starts a second keyward on this app's database, as a load-balanced peer.
    pub async fn start_peer(&self) -> Peer {
        let running = run(self.settings.clone()).await;
        Peer {
            address: running.address,
            client: api_client(),
            handle: running.handle,
            _server: running.server,
        }
    }
}

/// Another keyward instance on a `TestApp`'s database; stopped on drop (so
/// declare it after the `TestApp` whose database it uses).
pub struct Peer {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: reqwest::Client,
    pub handle: actix_web::dev::ServerHandle,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Peer {
    /// `POST /api/v1/verify` on this instance; asserts a 200, returns its JSON.
    pub async fn verify(&self, body: &serde_json::Value) -> serde_json::Value {
        verify_at(&self.client, &self.address, body).await
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago, for a server the test
/// starts as a separate process (nginx, chromedriver).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free port")
        .port()
}

/// A browser of its own: a cookie jar, an HTTP client using it and the CSRF
/// token of the last page it showed. `TestApp::swap_browser` puts it in the
/// app's place, so the app's helpers act as this browser (e.g. the same
/// administrator signed in twice, or two administrators at once).
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    pub csrf: Option<String>,
}

impl Default for Browser {
    /// A browser with no cookies yet.
    fn default() -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("cannot build the HTTP client");
        Browser {
            client,
            jar,
            csrf: None,
        }
    }
}

impl TestApp {
    /// Exchanges the browser this app's requests go through with `browser`;
    /// call it again to switch back.
    pub fn swap_browser(&mut self, browser: &mut Browser) {
        std::mem::swap(&mut self.client, &mut browser.client);
        std::mem::swap(&mut self.jar, &mut browser.jar);
        std::mem::swap(
            self.csrf.get_mut().expect("CSRF token lock poisoned"),
            &mut browser.csrf,
        );
    }

    /// A new browser signed in as `email`; the app keeps its own browser.
    pub async fn signed_in_browser(&mut self, email: &str, password: &str) -> Browser {
        let mut browser = Browser::default();
        self.swap_browser(&mut browser);
        let response = self.login(email, password).await;
        self.swap_browser(&mut browser);
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "sign-in as {email} failed: {}",
            response.body
        );
        browser
    }
}
