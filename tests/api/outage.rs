//! A database outage under a running keyward: pages and verification answer
//! 503 (never a verdict about the key), and keyward recovers by itself once
//! the database is back. The test runs its own PostgreSQL cluster (initdb into
//! a temp folder, its own port) so it can stop and start it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use keyward::clock::ManualClock;
use keyward::config::DatabaseOutage;
use keyward::schema::limit_counters;
use serde_json::json;

use crate::harness::{
    Scrape, StatusCode, TempDir, TestApp, TestDb, TestResponse, api_client, eventually, free_port,
    skip_or_fail,
};
use crate::verify::forward_auth;

/// A throwaway PostgreSQL cluster; stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    /// initdb and postgres refuse to run as root: run them as `postgres`.
    as_postgres: bool,
}

impl Cluster {
    /// Creates the cluster; `None` (a loud skip outside CI) without initdb.
    fn init() -> Option<Cluster> {
        let Some(bin) = postgres_bin() else {
            skip_or_fail("initdb and pg_ctl not found (Debian package postgresql)");
            return None;
        };
        let dir = TempDir::new("keyward-pg");
        let as_postgres = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        if as_postgres {
            let id = |flag: &str| -> u32 {
                let out = Command::new("id")
                    .args([flag, "postgres"])
                    .output()
                    .expect("cannot run id");
                assert!(out.status.success(), "no postgres user to run initdb as");
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            };
            std::os::unix::fs::chown(&dir.0, Some(id("-u")), Some(id("-g")))
                .expect("cannot hand the temp folder to postgres");
        }
        let cluster = Cluster {
            bin,
            port: free_port(),
            dir,
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.0.join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        };
        command.current_dir(&self.dir.0);
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let output = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.0.display()
        );
        let log = self.dir.0.join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// `-m fast`: the server ends every connection and shuts down, as in a
    /// failover or a restart for maintenance.
    fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

/// The folder with initdb and pg_ctl: on PATH, else Debian's versioned folder.
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = on_path.into_iter().find(|d| has_both(d)) {
        return Some(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|dir| has_both(dir))
        .collect();
    versions.sort_by_key(|dir| {
        dir.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    versions.pop()
}

async fn post_verify(app: &TestApp, key: &str) -> TestResponse {
    let response = api_client()
        .post(app.url("/api/v1/verify"))
        .json(&json!({"key": key}))
        .send()
        .await
        .expect("request failed");
    TestResponse::read(response).await
}

/// A 503 in DreamFactory's error shape, and nothing that reads as a verdict.
fn assert_unavailable_json(response: &TestResponse, what: &str) {
    assert_eq!(
        response.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{what}: {}",
        response.body
    );
    let body: serde_json::Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", response.body));
    assert_eq!(body["error"]["code"], 503, "{what}: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot reach its database")),
        "{what}: {body}"
    );
    assert!(body.get("valid").is_none(), "{what}: {body}");
    assert!(!response.body.contains("NOT_FOUND"), "{what}: {body}");
}

#[tokio::test]
async fn a_database_outage_answers_503_and_keyward_recovers_without_a_restart() {
    let Some(cluster) = Cluster::init() else {
        return;
    };
    cluster.start();
    let app = TestApp::start(TestDb::existing(cluster.url()), |_| {}).await;
    app.login_as_default_admin().await;
    let service = app.create_service("db", "api").await;
    let role = app.create_role("reader").await;
    app.add_rule(role, Some(service), "*", &["GET"]).await;
    let (_, cached) = app.create_key("Cached app", Some(role)).await;
    let (_, uncached) = app.create_key("Quiet app", Some(role)).await;
    assert_eq!(app.verify(&json!({"key": cached})).await["code"], "VALID");
    // The form is open before the outage, as in a browser tab.
    assert_eq!(app.get("/api-keys/new").await.status, StatusCode::OK);

    cluster.stop();

    let page = app.get("/api-keys").await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        page.body
    );
    assert!(page.header("content-type").starts_with("text/html"));
    // The page made outside the handlers still carries the usual headers.
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(
        page.header("content-security-policy")
            .contains("default-src 'self'")
    );
    assert!(page.body.contains("Database unavailable"), "{}", page.body);
    assert!(
        page.body
            .contains("keyward cannot reach its database right now"),
        "{}",
        page.body
    );
    // A change sent during the outage is refused whole.
    let created = app
        .post_form(
            "/api-keys",
            &[
                ("name", "Made in the outage"),
                ("description", ""),
                ("is_active", "true"),
                ("location", "0"),
                ("role_id", &role.to_string()),
            ],
        )
        .await;
    assert_eq!(
        created.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        created.body
    );

