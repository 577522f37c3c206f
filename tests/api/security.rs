//! What keeps the console standing: a signed-out visitor writes nothing, the
//! sign-in form is protected without a session, slow bodies are cut off,
//! sign-ins end after an absolute lifetime, the write-ahead log does not grow
//! without bound, and client addresses come from trusted proxies only.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use diesel::prelude::*;
use keyward::clock::ManualClock;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, StatusCode, TestApp, TestResponse, api_client,
    eventually, spawn_app_with,
};

storage_test!(
    a_visitor_who_has_not_signed_in_writes_nothing,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        // Many visitors, each with a fresh browser, as `wrk` on /login was.
        for _ in 0..50 {
            let mut browser = Browser::default();
            app.swap_browser(&mut browser);
            let page = app.get("/login").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.csrf_token().is_some(), "the form has no CSRF token");
            assert!(app.session_cookie().is_none(), "a session cookie was set");
            app.swap_browser(&mut browser);
        }
        assert!(
            app.session_rows().is_empty(),
            "signed-out page views stored sessions"
        );
        // The form still signs in, and only then is a session stored.
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .assert_redirects_to("/");
        assert_eq!(app.session_rows().len(), 1);
    }
);

storage_test!(
    the_sign_in_form_needs_its_own_signed_cookie,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        let page = app.get("/login").await;
        let token = page.csrf_token().unwrap();
        let cookie = page
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("keyward_csrf="))
            .expect("no CSRF cookie")
            .to_lowercase();
        assert!(
            cookie.contains("; httponly") && cookie.contains("; samesite=strict"),
            "{cookie}"
        );

        let fields = |token: &str| {
            vec![
                ("email", ADMIN_EMAIL.to_owned()),
                ("password", ADMIN_PASSWORD.to_owned()),
                ("csrf_token", token.to_owned()),
            ]
        };
        let post = |client: &reqwest::Client, cookie: Option<String>, token: &str| {
            let mut request = client.post(app.url("/login")).form(&fields(token));
            if let Some(cookie) = cookie {
                request = request.header("cookie", cookie);
            }
            async move { TestResponse::read(request.send().await.unwrap()).await }
        };
        let bare = api_client();
        // The token without the cookie: refused.
        let no_cookie = post(&bare, None, &token).await;
        assert_eq!(
            no_cookie.status,
            StatusCode::FORBIDDEN,
            "{}",
            no_cookie.body
        );
        // A cookie whose signature is not keyward's: refused.
        let forged = post(&bare, Some(format!("keyward_csrf={token}")), &token).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
        // This visitor's genuine cookie with another visitor's token: refused.
        let other_page =
            TestResponse::read(bare.get(app.url("/login")).send().await.unwrap()).await;
        let other_token = other_page.csrf_token().unwrap();
        assert_ne!(other_token, token);
        let mixed = post(&app.client, None, &other_token).await;
        assert_eq!(mixed.status, StatusCode::FORBIDDEN, "{}", mixed.body);
        assert!(!app.is_signed_in().await);
        // Its own cookie and token: signed in.
        post(&app.client, None, &token)
            .await
            .assert_redirects_to("/");
        assert!(app.is_signed_in().await);
    }
);

/// The `Set-Cookie` named `name`, lower-cased.
fn set_cookie(response: &TestResponse, name: &str) -> String {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.headers))
        .to_lowercase()
}

