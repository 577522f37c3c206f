//! Roles (`src/roles/`): the Roles page lists and creates roles, and its
//! errors are shown with the typed values kept. (Rules are judged in
//! `verify::rules`; the role select of the API Keys form is in `apps::form`.)

use diesel::prelude::*;
use keyward::schema::roles;

use crate::harness::{
    StatusCode, TestApp, create_role, field_error, is_checked, label_text, table_rows,
    textarea_value,
};

fn stored_role_names(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().expect("no database connection");
    roles::table
        .select(roles::name)
        .order(roles::id.asc())
        .load(&mut *conn)
        .expect("cannot read roles")
}

storage_test!(the_roles_page_lists_and_creates_roles, |app| async move {
    app.login_as_default_admin().await;
    let empty = app.get("/roles").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("No roles yet"), "{}", empty.body);
    let form = app.get("/roles/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(label_text(&form, "name").as_deref(), Some("Name"));
    assert_eq!(
        label_text(&form, "description").as_deref(),
        Some("Description")
    );
    assert_eq!(label_text(&form, "is_active").as_deref(), Some("Active"));
    assert!(is_checked(&form, "is_active"), "a new role starts active");

    let created = app
        .post_form(
            "/roles",
            &[
                ("name", "  Readers "),
                ("description", "Read-only access"),
                ("is_active", "true"),
            ],
        )
        .await;
    created.assert_redirects_to("/roles");
    let list = app.follow(created).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("Role “Readers” created."),
        "{}",
        list.body
    );
    let rows = table_rows(&list);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][..3], ["Active", "Readers", "Read-only access"]);
    // The flash is shown once.
    assert!(!app.get("/roles").await.body.contains("created."));

    create_role(&app, "Paused", false).await;
    let list = app.get("/roles").await;
    let paused = table_rows(&list)
        .into_iter()
        .find(|cells| cells[1] == "Paused")
        .expect("no Paused row");
    assert_eq!(paused[0], "Inactive");
    assert_eq!(stored_role_names(&app), ["Readers", "Paused"]);
});

storage_test!(
    role_errors_are_shown_with_the_typed_values,
    |app| async move {
        app.login_as_default_admin().await;
        create_role(&app, "Readers", true).await;
        app.get("/roles/new").await;

        for (name, description, field, message) in [
            ("   ", "Nobody yet", "name", "Role name required"),
            (
                " Readers",
                "Again",
                "name",
                "A role with this name already exists",
            ),
        ] {
            let page = app
                .post_form("/roles", &[("name", name), ("description", description)])
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name:?}: {}",
                page.body
            );
            assert_eq!(
                field_error(&page, field).as_deref(),
                Some(message),
                "{name:?}"
            );
            assert_eq!(page.input_value("name").as_deref(), Some(name));
            assert_eq!(
                textarea_value(&page, "description").as_deref(),
                Some(description)
            );
            assert!(!is_checked(&page, "is_active"), "Active was not sent");
        }
        assert_eq!(stored_role_names(&app), ["Readers"]);
    }
);
