//! A key after it is created: editing, expiry, rolling with a grace period,
//! deleting and duplicating — on SQLite and PostgreSQL, with time moved by a
//! manual clock instead of waited for.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use keyward::clock::{Clock, ManualClock};
use serde_json::json;

use crate::helpers::{StatusCode, TestApp, TestDb, eventually, shown_api_key};

/// keyward on `db` with a clock the test moves; signed in, with an active
/// role `Readers`.
async fn start(db: TestDb) -> (TestApp, Arc<ManualClock>, i32) {
    let clock = Arc::new(ManualClock::default());
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| {
        settings.clock = shared;
        // The clock moves by days here; the administrator stays signed in.
        settings.session_lifetime = std::time::Duration::from_secs(30 * 24 * 3600);
    })
    .await;
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    (app, clock, role)
}

async fn code(app: &TestApp, key: &str) -> String {
    app.verify(&json!({ "key": key })).await["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Polls until `key` verifies as `expected` (a change takes up to a second).
async fn eventually_code(app: &TestApp, key: &str, expected: &str) {
    eventually(
        Duration::from_millis(1500),
        &format!("the key to be {expected}"),
        || async { (code(app, key).await == expected).then_some(()) },
    )
    .await;
}

fn expiry_field(clock: &ManualClock, from_now: TimeDelta) -> String {
    (clock.now() + from_now)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

each_backend!(
    edit_page_shows_the_key_details_and_saves_every_field,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let (id, key) = app.create_key("Mobile", Some(role)).await;
        let page = app.get(&format!("/api-keys/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("<h1>Edit Application</h1>"));
        assert_eq!(page.input_value("name").as_deref(), Some("Mobile"));
        assert!(
            page.body.contains(&format!("{}…", &key[..9])),
            "the display prefix is shown"
        );
        assert!(
            !page.body.contains(&key),
            "the whole key is never shown again"
        );
        assert!(page.body.contains("last used never"));

        let saved = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[
                    ("name", "Mobile v2"),
                    ("description", "the new app"),
                    ("is_active", "true"),
                    ("location", "2"),
                    ("url", "https://app.example.com/start"),
                    ("role_id", ""),
                ],
            )
            .await;
        saved.assert_redirects_to(&format!("/api-keys/{id}"));
        let page = app.get(&format!("/api-keys/{id}")).await;
        assert!(page.body.contains("“Mobile v2” saved."));
        assert_eq!(
            page.input_value("url").as_deref(),
            Some("https://app.example.com/start")
        );
        // A remote URL is the launch URL, with a Copy URL button.
        assert!(
            page.body
                .contains("value=\"https://app.example.com/start\" readonly")
        );
        assert!(page.body.contains(">Copy URL</button>"));
        // The key is the same key, and without a role it may call nothing now.
        eventually_code(&app, &key, "NO_ROLE").await;
    }
);

each_backend!(
    editing_validates_like_creating_and_keeps_what_was_typed,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        app.create_key("Taken", None).await;
        let (id, key) = app.create_key("Mobile", Some(role)).await;
        let refused = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[
                    ("name", "Taken"),
                    ("description", "kept text"),
                    ("location", "3"),
                    ("web_path", ""),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("Path to application required"));
        assert_eq!(refused.input_value("name").as_deref(), Some("Taken"));
        assert!(refused.body.contains(">kept text</textarea>"));

        let taken = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[("name", "Taken"), ("location", "0")],
            )
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            taken
                .body
                .contains("An application with this name already exists")
        );
        // Nothing changed: same name, still valid.
        assert_eq!(
            app.get(&format!("/api-keys/{id}"))
                .await
                .input_value("name")
                .as_deref(),
            Some("Mobile")
        );
        assert_eq!(code(&app, &key).await, "VALID");
    }
);

