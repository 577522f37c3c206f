//! The audit log: every change to apps, keys, roles, rules, services and
//! administrators is recorded with who, from where and what changed, in the
//! same transaction as the change (a refused change leaves no event, and a
//! change whose event cannot be written does not happen); the Audit page lists
//! the events newest first, filtered by object and administrator, page by page.

use diesel::prelude::*;
use keyward::schema::audit_events;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestResponse};

/// One stored event, as the tests read it.
#[derive(Debug, Clone, Queryable)]
struct Stored {
    id: i32,
    admin_id: Option<i32>,
    admin_email: String,
    address: String,
    object_kind: String,
    object_id: i32,
    object_name: String,
    action: String,
    changes: String,
}

impl Stored {
    /// `(field, before, after)` of every change.
    fn changes(&self) -> Vec<(String, Option<String>, Option<String>)> {
        let list: Vec<serde_json::Value> = serde_json::from_str(&self.changes)
            .unwrap_or_else(|e| panic!("changes are not JSON ({e}): {}", self.changes));
        list.into_iter()
            .map(|c| {
                let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
                (
                    c["field"].as_str().unwrap().to_owned(),
                    text(&c["before"]),
                    text(&c["after"]),
                )
            })
            .collect()
    }

    fn change(&self, field: &str) -> Option<(Option<String>, Option<String>)> {
        self.changes()
            .into_iter()
            .find(|(f, _, _)| f == field)
            .map(|(_, before, after)| (before, after))
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Every event, oldest first.
fn events(app: &TestApp) -> Vec<Stored> {
    let mut conn = app.pool.get().expect("no database connection");
    audit_events::table
        .order(audit_events::id.asc())
        .select((
            audit_events::id,
            audit_events::admin_id,
            audit_events::admin_email,
            audit_events::address,
            audit_events::object_kind,
            audit_events::object_id,
            audit_events::object_name,
            audit_events::action,
            audit_events::changes,
        ))
        .load(&mut *conn)
        .expect("cannot read the audit log")
}

fn last_event(app: &TestApp) -> Stored {
    events(app).pop().expect("the audit log is empty")
}

/// The events after the first `since`.
fn events_since(app: &TestApp, since: usize) -> Vec<Stored> {
    events(app).into_iter().skip(since).collect()
}

/// The ids of the event rows on an Audit page, top to bottom.
fn rows(page: &TestResponse) -> Vec<i32> {
    page.body
        .match_indices("<tr id=\"event-")
        .map(|(at, m)| {
            let rest = &page.body[at + m.len()..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        })
        .collect()
}

/// The `href` of the link whose text is `text` (`>Older</a>`).
fn link(page: &TestResponse, text: &str) -> Option<String> {
    let end = page.body.find(&format!(">{text}</a>"))?;
    let start = page.body[..end].rfind("href=\"")? + "href=\"".len();
    let href = &page.body[start..];
    Some(crate::helpers::html_unescape(&href[..href.find('"')?]))
}

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
        let new_key = crate::helpers::shown_api_key(&page).expect("no new key shown");
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

storage_test!(a_refused_change_leaves_no_event, |app| async move {
    let me = app.login_as_default_admin().await;
    app.create_key("Taken", None).await;
    let (id, _) = app.create_key("Mobile", None).await;
    let before = events(&app);

    let taken = app
        .post_form(
            &format!("/api-keys/{id}"),
            &[("name", "Taken"), ("location", "0")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    let duplicate = app
        .post_form("/api-keys", &[("name", "Taken"), ("location", "0")])
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The last active administrator: the change is written, then refused
    // and rolled back in the same transaction as its event.
    let refused = app
        .post_form(&format!("/admins/{me}/active"), &[("active", "false")])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let refused = app.post_form(&format!("/admins/{me}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);

    let after = events(&app);
    assert_eq!(
        after.iter().map(|e| e.id).collect::<Vec<_>>(),
        before.iter().map(|e| e.id).collect::<Vec<_>>()
    );
});

storage_test!(
    a_change_whose_event_cannot_be_written_does_not_happen,
    |app| async move {
        app.login_as_default_admin().await;
        let role = app.create_role("Readers").await;
        let (id, key) = app.create_key("Mobile", Some(role)).await;
        // From now on the database refuses every new audit event.
        {
            let mut conn = app.pool.get().expect("no database connection");
            let statements: &[&str] = match app.backend() {
                crate::helpers::Backend::Sqlite => {
                    &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"]
                }
                crate::helpers::Backend::Postgres => &[
                    "CREATE FUNCTION refuse_audit() RETURNS trigger AS \
                 $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql",
                    "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
                ],
            };
            for statement in statements {
                diesel::sql_query(*statement)
                    .execute(&mut *conn)
                    .expect("cannot add the trigger");
            }
        }

        let toggled = app
            .post_form(&format!("/api-keys/{id}/active"), &[("active", "false")])
            .await;
        assert_eq!(toggled.status, StatusCode::INTERNAL_SERVER_ERROR);
        let edited = app
            .post_form(
                &format!("/api-keys/{id}"),
                &[
                    ("name", "Renamed"),
                    ("location", "0"),
                    ("is_active", "true"),
                ],
            )
            .await;
        assert_eq!(edited.status, StatusCode::INTERNAL_SERVER_ERROR);
        let roll = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "now")])
            .await;
        assert_eq!(roll.status, StatusCode::INTERNAL_SERVER_ERROR);
        let created = app
            .post_form("/api-keys", &[("name", "Tablet"), ("location", "0")])
            .await;
        assert_eq!(created.status, StatusCode::INTERNAL_SERVER_ERROR);

        // Nothing changed: the key still works under its old name.
        let answer = app.verify(&serde_json::json!({ "key": key })).await;
        assert_eq!(answer["code"], "VALID", "{answer}");
        assert_eq!(answer["app"]["name"], "Mobile");
        let list = app.get("/api-keys").await;
        assert!(!list.body.contains("Tablet") && !list.body.contains("Renamed"));
    }
);

storage_test!(
    the_audit_page_filters_and_pages_newest_first,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let other = app.create_admin("grace@example.com", "grace's long password");
        let role = app.create_role("Readers").await;
        let mut apps = Vec::new();
        for i in 0..12 {
            apps.push(app.create_key(&format!("App {i:02}"), Some(role)).await.0);
        }
        app.set_key_active(apps[3], false).await;
        let log = events(&app);
        let newest_first: Vec<i32> = log.iter().rev().map(|e| e.id).collect();

        // The navbar leads here; the whole log, newest first.
        let page = app.get("/audit").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body
                .contains(r#"<a href="/audit" aria-current="page">Audit</a>"#)
        );
        assert_eq!(rows(&page), newest_first);
        assert!(page.body.contains("Updated") && page.body.contains("“App 03”"));
        assert!(
            page.body.contains("<del>yes</del> → <ins>no</ins>"),
            "{}",
            page.body
        );
        assert!(page.body.contains("from 127.0.0.1"));

        // Ten per page: Older, then Newer back again; the URL holds the state.
        let first = app.get("/audit?per_page=10").await;
        assert_eq!(rows(&first), newest_first[..10]);
        assert!(link(&first, "Newer").is_none());
        let older = link(&first, "Older").expect("no Older link");
        assert!(older.starts_with("/audit?per_page=10&before="), "{older}");
        let second = app.get(&older).await;
        assert_eq!(rows(&second), newest_first[10..]);
        assert!(link(&second, "Older").is_none());
        let newer = link(&second, "Newer").expect("no Newer link");
        assert_eq!(rows(&app.get(&newer).await), newest_first[..10]);

        // By kind of object, and one object's history (linked from each row).
        let roles = app.get("/audit?object=role").await;
        assert_eq!(rows(&roles).len(), 1);
        let history = format!("href=\"/audit?object=app&id={}\"", apps[3]);
        assert!(
            crate::helpers::html_unescape(&page.body).contains(&history),
            "no history link"
        );
        let edit_page = app.get(&format!("/api-keys/{}", apps[3])).await;
        assert!(crate::helpers::html_unescape(&edit_page.body).contains(&history));
        let one = app.get(&format!("/audit?object=app&id={}", apps[3])).await;
        let of_app_3: Vec<i32> = log
            .iter()
            .rev()
            .filter(|e| e.object_kind == "app" && e.object_id == apps[3])
            .map(|e| e.id)
            .collect();
        assert_eq!(of_app_3.len(), 2);
        assert_eq!(rows(&one), of_app_3);
        assert!(
            one.body
                .contains("History of API key <strong>“App 03”</strong>"),
            "{}",
            one.body
        );

        // By administrator: the other one changed nothing yet.
        let theirs = app.get(&format!("/audit?admin={other}")).await;
        assert!(rows(&theirs).is_empty());
        assert!(theirs.body.contains("No changes recorded"));
        let mine = app.get(&format!("/audit?admin={me}&object=app")).await;
        assert_eq!(rows(&mine).len(), 13);

        // A stale or malformed URL still opens the page.
        for url in [
            "/audit?object=nonsense&admin=x&per_page=7",
            "/audit?before=abc",
        ] {
            let page = app.get(url).await;
            assert_eq!(page.status, StatusCode::OK, "{url}");
            assert_eq!(rows(&page), newest_first, "{url}");
        }
    }
);

storage_test!(
    the_audit_page_needs_a_signed_in_administrator,
    |app| async move {
        let page = app.get("/audit").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location().starts_with("/login"), "{}", page.location());
    }
);
