//! `keyward serve`: the log shows the setup URL and each request without its
//! query, and SIGTERM lets requests in flight finish and writes last-used
//! times before keyward exits.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Served, TIMEOUT, keyward};
use crate::harness::{Backend, StatusCode, TempDir, TestApp, TestDb, free_port, verify_at};

#[tokio::test]
async fn serve_logs_the_setup_url_and_each_request_without_its_query() {
    let dir = TempDir::new("keyward-serve");
    let database = dir.0.join("keyward.db");
    let mut command = keyward(&dir.0);
    command.args([
        "--database-url",
        database.to_str().unwrap(),
        "serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    let mut served = Served::start(command);

    let notice = served.wait_for_line("no administrator yet: create the first one at ");
    let setup_url = notice.split_once(" at ").unwrap().1.trim().to_owned();
    let (base, token) = setup_url
        .split_once("/setup?token=")
        .expect("not a setup URL");
    assert!(base.starts_with("http://127.0.0.1:"), "{setup_url}");
    assert!(
        !base.ends_with(":0"),
        "the log shows port 0, not the real port: {setup_url}"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let setup = client
        .get(&setup_url)
        .send()
        .await
        .expect("the setup URL does not answer");
    assert_eq!(setup.status(), StatusCode::OK);
    assert!(
        setup
            .text()
            .await
            .unwrap()
            .contains("Create the first administrator")
    );
    let login = client
        .get(format!("{base}/login?next=/secret-query"))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    // `... keyward::http] GET /login 200 1.2ms`
    let line = served.wait_for_line("GET /login ");
    let entry = &line[line.find("GET /login ").unwrap()..];
    let millis = entry
        .strip_prefix("GET /login 200 ")
        .and_then(|rest| rest.strip_suffix("ms"))
        .unwrap_or_else(|| panic!("unexpected request log line: {line}"));
    assert!(millis.parse::<f64>().is_ok(), "{line}");
    served.wait_for_line("GET /setup 200 ");

    let log = served.seen.join("\n");
    assert!(
        !log.contains("secret-query"),
        "a query string was logged:\n{log}"
    );
    // The setup token is in the notice and nowhere else.
    assert_eq!(
        log.matches(token).count(),
        1,
        "the setup token was logged again:\n{log}"
    );
}

// ---- SIGTERM: in-flight requests finish, last-used times are written ----

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_and_writes_last_used_times() {
    use std::io::Read;
    use std::net::TcpStream;

    // A key made through the console of an in-process keyward, which then
    // stops; the binary serves the same SQLite file.
    let db = TestDb::new(Backend::Sqlite).unwrap();
    let app = TestApp::start(db, |_| {}).await;
    app.login_as_default_admin().await;
    let role = app.create_role("reader").await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    app.handle.stop(true).await;

    let dir = TempDir::new("keyward-serve");
    let mut command = keyward(&dir.0);
    let port = free_port();
    command.args([
        "--database-url",
        &app.db.url,
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    let mut served = Served::start(command);
    served.wait_for_line("keyward listening on ");
    let address = format!("http://127.0.0.1:{port}");

    // A verification whose body is still on its way when SIGTERM arrives.
    let body = serde_json::json!({ "key": key }).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.set_read_timeout(Some(TIMEOUT)).unwrap();
    write!(
        slow,
        "POST /api/v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{first}",
        body.len()
    )
    .unwrap();
    slow.flush().unwrap();

    // A verification that completes: its last-used time is only in memory
    // (written in batches every few seconds) when SIGTERM arrives.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let answer = verify_at(&client, &address, &serde_json::json!({ "key": key })).await;
    assert_eq!(answer["code"], "VALID", "{answer}");
    drop(client);

    let sent = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    served.wait_for_line("SIGTERM received; starting graceful shutdown");
    // The request in flight is still answered.
    slow.write_all(rest.as_bytes()).unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"VALID\""), "{answer}");

    let status = {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = served.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "keyward did not exit after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    assert_eq!(status.code(), Some(0), "{}", served.seen.join("\n"));

    use diesel::prelude::*;
    use keyward::schema::apps;
    let mut conn = app.pool.get().unwrap();
    let last_used: Option<chrono::NaiveDateTime> = apps::table
        .find(app_id)
        .select(apps::last_used_at)
        .first(&mut *conn)
        .unwrap();
    assert!(
        last_used.is_some(),
        "the last use was not written before keyward exited"
    );
}
