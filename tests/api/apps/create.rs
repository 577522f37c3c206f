//! Creating an app: each location keeps only its own fields, every rule is
//! shown next to its field with what was typed kept, an unchecked Active box
//! saves an inactive app, and a name is taken once, even by simultaneous
//! posts.

use super::{
    Fields, LocationColumns, assert_refused, create_app, created_app_id, every_field, list_row,
    service_id, signed_in_at_the_form, stored_app, stored_apps, with, without,
};
use crate::harness::{StatusCode, attr, field_error, is_checked};

storage_test!(each_location_keeps_only_its_own_fields, |app| async move {
    signed_in_at_the_form(&app).await;
    let logs = service_id(&app, "logs");
    let logs_id = logs.to_string();
    // (location, name, the location columns it keeps)
    let cases: [(&str, &str, LocationColumns); 4] = [
        ("0", "Desktop client", (None, None, None, None)),
        (
            "1",
            "Stored build",
            (Some(logs), Some("mobile-builds"), Some("index.html"), None),
        ),
        (
            "3",
            "Hosted here",
            (None, None, Some("/srv/www/mobile/index.html"), None),
        ),
        (
            "2",
            "Somewhere else",
            (
                None,
                None,
                None,
                Some("https://mobile.example.com/start?from=keyward"),
            ),
        ),
    ];
    for (location, name, kept) in cases {
        let id = create_app(&app, &every_field(name, location, &logs_id)).await;
        let row = stored_app(&app, id);
        assert_eq!(row.name, name);
        assert_eq!(row.description, "Used by the mobile team");
        assert!(row.is_active, "{name} is inactive");
        assert_eq!(row.role_id, None);
        assert_eq!(row.location.to_string(), location, "{name}");
        assert_eq!(
            (
                row.storage_service_id,
                row.storage_container.as_deref(),
                row.path.as_deref(),
                row.url.as_deref()
            ),
            kept,
            "location {location} keeps exactly its own fields"
        );
    }

    // File storage with a blank folder and launch path: the default folder, no path.
    let files = service_id(&app, "files");
    let files_id = files.to_string();
    let blank = with(
        &with(
            &every_field("Default folder", "1", &files_id),
            "storage_container",
            "  ",
        ),
        "launch_path",
        "",
    );
    let row = stored_app(&app, create_app(&app, &blank).await);
    assert_eq!(
        (
            row.storage_service_id,
            row.storage_container.as_deref(),
            row.path.as_deref(),
            row.url
        ),
        (Some(files), Some("applications"), None, None)
    );

    // No location sent at all is the first option, "No Storage Required".
    let row = stored_app(
        &app,
        create_app(
            &app,
            &without(&every_field("No location", "", &logs_id), "location"),
        )
        .await,
    );
    assert_eq!(row.location, 0);
    assert_eq!(
        (
            row.storage_service_id,
            row.storage_container,
            row.path,
            row.url
        ),
        (None, None, None, None)
    );

    // The name is trimmed; 64 characters and 255 of description are allowed,
    // counted as characters, not bytes.
    let long_name = "ü".repeat(64);
    let padded = format!("  {long_name}  ");
    let long_description = "é".repeat(255);
    let fields = with(
        &every_field(&padded, "0", ""),
        "description",
        &long_description,
    );
    let row = stored_app(&app, create_app(&app, &fields).await);
    assert_eq!(row.name, long_name);
    assert_eq!(row.description, long_description);

    assert_eq!(stored_apps(&app).len(), 7);
});

