//! Client addresses come from trusted proxies only: an untrusted
//! `X-Forwarded-For` is the client's word and the peer counts, while behind a
//! trusted proxy the sign-in throttle counts IPv6 clients by their /64 and
//! the audit log names the client the proxy reports.

use diesel::prelude::*;

use crate::harness::{StatusCode, TestApp, TestResponse};

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
        for i in 1..=keyward::admins::domain::throttle::ADDRESS_LIMIT {
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
