//! Editing a key: the edit page shows its details and saves every field,
//! validates as creating does, an expiry date refuses the key once it has
//! passed, and unknown keys have no pages.

use chrono::TimeDelta;
use serde_json::json;

use super::{code, eventually_code, expiry_field, start};
use crate::harness::{StatusCode, shown_api_key};

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
    let auth = crate::harness::api_client()
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

each_backend!(
    a_key_about_to_expire_is_flagged_on_the_list_and_its_page,
    |db| async move {
        let (app, clock, role) = start(db).await;
        let role = role.to_string();
        for (name, from_now) in [
            ("Soon", TimeDelta::days(3) + TimeDelta::hours(1)),
            ("Later", TimeDelta::days(10)),
        ] {
            let expires_at = expiry_field(&clock, from_now);
            let created = app
                .post_form(
                    "/api-keys",
                    &[
                        ("name", name),
                        ("is_active", "true"),
                        ("location", "0"),
                        ("role_id", &role),
                        ("expires_at", &expires_at),
                    ],
                )
                .await;
            assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
        }
        let badge = |page: &str, name: &str| {
            page.contains(&format!(
                ">{name}</a> <span class=\"badge expiring-badge\">"
            ))
        };
        let list = app.get("/api-keys").await;
        assert!(
            list.body
                .contains("<span class=\"badge expiring-badge\">Expires in 3 days</span>")
                && badge(&list.body, "Soon")
                && !badge(&list.body, "Later"),
            "within the default 7 days only: {}",
            list.body
        );
        let soon = app
            .stored_apps()
            .into_iter()
            .find(|a| a.name == "Soon")
            .unwrap();
        let page = app.get(&format!("/api-keys/{}", soon.id)).await;
        assert!(
            page.body
                .contains("<strong class=\"expiring\">Expires in 3 days</strong>"),
            "{}",
            page.body
        );

        // A week on, "Later" is three days away and "Soon" has expired.
        clock.advance(TimeDelta::days(7));
        let list = app.get("/api-keys").await;
        assert!(badge(&list.body, "Later"), "{}", list.body);
        assert!(
            list.body
                .contains(">Soon</a> <span class=\"badge expired-badge\">Expired</span>"),
            "{}",
            list.body
        );
    }
);

each_backend!(no_key_is_flagged_with_the_warning_off, |db| async move {
    let clock = std::sync::Arc::new(keyward::clock::ManualClock::default());
    let shared = clock.clone();
    let app = crate::harness::TestApp::start(db, move |settings| {
        settings.clock = shared;
        settings.expiry_warning_days = 0;
    })
    .await;
    app.login_as_default_admin().await;
    let expires_at = expiry_field(&clock, TimeDelta::hours(2));
    let created = app
        .post_form(
            "/api-keys",
            &[
                ("name", "Soon"),
                ("location", "0"),
                ("expires_at", &expires_at),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let list = app.get("/api-keys").await;
    assert!(list.body.contains(">Soon</a>"), "{}", list.body);
    assert!(!list.body.contains("expiring-badge"), "{}", list.body);
});