each_backend!(an_expired_key_is_refused, |db| async move {
    let (app, clock, role) = start(db).await;
    let past = expiry_field(&clock, TimeDelta::hours(-1));
    let refused = app
        .post_form(
            "/api-keys",
            &[("name", "Old"), ("location", "0"), ("expires_at", &past)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("The expiry of a new key must be in the future"),
        "{}",
        refused.body
    );

    let soon = expiry_field(&clock, TimeDelta::hours(2));
    let created = app
        .post_form(
            "/api-keys",
            &[
                ("name", "Trial"),
                ("is_active", "true"),
                ("location", "0"),
                ("role_id", &role.to_string()),
                ("expires_at", &soon),
            ],
        )
        .await;
    let key = shown_api_key(&app.get(created.location()).await).expect("the key is shown once");
    assert_eq!(code(&app, &key).await, "VALID");

    clock.advance(TimeDelta::hours(3));
    let answer = app.verify(&json!({ "key": key })).await;
    assert_eq!(answer["code"], "EXPIRED", "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("expired at"));
    let auth = crate::helpers::api_client()
        .get(app.url("/api/v1/auth"))
        .header("X-API-Key", &key)
        .header("X-Original-URI", "/api/v2/files/x")
        .header("X-Original-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        auth.status(),
        StatusCode::UNAUTHORIZED,
        "an expired key is a 401 at forward-auth"
    );
    // The list marks it, and the Expired filter finds only it.
    app.create_key("Fresh", Some(role)).await;
    let list = app.get("/api-keys").await;
    let trial_row = list
        .body
        .split("<tr id=")
        .find(|row| row.contains(">Trial</a>"))
        .expect("Trial is listed");
    assert!(trial_row.contains(">Expired</span>"), "{trial_row}");
    let fresh_row = list
        .body
        .split("<tr id=")
        .find(|row| row.contains(">Fresh</a>"))
        .expect("Fresh is listed");
    assert!(!fresh_row.contains(">Expired</span>"));
    let expired = app.get("/api-keys?status=expired").await;
    assert!(
        expired.body.contains(">Trial</a>") && !expired.body.contains(">Fresh</a>"),
        "{}",
        expired.body
    );
});

each_backend!(
    rolling_keeps_the_old_key_for_the_chosen_grace_period,
    |db| async move {
        let (app, clock, role) = start(db).await;
        for (grace, period) in [
            ("1h", TimeDelta::hours(1)),
            ("24h", TimeDelta::hours(24)),
            ("7d", TimeDelta::days(7)),
        ] {
            let (id, old) = app.create_key(&format!("Rolled {grace}"), Some(role)).await;
            assert_eq!(code(&app, &old).await, "VALID");
            let confirm = app.get(&format!("/api-keys/{id}/roll")).await;
            assert!(
                confirm
                    .body
                    .contains(&format!("Roll the key of “Rolled {grace}”?"))
            );
            let rolled = app
                .post_form(&format!("/api-keys/{id}/roll"), &[("grace", grace)])
                .await;
            rolled.assert_redirects_to(&format!("/api-keys/{id}/key"));
            let shown = app.get(&format!("/api-keys/{id}/key")).await;
            let new = shown_api_key(&shown).expect("the new key is shown once");
            assert_ne!(new, old);
            assert!(
                shown_api_key(&app.get(&format!("/api-keys/{id}/key")).await).is_none(),
                "only once"
            );

            eventually_code(&app, &new, "VALID").await;
            assert_eq!(
                code(&app, &old).await,
                "VALID",
                "the old key works during the grace period ({grace})"
            );
            let edit = app.get(&format!("/api-keys/{id}")).await;
            assert!(
                edit.body.contains("The previous key keeps working until"),
                "{grace}"
            );

            clock.advance(period - TimeDelta::minutes(1));
            assert_eq!(code(&app, &old).await, "VALID", "still within {grace}");
            clock.advance(TimeDelta::minutes(2));
            // The roll reaches the verification cache within a second.
            let answer = eventually(
                Duration::from_millis(1500),
                "the old key to be refused",
                || async {
                    let answer = app.verify(&json!({ "key": old })).await;
                    (answer["code"] == "EXPIRED").then_some(answer)
                },
            )
            .await;
            assert!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .contains("replaced by a new one"),
                "{answer}"
            );
            assert_eq!(code(&app, &new).await, "VALID");
            assert!(
                !app.get(&format!("/api-keys/{id}"))
                    .await
                    .body
                    .contains("The previous key keeps working")
            );
        }
    }
);

each_backend!(
    rolling_at_once_stops_the_old_key_within_a_second,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let (id, old) = app.create_key("Leaked", Some(role)).await;
        assert_eq!(code(&app, &old).await, "VALID");
        let refused = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "2d")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains("Choose when the old key stops working")
        );
        assert_eq!(
            code(&app, &old).await,
            "VALID",
            "a refused roll changes nothing"
        );

        let rolled = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "now")])
            .await;
        let new =
            shown_api_key(&app.get(rolled.location()).await).expect("the new key is shown once");
        eventually_code(&app, &old, "NOT_FOUND").await;
        assert_eq!(code(&app, &new).await, "VALID");
    }
);

