//! The Dashboard, on both backends and with a clock the test moves: after
//! known traffic it names the busiest keys, the most refused and why, the
//! inactive key still presented, the key about to expire and the one not
//! used for 30 days, each linked to its page; and it is where signing in
//! leads.

use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use keyward::clock::ManualClock;
use serde_json::json;

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, api_client, eventually, text_of, verify_at,
};

async fn ask(app: &TestApp, key: &str, verb: &str) -> String {
    let body = json!({"key": key, "service": "db", "component": "_table/contacts", "verb": verb});
    verify_at(&api_client(), &app.address, &body).await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

each_backend!(the_dashboard_says_how_keys_are_used, |db| async move {
    let at = NaiveDateTime::parse_from_str("2027-03-01 12:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let clock = Arc::new(ManualClock::at(at));
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| settings.clock = shared).await;
    app.login_as_default_admin().await;
    let service = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(service), "*", &["GET"]).await;
    let (old, _) = app.create_key("Old app", Some(role)).await;
    clock.advance(TimeDelta::days(31));
    // A month later the session is over: sign in again.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (busy, busy_key) = app.create_key("Busy app", Some(role)).await;
    let (refused, refused_key) = app.create_key("Refused app", Some(role)).await;
    let (sleeping, sleeping_key) = app.create_key("Sleeping app", Some(role)).await;
    let (expiring, _) = app.create_key("Expiring app", Some(role)).await;
    app.set_key_active(sleeping, false).await;
    let soon = (keyward::clock::Clock::now(&*clock) + TimeDelta::days(3))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let saved = app
        .post_form(
            &format!("/api-keys/{expiring}"),
            &[
                ("name", "Expiring app"),
                ("is_active", "true"),
                ("location", "0"),
                ("role_id", &role.to_string()),
                ("expires_at", &soon),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    for _ in 0..5 {
        assert_eq!(ask(&app, &busy_key, "GET").await, "VALID");
    }
    assert_eq!(ask(&app, &busy_key, "POST").await, "FORBIDDEN");
    for _ in 0..3 {
        assert_eq!(ask(&app, &refused_key, "DELETE").await, "FORBIDDEN");
    }
    for _ in 0..2 {
        assert_eq!(ask(&app, &sleeping_key, "GET").await, "INACTIVE");
    }

    // Signing in leads to the dashboard.
    let home = app.get("/").await;
    assert_eq!(home.location(), "/dashboard");
    let text = eventually(
        std::time::Duration::from_secs(15),
        "the counts on the dashboard",
        || async {
            let page = app.get("/dashboard").await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            // The chart at once, the lists within a few seconds.
            let text = text_of(&page.body);
            (text.contains("11 requests: 5 VALID, 4 FORBIDDEN, 2 INACTIVE, 6 of them refused.")
                && text.contains("Busy app — 6 requests"))
            .then_some(page)
        },
    )
    .await;
    let page = text;
    assert!(
        page.body.contains("<title>Dashboard · keyward</title>"),
        "the page's title is its name alone"
    );
    let text = text_of(&page.body);
    for said in [
        "Busy app — 6 requests",
        "Refused app — 3 requests",
        "Sleeping app — 2 requests",
        "Refused app — 3 refused: 3 FORBIDDEN",
        "Sleeping app — 2 refused: 2 INACTIVE",
        "Busy app — 1 refused: 1 FORBIDDEN",
        "1 key expires within 7 days: Expiring app",
        "1 active key not used for 30 days: Old app — never used",
        "Sleeping app — presented 2 times",
    ] {
        assert!(text.contains(said), "the dashboard says {said:?}: {text}");
    }
    // The busiest first; each key links to its page.
    assert!(text.find("Busy app — 6").unwrap() < text.find("Refused app — 3 requests").unwrap());
    for id in [busy, refused, sleeping, expiring, old] {
        assert!(
            page.body.contains(&format!("href=\"/api-keys/{id}\"")),
            "no link to key {id}"
        );
    }
    assert!(
        page.body
            .contains("href=\"/api-keys?status=active&amp;sort=last_used&amp;dir=asc\"")
    );
    assert!(page.body.contains("href=\"/api-keys?status=inactive\""));
    // Two days on, the last 24 hours are quiet, the 30 days are not.
    clock.advance(TimeDelta::days(2));
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let quiet = text_of(&app.get("/dashboard").await.body);
    assert!(
        quiet.contains("No requests in the last 24 hours."),
        "{quiet}"
    );
    let month = text_of(&app.get("/dashboard?usage=30d").await.body);
    assert!(month.contains("Busy app — 6 requests"), "{month}");
});
