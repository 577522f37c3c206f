//! What an operator's tooling sees: `/livez`, `/readyz` and `/metrics`.

use std::process::{Command, Stdio};

use diesel::prelude::*;
use serde_json::json;

use crate::harness::{Scrape, StatusCode, eventually, skip_or_fail};

storage_test!(
    livez_and_readyz_answer_without_a_session,
    |app| async move {
        let livez = app.get("/livez").await;
        assert_eq!(livez.status, StatusCode::OK);
        assert_eq!(livez.body, "ok\n");
        let readyz = app.get("/readyz").await;
        assert_eq!(readyz.status, StatusCode::OK, "{}", readyz.body);
        assert_eq!(readyz.body, "ready\n");
        assert!(
            app.session_cookie().is_none(),
            "a health check started a session"
        );
        assert!(
            app.session_rows().is_empty(),
            "a health check stored a session"
        );
    }
);

storage_test!(
    readyz_is_unavailable_while_a_migration_is_pending,
    |app| async move {
        // As if the database had been rolled back under a running keyward.
        let newest: String = {
            let mut conn = app.pool.get().unwrap();
            let newest = diesel::sql_query(
                "SELECT version FROM __diesel_schema_migrations ORDER BY version DESC LIMIT 1",
            )
            .get_result::<Version>(&mut *conn)
            .expect("no applied migrations")
            .version;
            diesel::sql_query(format!(
                "DELETE FROM __diesel_schema_migrations WHERE version = '{newest}'"
            ))
            .execute(&mut *conn)
            .unwrap();
            newest
        };
        let readyz = app.get("/readyz").await;
        assert_eq!(readyz.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            readyz.body.contains("migrations are pending"),
            "{}",
            readyz.body
        );
        // The process itself is fine.
        assert_eq!(app.get("/livez").await.status, StatusCode::OK);

        let mut conn = app.pool.get().unwrap();
        diesel::sql_query(format!(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('{newest}')"
        ))
        .execute(&mut *conn)
        .unwrap();
        drop(conn);
        assert_eq!(app.get("/readyz").await.status, StatusCode::OK);
    }
);

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// `promtool check metrics` on a scrape: exit 0 and no lint complaints.
fn promtool_accepts(text: &str) {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            skip_or_fail(&format!(
                "promtool not found ({error}); it is in the Debian package prometheus"
            ));
            return;
        }
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool check metrics refused the scrape:\n{said}\n--- scrape:\n{text}"
    );
}

storage_test!(metrics_count_what_an_operator_watches, |app| async move {
    app.login_as_default_admin().await;
    let role = app.create_role("reader").await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    let malformed = format!("kw_{}", "0".repeat(40));
    let before = Scrape::of(&app).await;

    for _ in 0..2 {
        assert_eq!(app.verify(&json!({"key": key})).await["code"], "VALID");
    }
    let answer = app.verify(&json!({"key": keyward_unknown_key()})).await;
    assert_eq!(answer["code"], "NOT_FOUND", "{answer}");
    let answer = app.verify(&json!({"key": malformed})).await;
    assert_eq!(answer["code"], "MALFORMED", "{answer}");
    // A page with an id in its path, and a path that matches nothing but
    // carries something secret-looking.
    assert_eq!(
        app.get(&format!("/api-keys/{app_id}")).await.status,
        StatusCode::OK
    );
    let secret = "kw_NotARealKeyButLooksLikeOne";
    assert_eq!(
        app.get(&format!("/no-such-page/{secret}")).await.status,
        StatusCode::NOT_FOUND
    );

    let after = Scrape::of(&app).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };
    assert_eq!(
        moved("keyward_verifications_total", &[("code", "VALID")]),
        2.0
    );
    assert_eq!(
        moved("keyward_verifications_total", &[("code", "NOT_FOUND")]),
        1.0
    );
    assert_eq!(
        moved("keyward_verifications_total", &[("code", "MALFORMED")]),
        1.0
    );
    assert_eq!(
        moved("keyward_verification_duration_seconds_count", &[]),
        4.0
    );
    assert!(moved("keyward_verification_duration_seconds_sum", &[]) > 0.0);
    // The malformed key never reaches the cache; the others are looked up.
    let lookups = moved("keyward_verify_cache_hits_total", &[])
        + moved("keyward_verify_cache_misses_total", &[]);
    assert_eq!(lookups, 3.0, "{}", after.text);
    assert!(moved("keyward_verify_cache_misses_total", &[]) >= 1.0);
    assert_eq!(
        moved(
            "keyward_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/verify"),
                ("status", "200")
            ]
        ),
        4.0
    );
    assert_eq!(
        moved(
            "keyward_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api-keys/{id}"),
                ("status", "200")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            "keyward_http_requests_total",
            &[("method", "GET"), ("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    assert!(!after.text.contains(secret), "a raw path became a label");
    assert!(!after.text.contains(&key), "a key is in the metrics");
    assert!(
        !after.text.contains(&format!("/api-keys/{app_id}")),
        "a raw path with an id became a label"
    );
    let pool = after.value("keyward_db_pool_connections", &[("state", "in_use")])
        + after.value("keyward_db_pool_connections", &[("state", "idle")]);
    assert!(
        pool >= 1.0,
        "no pooled connections reported:\n{}",
        after.text
    );
    assert_eq!(after.value("keyward_db_pool_max_connections", &[]), 4.0);
    // Codes not seen yet are listed at 0, so alerts on them have a series.
    assert!(
        after
            .text
            .contains("keyward_verifications_total{code=\"UNAVAILABLE\"} 0"),
        "{}",
        after.text
    );

    // Once the cache knows the key, verifying it again is a hit.
    eventually(
        std::time::Duration::from_secs(5),
        "a verification answered from the cache",
        || async {
            let hits = Scrape::of(&app)
                .await
                .value("keyward_verify_cache_hits_total", &[]);
            app.verify(&json!({"key": key})).await;
            let now = Scrape::of(&app)
                .await
                .value("keyward_verify_cache_hits_total", &[]);
            (now > hits).then_some(())
        },
    )
    .await;

    promtool_accepts(&Scrape::of(&app).await.text);
});

/// A well-formed key that keyward never issued.
fn keyward_unknown_key() -> String {
    keyward::apps::domain::ApiKey::generate()
        .expose()
        .to_owned()
}
