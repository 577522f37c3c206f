//! keyward running for a test: `TestApp` (a server on a free port with its
//! own database and a browser-like HTTP client), `spawn_app`, restarts, a
//! second instance on the same database (`Peer`), free ports, polling with
//! `eventually`, and the macros that run a test on SQLite and on PostgreSQL
//! (`each_backend!`, `storage_test!`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyward::config::Settings;
use keyward::db::DbPool;
use keyward::startup::Application;

use super::db::{Backend, TestDb};
use super::http::{api_client, verify_at};

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
    pub(super) csrf: Mutex<Option<String>>,
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
                let Some($db) = $crate::harness::TestDb::new($crate::harness::Backend::Sqlite)
                else {
                    return;
                };
                $body.await
            }

            #[tokio::test]
            async fn postgres() {
                let Some($db) = $crate::harness::TestDb::new($crate::harness::Backend::Postgres)
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
                    $crate::harness::spawn_app($crate::harness::Backend::Sqlite).await
                else {
                    return;
                };
                $body.await
            }

            #[tokio::test]
            async fn postgres() {
                #[allow(unused_mut)]
                let Some(mut $app) =
                    $crate::harness::spawn_app($crate::harness::Backend::Postgres).await
                else {
                    return;
                };
                $body.await
            }
        }
    };
}
