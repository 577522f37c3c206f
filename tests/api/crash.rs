//! Crash safety with the real binary: a stream of API key creates, keyward
//! killed with SIGKILL in the middle of it, then restarted on the same
//! database. Every create that was acknowledged must be there, complete, and
//! a SQLite file must pass `PRAGMA integrity_check`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use keyward::schema::apps;

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, KeywardProcess, StatusCode, TestDb, TestResponse,
    eventually,
};

/// Creates acknowledged before the kill: enough that writes are in flight.
const ACKNOWLEDGED_BEFORE_KILL: usize = 40;
/// Clients creating keys at once.
const WRITERS: usize = 4;

fn create_admin(url: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args([
            "--database-url",
            url,
            "admin",
            "create",
            "--email",
            ADMIN_EMAIL,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run keyward admin create");
    writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A browser signed in to `address`: its client and the console's CSRF token.
async fn sign_in(address: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let get = |path: &str| {
        let request = client.get(format!("{address}{path}"));
        async move { TestResponse::read(request.send().await.expect("GET failed")).await }
    };
    let token = get("/login").await.csrf_token().expect("no CSRF token");
    let response = client
        .post(format!("{address}/login"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let token = get("/api-keys/new")
        .await
        .csrf_token()
        .expect("no CSRF token on the form");
    (client, token)
}

/// Creates keys named `w{writer}-{n}` until the server stops answering;
/// records each name whose 303 came back.
async fn write_until_cut_off(
    client: reqwest::Client,
    address: String,
    token: String,
    writer: usize,
    acknowledged: Arc<Mutex<Vec<String>>>,
) {
    for n in 0.. {
        let name = format!("w{writer}-{n}");
        let sent = client
            .post(format!("{address}/api-keys"))
            .form(&[
                ("name", name.as_str()),
                ("description", "created before the crash"),
                ("is_active", "true"),
                ("location", "3"),
                ("web_path", "/srv/app"),
                ("csrf_token", &token),
            ])
            .send()
            .await;
        match sent {
            Ok(response) if response.status() == StatusCode::SEE_OTHER => {
                acknowledged.lock().unwrap().push(name);
            }
            Ok(response) => panic!("create {name} answered {}", response.status()),
            // Killed: the connection was refused or cut mid-request.
            Err(_) => return,
        }
    }
}

type StoredApp = (String, String, i32, Option<String>, String, String);

fn stored_apps(url: &str) -> Vec<StoredApp> {
    let (pool, _) = keyward::db::connect(url, 1).expect("cannot open the database again");
    let mut conn = pool.get().unwrap();
    apps::table
        .select((
            apps::name,
            apps::description,
            apps::location,
            apps::path,
            apps::key_hash,
            apps::key_prefix,
        ))
        .load(&mut *conn)
        .expect("cannot read apps")
}

/// The names of the apps the audit log says were created.
fn created_in_audit_log(url: &str) -> Vec<String> {
    use keyward::schema::audit_events;
    let (pool, _) = keyward::db::connect(url, 1).expect("cannot open the database again");
    let mut conn = pool.get().unwrap();
    audit_events::table
        .filter(audit_events::object_kind.eq("app"))
        .filter(audit_events::action.eq("created"))
        .select(audit_events::object_name)
        .load(&mut *conn)
        .expect("cannot read the audit log")
}

async fn crash_and_recover(backend: Backend) {
    let Some(db) = TestDb::new(backend) else {
        return;
    };
    create_admin(&db.url);
    let mut server = KeywardProcess::start(&db.url, &[]).await;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, token) = sign_in(&server.address).await;
        writers.push(tokio::spawn(write_until_cut_off(
            client,
            server.address.clone(),
            token,
            writer,
            acknowledged.clone(),
        )));
    }
    eventually(
        Duration::from_secs(60),
        "creates to be acknowledged",
        || async { (acknowledged.lock().unwrap().len() >= ACKNOWLEDGED_BEFORE_KILL).then_some(()) },
    )
    .await;
    server.kill();
    for writer in writers {
        writer.await.expect("a writer failed");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    if backend == Backend::Sqlite {
        let mut conn = SqliteConnection::establish(&db.url).expect("cannot open the SQLite file");
        #[derive(QueryableByName)]
        struct Check {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        let checks: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
            .load(&mut conn)
            .expect("integrity_check failed to run");
        let result: Vec<&str> = checks.iter().map(|c| c.integrity_check.as_str()).collect();
        assert_eq!(result, ["ok"]);
    }

    // keyward starts again on what the crash left, and serves it.
    let server = KeywardProcess::start(&db.url, &[]).await;
    let stored = stored_apps(&db.url);
    let names: Vec<&str> = stored.iter().map(|a| a.0.as_str()).collect();
    for name in &acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "acknowledged {name} was lost"
        );
    }
    // Nothing half-written: every app, acknowledged or not, is whole.
    for (name, description, location, path, key_hash, key_prefix) in &stored {
        assert_eq!(description, "created before the crash", "{name}");
        assert_eq!(
            (*location, path.as_deref()),
            (3, Some("/srv/app")),
            "{name}"
        );
        assert!(
            key_hash.len() == 64 && key_hash.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name} has no whole key hash"
        );
        assert!(key_prefix.starts_with("kw_"), "{name}");
    }
    assert!(
        stored.len() >= acknowledged.len(),
        "{} stored, {} acknowledged",
        stored.len(),
        acknowledged.len()
    );
    // Each app and its audit event were written in one transaction: the crash
    // left both or neither.
    let mut audited = created_in_audit_log(&db.url);
    audited.sort();
    let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    names.sort();
    assert_eq!(audited, names, "apps and their audit events differ");
    let (client, _) = sign_in(&server.address).await;
    let name = &acknowledged[acknowledged.len() - 1];
    let page = client
        .get(format!("{}/api-keys?q={name}", server.address))
        .send()
        .await
        .unwrap();
    let page = TestResponse::read(page).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(name.as_str()), "{name} is not listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_sigkill_on_sqlite() {
    crash_and_recover(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_creates_survive_sigkill_on_postgres() {
    crash_and_recover(Backend::Postgres).await;
}
