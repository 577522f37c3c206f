//! Limits that keep keyward standing: a form over 64 KiB is refused, a body
//! that dribbles in is cut off, and SQLite's write-ahead log does not grow
//! without bound.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use super::{assert_html_page, assert_security_headers};

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, StatusCode, eventually, spawn_app_with,
};

storage_test!(a_form_over_64_kib_is_refused, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let huge = "a".repeat(65 * 1024);
    let with_token = app
        .post_form("/login", &[("email", &huge), ("password", ADMIN_PASSWORD)])
        .await;
    let without_token = app
        .post_form_raw("/login", &[("email", &huge), ("password", ADMIN_PASSWORD)])
        .await;
    for refused in [&with_token, &without_token] {
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            refused.body.contains("Request too large"),
            "{}",
            refused.body
        );
        assert_html_page(refused, "413 page");
        assert_security_headers(refused, "413 page");
    }
    // Just under the limit is read and answered as usual.
    let large = "a".repeat(60 * 1024);
    let read = app
        .post_form("/login", &[("email", &large), ("password", ADMIN_PASSWORD)])
        .await;
    assert_eq!(read.status, StatusCode::UNAUTHORIZED);
});

/// Sends a request's head and then a body one byte at a time, slower than
/// any deadline; returns what came back and when, or `None` if the server
/// kept the connection open past `give_up`.
fn dribble(address: &str, head: &str, give_up: Duration) -> Option<(String, Duration)> {
    let mut stream = std::net::TcpStream::connect(address.trim_start_matches("http://")).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    while started.elapsed() < give_up {
        let _ = stream.write_all(b"a");
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => {
                return Some((
                    String::from_utf8_lossy(&answer).into_owned(),
                    started.elapsed(),
                ));
            }
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                return Some((
                    String::from_utf8_lossy(&answer).into_owned(),
                    started.elapsed(),
                ));
            }
        }
    }
    None
}

#[tokio::test]
async fn a_body_that_dribbles_in_is_cut_off() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.body_timeout = Duration::from_secs(2);
    })
    .await
    .unwrap();
    let host = app.address.trim_start_matches("http://").to_owned();
    let heads = [
        format!(
            "POST /api/v1/verify HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: 1000\r\n\r\n"
        ),
        format!(
            "POST /login HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 1000\r\n\r\n"
        ),
    ];
    // Twenty slow clients at once, on the verifier and the console.
    let clients: Vec<_> = (0..20)
        .map(|i| {
            let head = heads[i % 2].clone();
            let address = app.address.clone();
            tokio::task::spawn_blocking(move || dribble(&address, &head, Duration::from_secs(10)))
        })
        .collect();
    for client in clients {
        let (answer, after) = client
            .await
            .unwrap()
            .expect("the connection was still open after 10 seconds");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(
            after < Duration::from_secs(6),
            "cut off only after {after:?}"
        );
    }
    // Meanwhile, and after, everyone else is served.
    assert_eq!(app.get("/livez").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_write_ahead_log_is_truncated_after_a_burst_of_writes() {
    let app = spawn_app_with(Backend::Sqlite, |settings| {
        settings.wal_checkpoint_interval = Duration::from_millis(500);
    })
    .await
    .unwrap();
    let wal = std::path::PathBuf::from(format!("{}-wal", app.db.url));
    let mut conn = app.pool.get().unwrap();
    let limit: Vec<JournalSizeLimit> = diesel::sql_query("PRAGMA journal_size_limit")
        .load(&mut *conn)
        .unwrap();
    assert_eq!(limit[0].journal_size_limit, 64 * 1024 * 1024);
    // A burst of writes: 8 MB through the log.
    let value = "x".repeat(4000);
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        for i in 0..2000 {
            diesel::sql_query("INSERT INTO settings (name, value) VALUES (?, ?)")
                .bind::<diesel::sql_types::Text, _>(format!("burst-{i}"))
                .bind::<diesel::sql_types::Text, _>(&value)
                .execute(conn)?;
        }
        Ok(())
    })
    .unwrap();
    drop(conn);
    let grown = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        grown > 4_000_000,
        "the burst wrote only {grown} bytes to the log"
    );
    eventually(Duration::from_secs(5), "the log to be truncated", || {
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        async move { (size == 0).then_some(()) }
    })
    .await;
    // Nothing was lost on the way.
    let mut conn = app.pool.get().unwrap();
    let kept: i64 = keyward::schema::settings::table
        .filter(keyward::schema::settings::name.like("burst-%"))
        .count()
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(kept, 2000);
}

#[derive(QueryableByName)]
struct JournalSizeLimit {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    journal_size_limit: i64,
}
