//! Duplicating a key: a new name is asked for, the copy keeps the original's
//! settings with a key of its own shown once, and the original is untouched.

use super::{code, start};
use crate::harness::{StatusCode, shown_api_key};

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
        let row = app.stored_app(copy_id);
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
