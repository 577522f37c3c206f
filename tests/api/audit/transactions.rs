//! An event is written in the same transaction as its change: a refused
//! change leaves no event, and a change whose event cannot be written does
//! not happen.

use diesel::prelude::*;

use super::events;

use crate::harness::StatusCode;

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
                crate::harness::Backend::Sqlite => {
                    &["CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"]
                }
                crate::harness::Backend::Postgres => &[
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