each_backend!(
    deleting_asks_first_and_the_key_stops_working,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let (id, key) = app.create_key("Doomed", Some(role)).await;
        assert_eq!(code(&app, &key).await, "VALID");
        let confirm = app.get(&format!("/api-keys/{id}/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains("Delete the API key “Doomed”?"));
        assert!(
            app.get("/api-keys").await.body.contains("Doomed"),
            "asking deletes nothing"
        );

        let deleted = app.post_form(&format!("/api-keys/{id}/delete"), &[]).await;
        deleted.assert_redirects_to("/api-keys");
        let list = app.get("/api-keys").await;
        assert!(list.body.contains("API key “Doomed” deleted."));
        assert!(
            !list.body.contains(&format!("id=\"app-{id}\"")),
            "the row is gone"
        );
        eventually_code(&app, &key, "NOT_FOUND").await;
        assert_eq!(
            app.get(&format!("/api-keys/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post_form(&format!("/api-keys/{id}/delete"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

each_backend!(
    duplicating_asks_for_a_name_and_shows_the_new_key_once,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let created = app
            .post_form(
                "/api-keys",
                &[
                    ("name", "Portal"),
                    ("description", "customer portal"),
                    ("is_active", "true"),
                    ("location", "3"),
                    ("web_path", "/portal/index.html"),
                    ("role_id", &role.to_string()),
                ],
            )
            .await;
        let original = shown_api_key(&app.get(created.location()).await).unwrap();
        let id: i32 = created
            .location()
            .trim_start_matches("/api-keys/")
            .trim_end_matches("/key")
            .parse()
            .unwrap();

        let form = app.get(&format!("/api-keys/{id}/duplicate")).await;
        assert!(form.body.contains("Duplicate “Portal”"));
        let empty = app
            .post_form(&format!("/api-keys/{id}/duplicate"), &[("name", " ")])
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("Application name required"));
        let taken = app
            .post_form(&format!("/api-keys/{id}/duplicate"), &[("name", "Portal")])
            .await;
        assert!(
            taken
                .body
                .contains("An application with this name already exists")
        );

        let copied = app
            .post_form(
                &format!("/api-keys/{id}/duplicate"),
                &[("name", "Portal staging")],
            )
            .await;
        let location = copied.location().to_owned();
        let copy_key =
            shown_api_key(&app.get(&location).await).expect("the copy's key is shown once");
        assert_ne!(copy_key, original);
        let copy_id: i32 = location
            .trim_start_matches("/api-keys/")
            .trim_end_matches("/key")
            .parse()
            .unwrap();
        let row = {
            let mut conn = app.pool.get().unwrap();
            keyward::apps::queries::find(&mut conn, copy_id)
                .unwrap()
                .unwrap()
        };
        assert_eq!(row.name, "Portal staging");
        assert_eq!(row.description, "customer portal (copy)");
        assert_eq!(
            (row.location, row.path.as_deref()),
            (3, Some("/portal/index.html"))
        );
        assert_eq!(row.role_id, Some(role));
        assert_eq!(code(&app, &copy_key).await, "VALID");
        assert_eq!(
            code(&app, &original).await,
            "VALID",
            "the original is untouched"
        );
    }
);

each_backend!(unknown_keys_have_no_pages, |db| async move {
    let (app, _clock, _role) = start(db).await;
    for path in [
        "/api-keys/999",
        "/api-keys/999/roll",
        "/api-keys/999/delete",
        "/api-keys/999/duplicate",
        "/api-keys/x1",
    ] {
        assert_eq!(app.get(path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
    let roll = app
        .post_form("/api-keys/999/roll", &[("grace", "now")])
        .await;
    assert_eq!(roll.status, StatusCode::NOT_FOUND);
});
