//! What is recorded: changes to apps and keys (and the app a duplicate
//! makes), to roles, rules and services, and to administrators (without
//! passwords), each with who made it, from where, and each field's before
//! and after.

use super::{events, events_since, last_event, some};

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode};

storage_test!(
    app_and_key_changes_are_recorded_with_who_and_what,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let role = app.create_role("Readers").await;
        let (id, key) = app.create_key("Kiosk", Some(role)).await;

        let created = last_event(&app);
        assert_eq!(
            (
                created.object_kind.as_str(),
                created.object_id,
                created.action.as_str()
            ),
            ("app", id, "created")
        );
        assert_eq!(created.object_name, "Kiosk");
        assert_eq!(created.admin_id, Some(me));
        assert_eq!(created.admin_email, ADMIN_EMAIL);
        assert_eq!(created.address, "127.0.0.1");
        assert_eq!(
            created.change("Application Name"),
            Some((None, some("Kiosk")))
        );
        assert_eq!(
            created.change("Default Role"),
            Some((None, some("Readers")))
        );
        assert_eq!(
            created.change("App Location"),
            Some((None, some("No Storage Required")))
        );
        // The key only by its display prefix.
        let (_, prefix) = created.change("Key").expect("no key field");
        let prefix = prefix.unwrap();
        assert!(key.starts_with(prefix.trim_end_matches('…')), "{prefix}");
        assert!(prefix.len() < 20, "{prefix}");

        // An edit records the fields that changed, before and after.
        let saved = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[
                    ("name", "Kiosk"),
                    ("description", "Lobby screen"),
                    ("is_active", "true"),
                    ("location", "2"),
                    ("url", "https://kiosk.example.com/"),
                    ("role_id", ""),
                    ("expires_at", "2030-01-02T03:04"),
                ],
            )
            .await;
        saved.assert_redirects_to(&format!("/api-keys/{id}"));
        let edited = last_event(&app);
        assert_eq!(edited.action, "updated");
        assert_eq!(
            edited.changes(),
            vec![
                ("Description".to_owned(), some(""), some("Lobby screen")),
                (
                    "App Location".to_owned(),
                    some("No Storage Required"),
                    some("On a remote URL")
                ),
                ("URL".to_owned(), None, some("https://kiosk.example.com/")),
                ("Default Role".to_owned(), some("Readers"), some("none")),
                (
                    "Expires".to_owned(),
                    some("never"),
                    some("2030-01-02 03:04 UTC")
                ),
            ]
        );

        // Saving the form unchanged is no change.
        let before = events(&app).len();
        app.post_form(
            &format!("/api-keys/{id}"),
            &[
                ("name", "Kiosk"),
                ("description", "Lobby screen"),
                ("is_active", "true"),
                ("location", "2"),
                ("url", "https://kiosk.example.com/"),
                ("role_id", ""),
                ("expires_at", "2030-01-02T03:04"),
            ],
        )
        .await
        .assert_redirects_to(&format!("/api-keys/{id}"));
        assert_eq!(events(&app).len(), before);

        // The Active toggle.
        app.set_key_active(id, false).await;
        let toggled = last_event(&app);
        assert_eq!(toggled.action, "updated");
        assert_eq!(
            toggled.changes(),
            vec![("Active".to_owned(), some("yes"), some("no"))]
        );

        // A roll: the new prefix, and until when the old key works.
        let rolled = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "1h")])
            .await;
        let page = app.get(rolled.location()).await;
        let new_key = crate::harness::shown_api_key(&page).expect("no new key shown");
        let roll = last_event(&app);
        assert_eq!(roll.action, "key_rolled");
        let (old_prefix, new_prefix) = roll.change("Key").expect("no key change");
        assert_eq!(old_prefix, some(&prefix));
        assert!(new_key.starts_with(new_prefix.unwrap().trim_end_matches('…')));
        let (none, until) = roll.change("Old key works until").expect("no grace period");
        assert_eq!(none, None);
        assert!(until.unwrap().ends_with(" UTC"));

        // Deletion keeps every field as it was.
        app.post_form(&format!("/api-keys/{id}/delete"), &[])
            .await
            .assert_redirects_to("/api-keys");
        let deleted = last_event(&app);
        assert_eq!(
            (deleted.action.as_str(), deleted.object_id),
            ("deleted", id)
        );
        assert_eq!(
            deleted.change("Application Name"),
            Some((some("Kiosk"), None))
        );

        // Never a key or a password, in the log or on its page.
        let page = app.get("/audit").await;
        for event in events(&app) {
            for secret in [key.as_str(), new_key.as_str(), ADMIN_PASSWORD] {
                assert!(!event.changes.contains(secret), "{event:?}");
            }
        }
        for secret in [key.as_str(), new_key.as_str(), ADMIN_PASSWORD] {
            assert!(!page.body.contains(secret));
        }
    }
);