storage_test!(
    every_rule_is_shown_next_to_its_field_with_the_typed_values_kept,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let logs = service_id(&app, "logs").to_string();
        let base = every_field("Mobile app", "0", &logs);
        let long_name = "x".repeat(65);
        let long_description = "d".repeat(256);
        let odd_name = "Ada's \"app\" & <co>";
        let cases: Vec<(Fields, Fields)> = vec![
            (
                with(
                    &with(
                        &with(
                            &with(&base, "name", "   "),
                            "description",
                            &long_description,
                        ),
                        "location",
                        "2",
                    ),
                    "url",
                    "",
                ),
                vec![
                    ("name", "Application name required"),
                    ("description", "Description must be at most 255 characters"),
                    ("url", "URL to application required"),
                ],
            ),
            (
                with(&base, "name", ""),
                vec![("name", "Application name required")],
            ),
            (
                with(&base, "name", &long_name),
                vec![("name", "Application name must be at most 64 characters")],
            ),
            (
                with(
                    &with(&with(&base, "name", odd_name), "location", "1"),
                    "storage_service_id",
                    "",
                ),
                vec![("storage_service_id", "Choose a storage service")],
            ),
            (
                with(&with(&base, "location", "3"), "web_path", "   "),
                vec![("web_path", "Path to application required")],
            ),
            (
                with(
                    &with(&base, "location", "2"),
                    "url",
                    "ftp://files.example.com/app",
                ),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&with(&base, "location", "2"), "url", "mobile.example.com"),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&with(&base, "location", "2"), "url", "javascript:alert(1)"),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&base, "location", "7"),
                vec![("location", "Choose one of the four app locations")],
            ),
            (
                without(&with(&base, "name", ""), "is_active"),
                vec![("name", "Application name required")],
            ),
        ];
        for (sent, errors) in &cases {
            let page = app.post_form("/api-keys", sent).await;
            assert_refused(&page, sent, errors);
            // What was typed is shown as text, never as markup.
            assert!(!page.body.contains("<co>"), "unescaped input");
        }
        assert!(stored_apps(&app).is_empty(), "a refused form stored an app");

        // Only the chosen location's fields are checked: a bad URL does not
        // stop an app that lives on this web server.
        let id = create_app(
            &app,
            &with(&with(&base, "location", "3"), "url", "not a url"),
        )
        .await;
        assert_eq!(stored_app(&app, id).url, None);
    }
);

storage_test!(
    an_unchecked_active_box_saves_an_inactive_app,
    |app| async move {
        let form = signed_in_at_the_form(&app).await;
        assert!(is_checked(&form, "is_active"), "a new key starts active");

        let inactive =
            create_app(&app, &without(&every_field("Kiosk", "0", ""), "is_active")).await;
        assert!(!stored_app(&app, inactive).is_active);
        let active = create_app(&app, &every_field("Mobile", "0", "")).await;
        assert!(stored_app(&app, active).is_active);

        let list = app.get("/api-keys").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list_row(&list, "Kiosk")[0], "Inactive");
        assert_eq!(list_row(&list, "Mobile")[0], "Active");
        let toggle = list
            .body
            .match_indices("aria-label=\"Active: Kiosk\"")
            .map(|(at, _)| {
                let start = list.body[..at].rfind('<').unwrap();
                &list.body[start..at + list.body[at..].find('>').unwrap() + 1]
            })
            .next()
            .expect("no Active toggle for Kiosk");
        assert!(toggle.starts_with("<button"), "{toggle}");
        assert_eq!(attr(toggle, "role").as_deref(), Some("switch"));
        assert_eq!(attr(toggle, "aria-checked").as_deref(), Some("false"));
    }
);

storage_test!(a_duplicate_name_is_a_form_error, |app| async move {
    signed_in_at_the_form(&app).await;
    let first = create_app(&app, &every_field("Mobile app", "0", "")).await;
    let first_row = stored_app(&app, first);

    // Trimmed first, so surrounding spaces do not make it a new name.
    let sent = with(
        &every_field("  Mobile app ", "2", ""),
        "description",
        "a second try",
    );
    let page = app.post_form("/api-keys", &sent).await;
    assert_refused(
        &page,
        &sent,
        &[("name", "An application with this name already exists")],
    );
    let rows = stored_apps(&app);
    assert_eq!(rows, [first_row], "the first app is unchanged and alone");
});

storage_test!(
    simultaneous_duplicate_names_store_one_app_and_never_fail,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let fields = every_field("Race", "0", "");
        let responses =
            futures_util::future::join_all((0..8).map(|_| app.post_form("/api-keys", &fields)))
                .await;
        let mut created = 0;
        for response in &responses {
            assert!(
                !response.status.is_server_error(),
                "{}: {}",
                response.status,
                response.body
            );
            if response.status == StatusCode::SEE_OTHER {
                created_app_id(response);
                created += 1;
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{}",
                    response.body
                );
                assert_eq!(
                    field_error(response, "name").as_deref(),
                    Some("An application with this name already exists")
                );
            }
        }
        assert_eq!(created, 1, "exactly one of the simultaneous posts wins");
        let rows = stored_apps(&app);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Race");

        // Different names at once all succeed, none is lost or refused.
        let names: Vec<String> = (0..8).map(|i| format!("Parallel {i}")).collect();
        let app_ref = &app;
        let responses = futures_util::future::join_all(names.iter().map(|name| {
            let fields = every_field(name, "0", "");
            async move { app_ref.post_form("/api-keys", &fields).await }
        }))
        .await;
        for response in &responses {
            assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
            created_app_id(response);
        }
        assert_eq!(stored_apps(&app).len(), 9);
    }
);