    assert_unavailable_json(&post_verify(&app, &uncached).await, "verify");
    let auth = forward_auth(
        &app,
        "GET",
        "/api/v2/db/_table/x",
        &[("X-API-Key", &uncached)],
    )
    .await;
    assert_unavailable_json(&auth, "forward-auth");
    // Cached grants are dropped when the change poll cannot reach the
    // database, so a cached key is not judged either.
    eventually(
        Duration::from_secs(10),
        "the cached key to answer 503",
        || async {
            let response = post_verify(&app, &cached).await;
            (response.status != StatusCode::OK).then_some(response)
        },
    )
    .await;
    assert_unavailable_json(&post_verify(&app, &cached).await, "cached key");

    let readyz = app.get("/readyz").await;
    assert_eq!(readyz.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(readyz.body.starts_with("not ready: "), "{}", readyz.body);
    assert_eq!(app.get("/livez").await.status, StatusCode::OK);

    cluster.start();
    let back = Instant::now();
    eventually(
        Duration::from_secs(5),
        "pages and verification to work again",
        || async {
            let page = app.get("/api-keys").await;
            let verify = post_verify(&app, &uncached).await;
            (page.status == StatusCode::OK
                && verify.status == StatusCode::OK
                && verify.body.contains("\"VALID\""))
            .then_some(())
        },
    )
    .await;
    let recovered = back.elapsed();
    assert!(
        recovered <= Duration::from_secs(5),
        "recovery took {recovered:?}"
    );
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    let auth = forward_auth(
        &app,
        "GET",
        "/api/v2/db/_table/x",
        &[("X-API-Key", &uncached)],
    )
    .await;
    assert_eq!(auth.status, StatusCode::OK, "{}", auth.body);
    // Still signed in, and the refused key was not half-made.
    let list = app.get("/api-keys").await;
    assert!(list.body.contains("Quiet app"), "{}", list.body);
    assert!(!list.body.contains("Made in the outage"), "{}", list.body);
}

/// Limits while the database is away, as the operator chose: with
/// `--database-outage allow` a cached key goes on being judged, its rate
/// limit counted by this instance alone (and written once the database is
/// back); with `refuse` (the default) it answers 503 like everything else.
#[tokio::test]
async fn limits_follow_the_outage_choice() {
    let Some(cluster) = Cluster::init() else {
        return;
    };
    cluster.start();
    // One clock for both instances: the test stays in one window.
    let clock = Arc::new(ManualClock::at(
        chrono::NaiveDateTime::parse_from_str("2027-03-01 12:00:05", "%Y-%m-%d %H:%M:%S").unwrap(),
    ));
    let shared = clock.clone();
    let allow = TestApp::start(TestDb::existing(cluster.url()), move |settings| {
        settings.clock = shared;
        settings.database_outage = DatabaseOutage::Allow;
    })
    .await;
    let shared = clock.clone();
    let refuse = TestApp::start(TestDb::existing(cluster.url()), move |settings| {
        settings.clock = shared;
    })
    .await;
    allow.login_as_default_admin().await;
    let service = allow.create_service("db", "api").await;
    let role = allow.create_role("reader").await;
    allow.add_rule(role, Some(service), "*", &["GET"]).await;
    let (app_id, key) = allow.create_key("Limited app", Some(role)).await;
    let (_, uncached) = allow.create_key("Quiet app", Some(role)).await;
    let saved = allow
        .post_form(
            &format!("/api-keys/{app_id}"),
            &[
                ("name", "Limited app"),
                ("is_active", "true"),
                ("location", "0"),
                ("role_id", &role.to_string()),
                ("rate_limits", "6/minute"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // `allow` has the key in its cache (a look-up after a change may not be
    // cached, so until a verification is answered from it) and `refuse` has
    // judged it too.
    let hits = || async {
        Scrape::of(&allow)
            .await
            .value("keyward_verify_cache_hits_total", &[])
    };
    let admitted = std::sync::atomic::AtomicUsize::new(0);
    let cached = || {
        eventually(Duration::from_secs(5), "the key to be cached", || async {
            // Forward-auth, so the service it names is cached too.
            let before = hits().await;
            let auth =
                forward_auth(&allow, "GET", "/api/v2/db/_table/x", &[("X-API-Key", &key)]).await;
            assert_eq!(auth.status, StatusCode::OK, "{}", auth.body);
            admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (hits().await > before).then_some(())
        })
    };
    cached().await;
    // A hit may still come before `allow` reads the edit's change (it reads
    // the log four times a second), which then drops the key: once it has
    // surely read it, the key is cached again and stays.
    tokio::time::sleep(Duration::from_millis(800)).await;
    cached().await;
    assert_eq!(refuse.verify(&json!({"key": key})).await["code"], "VALID");
    let window = |conn: &mut keyward::db::DbConn| {
        limit_counters::table
            .filter(limit_counters::app_id.eq(app_id))
            .filter(limit_counters::window_seconds.eq(60))
            .select(limit_counters::count)
            .first::<i64>(conn)
            .optional()
    };

    cluster.stop();
    // Both see the database gone (their change polls fail) ...
    for app in [&allow, &refuse] {
        eventually(Duration::from_secs(10), "readiness to fail", || async {
            (app.get("/readyz").await.status == StatusCode::SERVICE_UNAVAILABLE).then_some(())
        })
        .await;
    }
    // ... then `refuse` answers 503 for the key, and `allow` judges it on
    // the counts it knows, to the last of the six and then RATE_LIMITED.
    eventually(Duration::from_secs(10), "refuse to answer 503", || async {
        (post_verify(&refuse, &key).await.status == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    assert_unavailable_json(&post_verify(&refuse, &key).await, "refuse");
    loop {
        let response = post_verify(&allow, &key).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let answer: serde_json::Value = serde_json::from_str(&response.body).unwrap();
        match answer["code"].as_str() {
            Some("VALID") => admitted.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            Some("RATE_LIMITED") => break,
            _ => panic!("{answer}"),
        };
    }
    assert_eq!(
        admitted.into_inner(),
        6,
        "allow admitted the six of the window, as far as it knew"
    );
    let auth = forward_auth(&allow, "GET", "/api/v2/db/_table/x", &[("X-API-Key", &key)]).await;
    assert_eq!(auth.status, StatusCode::TOO_MANY_REQUESTS, "{}", auth.body);
    // A key it never judged cannot be answered without the database.
    assert_unavailable_json(&post_verify(&allow, &uncached).await, "uncached");

    cluster.start();
    // What `allow` counted alone reaches the shared count: its six, and the
    // one `refuse` counted, which `allow` could not know of meanwhile (the
    // price of going on without the database).
    eventually(
        Duration::from_secs(10),
        "the outage's counts to be written",
        || async {
            let mut conn = allow.pool.get().ok()?;
            (window(&mut conn).ok()?? == 7).then_some(())
        },
    )
    .await;
    eventually(Duration::from_secs(5), "refuse to judge again", || async {
        let response = post_verify(&refuse, &key).await;
        (response.status == StatusCode::OK).then_some(response)
    })
    .await;
    let answer = refuse.verify(&json!({"key": key})).await;
    assert_eq!(answer["code"], "RATE_LIMITED", "{answer}");
}