storage_test!(duplicating_records_the_new_app, |app| async move {
    app.login_as_default_admin().await;
    let (id, _) = app.create_key("Mobile", None).await;
    let duplicated = app
        .post_form(&format!("/api-keys/{id}/duplicate"), &[("name", "Tablet")])
        .await;
    assert_eq!(
        duplicated.status,
        StatusCode::SEE_OTHER,
        "{}",
        duplicated.body
    );
    let event = last_event(&app);
    assert_eq!(
        (event.action.as_str(), event.object_name.as_str()),
        ("created", "Tablet")
    );
    assert_ne!(event.object_id, id);
    assert_eq!(event.change("Description"), Some((None, some("(copy)"))));
});

storage_test!(roles_rules_and_services_are_recorded, |app| async move {
    app.login_as_default_admin().await;
    let start = events(&app).len();
    let service = app.create_service("orders", "api").await;
    let role = app.create_role("Clerks").await;
    let rule = app
        .add_rule(role, Some(service), "invoices/*", &["GET", "POST"])
        .await;
    app.add_rule(role, None, "*", &["GET"]).await;
    app.post_form(
        &format!("/roles/{role}"),
        &[
            ("name", "Clerks"),
            ("description", "Front desk"),
            ("is_active", "true"),
        ],
    )
    .await
    .assert_redirects_to(&format!("/roles/{role}"));
    let removed = app
        .post_form(&format!("/roles/{role}/rules/{rule}/delete"), &[])
        .await;
    assert!(removed.status.is_redirection(), "{}", removed.body);
    app.add_rule(role, Some(service), "", &["DELETE"]).await;
    let deleted = app
        .post_form(&format!("/services/{service}/delete"), &[])
        .await;
    assert!(deleted.status.is_redirection(), "{}", deleted.body);
    let gone = app.post_form(&format!("/roles/{role}/delete"), &[]).await;
    assert!(gone.status.is_redirection(), "{}", gone.body);

    let log = events_since(&app, start);
    let summary: Vec<(&str, &str, &str)> = log
        .iter()
        .map(|e| {
            (
                e.object_kind.as_str(),
                e.object_name.as_str(),
                e.action.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("service", "orders", "created"),
            ("role", "Clerks", "created"),
            ("role", "Clerks", "rule_added"),
            ("role", "Clerks", "rule_added"),
            ("role", "Clerks", "updated"),
            ("role", "Clerks", "rule_removed"),
            ("role", "Clerks", "rule_added"),
            ("service", "orders", "deleted"),
            ("role", "Clerks", "deleted"),
        ]
    );
    assert_eq!(log[0].change("Kind"), Some((None, some("API"))));
    assert_eq!(
        log[2].change("Rule"),
        Some((None, some("GET, POST on orders/invoices/*")))
    );
    assert_eq!(
        log[3].change("Rule"),
        Some((None, some("GET on all services, component *")))
    );
    assert_eq!(
        log[4].changes(),
        vec![("Description".to_owned(), some(""), some("Front desk"))]
    );
    assert_eq!(
        log[5].change("Rule"),
        Some((some("GET, POST on orders/invoices/*"), None))
    );
    // Deleting the service says which rules went with it.
    assert_eq!(log[7].change("Rules"), Some((some("Clerks: orders"), None)));
    assert!(log.iter().all(|e| e.admin_email == ADMIN_EMAIL));
});

storage_test!(
    administrator_changes_are_recorded_without_passwords,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let start = events(&app).len();
        let other_password = "grace's long password";
        let created = app
            .post_form(
                "/admins",
                &[
                    ("email", "grace@example.com"),
                    ("name", "Grace"),
                    ("password", other_password),
                    ("password_confirm", other_password),
                ],
            )
            .await;
        created.assert_redirects_to("/admins");
        let other = last_event(&app).object_id;
        for active in ["false", "true"] {
            app.post_form(&format!("/admins/{other}/active"), &[("active", active)])
                .await
                .assert_redirects_to("/admins");
        }
        let new_password = "a brand new password";
        let changed = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", new_password),
                    ("new_password_confirm", new_password),
                ],
            )
            .await;
        assert!(changed.status.is_redirection(), "{}", changed.body);
        // Signing in again after the change gave this session a new CSRF token.
        app.forget_csrf_token();
        app.post_form(&format!("/admins/{other}/delete"), &[])
            .await
            .assert_redirects_to("/admins");

        let log = events_since(&app, start);
        let summary: Vec<(&str, i32, &str)> = log
            .iter()
            .map(|e| (e.object_kind.as_str(), e.object_id, e.action.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("admin", other, "created"),
                ("admin", other, "updated"),
                ("admin", other, "updated"),
                ("admin", me, "password_changed"),
                ("admin", other, "deleted"),
            ]
        );
        assert_eq!(log[0].object_name, "grace@example.com");
        assert_eq!(
            log[1].changes(),
            vec![("Active".to_owned(), some("yes"), some("no"))]
        );
        assert_eq!(
            log[2].changes(),
            vec![("Active".to_owned(), some("no"), some("yes"))]
        );
        for event in &log {
            for secret in [other_password, new_password, ADMIN_PASSWORD, "$argon2"] {
                assert!(!event.changes.contains(secret), "{event:?}");
            }
        }
        // The first administrator came from the command line (the test harness
        // creates it as `keyward admin create` does).
        let first = &events(&app)[0];
        assert_eq!(
            (first.object_id, first.admin_id, first.address.as_str()),
            (me, None, "command line")
        );
    }
);