// Settings, not storage: SQLite is enough.
#[tokio::test]
async fn secure_cookies_take_the_host_prefix() {
    let app = spawn_app_with(Backend::Sqlite, |settings| settings.cookie_secure = true)
        .await
        .unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    // Secure cookies are not sent over plain http by a browser's jar: this
    // test carries them by hand.
    let client = api_client();
    let page = TestResponse::read(client.get(app.url("/login")).send().await.unwrap()).await;
    let csrf = set_cookie(&page, "__Host-keyward_csrf");
    for attribute in ["; secure", "; httponly", "; path=/", "; samesite=strict"] {
        assert!(csrf.contains(attribute), "{attribute}: {csrf}");
    }
    assert!(!csrf.contains("domain="), "{csrf}");
    let cookie = page
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let signed_in = TestResponse::read(
        client
            .post(app.url("/login"))
            .header("cookie", cookie)
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("csrf_token", &page.csrf_token().unwrap()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let session = set_cookie(&signed_in, "__Host-keyward_session");
    for attribute in ["; secure", "; httponly", "; path=/", "; samesite=lax"] {
        assert!(session.contains(attribute), "{attribute}: {session}");
    }
    assert!(!session.contains("domain="), "{session}");
}

each_backend!(
    a_sign_in_ends_after_its_lifetime_however_active,
    |db| async move {
        let clock = Arc::new(ManualClock::default());
        let shared = clock.clone();
        let app = TestApp::start(db, move |settings| {
            settings.clock = shared;
            settings.session_lifetime = Duration::from_secs(12 * 3600);
        })
        .await;
        app.login_as_default_admin().await;
        // Busy all day: a page every couple of hours keeps it going...
        for _ in 0..5 {
            clock.advance(TimeDelta::hours(2));
            assert!(app.is_signed_in().await);
        }
        clock.advance(TimeDelta::hours(2) - TimeDelta::minutes(1));
        assert!(app.is_signed_in().await, "signed out before 12 hours");
        // ... until 12 hours after signing in.
        clock.advance(TimeDelta::minutes(2));
        assert!(!app.is_signed_in().await, "still signed in after 12 hours");
        assert!(
            app.signed_in_session_ids().is_empty(),
            "the session is kept"
        );
        // Signing in again starts a new lifetime.
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .assert_redirects_to("/");
        assert!(app.is_signed_in().await);
    }
);

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

// ---- client addresses and the throttle ----

const WRONG: &str = "not the password at all";

/// A failed sign-in from `forwarded_for`, as a proxy passes it on.
async fn fail_from(app: &TestApp, email: &str, forwarded_for: &str) -> TestResponse {
    let token = app.csrf_token().await;
    app.send(
        app.client
            .post(app.url("/login"))
            .header("X-Forwarded-For", forwarded_for)
            .form(&[
                ("email", email),
                ("password", WRONG),
                ("csrf_token", &token),
            ]),
    )
    .await
}

fn throttled_subjects(app: &TestApp) -> Vec<String> {
    use keyward::schema::login_throttle;
    let mut conn = app.pool.get().unwrap();
    login_throttle::table
        .select(login_throttle::subject)
        .filter(login_throttle::subject.like("address:%"))
        .load(&mut *conn)
        .unwrap()
}

each_backend!(
    forwarded_addresses_count_only_from_a_trusted_proxy,
    |db| async move {
        let app = TestApp::start(db, |_| {}).await;
        // Untrusted: the header is the client's word; the peer counts.
        fail_from(&app, "a@example.com", "203.0.113.7").await;
        assert_eq!(
            throttled_subjects(&app),
            vec!["address:127.0.0.1".to_owned()]
        );
    }
);

each_backend!(
    behind_a_trusted_proxy_ipv6_clients_count_by_their_64,
    |db| async move {
        let app = TestApp::start(db, |settings| {
            settings.trusted_proxies =
                keyward::proxy::TrustedProxies::parse("127.0.0.1/32").unwrap();
        })
        .await;
        // Twenty failures from twenty addresses of one /64, each for its own
        // made-up account, lock that /64 ...
        for i in 1..=keyward::auth::throttle::ADDRESS_LIMIT {
            let response = fail_from(
                &app,
                &format!("user{i}@example.com"),
                &format!("2001:db8:1:2::{i:x}"),
            )
            .await;
            assert_eq!(
                response.status,
                StatusCode::UNAUTHORIZED,
                "{}",
                response.body
            );
        }
        let same_network = fail_from(&app, "next@example.com", "2001:db8:1:2:ffff::1").await;
        assert_eq!(
            same_network.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            same_network.body
        );
        // ... and nobody else: the next /64, and an IPv4 client.
        let next_network = fail_from(&app, "next@example.com", "2001:db8:1:3::1").await;
        assert_eq!(
            next_network.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            next_network.body
        );
        let ipv4 = fail_from(&app, "next@example.com", "198.51.100.4").await;
        assert_eq!(ipv4.status, StatusCode::UNAUTHORIZED, "{}", ipv4.body);
        // What the client wrote to the left of the proxy's entry is not believed.
        let spoofed = fail_from(&app, "next@example.com", "192.0.2.1, 2001:db8:1:2::99").await;
        assert_eq!(
            spoofed.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            spoofed.body
        );
        let mut subjects = throttled_subjects(&app);
        subjects.sort();
        assert_eq!(
            subjects,
            vec![
                "address:198.51.100.4".to_owned(),
                "address:2001:db8:1:2::/64".to_owned(),
                "address:2001:db8:1:3::/64".to_owned(),
            ]
        );
    }
);

each_backend!(
    the_audit_log_names_the_client_a_trusted_proxy_reports,
    |db| async move {
        let app = TestApp::start(db, |settings| {
            settings.trusted_proxies =
                keyward::proxy::TrustedProxies::parse("127.0.0.0/8").unwrap();
        })
        .await;
        app.login_as_default_admin().await;
        let token = app.csrf_token().await;
        let created = app
            .send(
                app.client
                    .post(app.url("/roles"))
                    .header("X-Forwarded-For", "198.51.100.23")
                    .form(&[
                        ("name", "Forwarded"),
                        ("description", ""),
                        ("is_active", "true"),
                        ("csrf_token", &token),
                    ]),
            )
            .await;
        created.assert_redirects_to("/roles");
        use keyward::schema::audit_events;
        let mut conn = app.pool.get().unwrap();
        let address: String = audit_events::table
            .filter(audit_events::object_name.eq("Forwarded"))
            .select(audit_events::address)
            .first(&mut *conn)
            .unwrap();
        assert_eq!(address, "198.51.100.23");
    }
);

each_backend!(
    the_current_password_check_is_throttled_like_sign_in,
    |db| async move {
        let app = TestApp::start(db, |_| {}).await;
        app.login_as_default_admin().await;
        let change = |current: &'static str| {
            let app = &app;
            async move {
                app.post_form(
                    "/account/password",
                    &[
                        ("current_password", current),
                        ("new_password", "a brand new passphrase"),
                        ("new_password_confirm", "a brand new passphrase"),
                    ],
                )
                .await
            }
        };
        for _ in 0..keyward::auth::throttle::ACCOUNT_LIMIT {
            let wrong = change(WRONG).await;
            assert_eq!(
                wrong.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                wrong.body
            );
            assert!(wrong.body.contains("Current password is incorrect"));
        }
        // Locked: the right password is not even checked.
        let locked = change(ADMIN_PASSWORD).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            locked.body
        );
        assert!(
            locked.body.contains("Try again in 60 seconds"),
            "{}",
            locked.body
        );
        assert_eq!(locked.header("retry-after"), "60");
        // The same count locks signing in to that account from another browser.
        let mut other = Browser::default();
        let mut app = app;
        app.swap_browser(&mut other);
        let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            response.body
        );
        app.swap_browser(&mut other);
    }
);
