//! The Create Application form over HTTP: signed-out visitors and posts
//! without the CSRF token get nothing, every field is offered by its label,
//! the role select lists roles by name, and unknown roles and storage
//! services are form errors.

use super::{
    assert_refused, create_app, every_field, location_radios, role_id, service_id,
    signed_in_at_the_form, stored_app, stored_apps, with,
};
use crate::harness::{
    StatusCode, chosen_option, create_role, is_checked, label_text, login_next, opening_tag,
    select_options, text_of,
};

storage_test!(api_keys_pages_need_a_signed_in_admin, |app| async move {
    app.create_admin(crate::harness::ADMIN_EMAIL, crate::harness::ADMIN_PASSWORD);
    for path in ["/api-keys", "/api-keys/new", "/api-keys/1/key"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        assert_eq!(
            login_next(page.header("location")).as_deref(),
            Some(path),
            "{path}"
        );
    }
    let refused = app
        .post_form("/api-keys", &every_field("Sneaky", "0", ""))
        .await;
    // Sent to the login page, not to a new key.
    assert!(
        login_next(refused.location()).is_some(),
        "a signed-out post went to {}",
        refused.location()
    );
    assert!(stored_apps(&app).is_empty());
});

storage_test!(
    creating_without_the_csrf_token_creates_nothing,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let refused = app
            .post_form_raw("/api-keys", &every_field("No token", "0", ""))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let mut wrong = every_field("Wrong token", "0", "");
        wrong.push(("csrf_token", "not-the-token"));
        let refused = app.post_form_raw("/api-keys", &wrong).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(stored_apps(&app).is_empty());
    }
);

storage_test!(the_form_offers_every_field_by_its_label, |app| async move {
    let form = signed_in_at_the_form(&app).await;
    assert!(
        form.body.contains("<title>Create Application"),
        "{}",
        form.body
    );
    for (id, label) in [
        ("name", "Application Name"),
        ("description", "Description"),
        ("is_active", "Active"),
        ("storage_service_id", "Storage Service"),
        ("storage_container", "Storage Folder"),
        ("launch_path", "Launch Path"),
        ("web_path", "Path to Application"),
        ("url", "URL to Application"),
        ("role_id", "Assign a Default Role"),
        (
            "location-0",
            "No Storage Required - remote device, client, or desktop.",
        ),
        ("location-1", "On a provisioned file storage service."),
        ("location-3", "On this web server."),
        ("location-2", "On a remote URL."),
    ] {
        assert_eq!(
            label_text(&form, id).as_deref(),
            Some(label),
            "label of #{id}"
        );
        assert!(opening_tag(&form, id).is_some(), "no control #{id}");
    }

    // The four locations, in DreamFactory's order, in a fieldset with a legend;
    // the first is chosen.
    let fieldset = form.body.find("<fieldset").expect("no fieldset");
    let legend = &form.body[fieldset..];
    assert!(
        text_of(&legend[..legend.find("</legend>").unwrap()]).ends_with("App Location"),
        "no App Location legend"
    );
    let (values, checked) = location_radios(&form);
    assert_eq!(values, ["0", "1", "3", "2"]);
    assert_eq!(checked.as_deref(), Some("0"));
    let location_fields =
        &form.body[fieldset..fieldset + form.body[fieldset..].find("</fieldset>").unwrap()];
    for id in [
        "storage_service_id",
        "storage_container",
        "launch_path",
        "web_path",
        "url",
    ] {
        assert!(
            location_fields.contains(&format!(" id=\"{id}\"")),
            "#{id} is outside the App Location fieldset"
        );
    }

    // A new key is active, stores in `applications`, and has no role yet.
    assert!(is_checked(&form, "is_active"));
    assert_eq!(
        form.input_value("storage_container").as_deref(),
        Some("applications")
    );
    assert_eq!(form.input_value("name").as_deref(), Some(""));
    let files = service_id(&app, "files").to_string();
    let logs = service_id(&app, "logs").to_string();
    assert_eq!(
        select_options(&form, "storage_service_id"),
        [
            ("".to_owned(), "Choose a storage service".to_owned(), false),
            // Chosen at first, as DreamFactory chooses its own.
            (files, "Local File Storage (files)".to_owned(), true),
            (logs, "Local Log Storage (logs)".to_owned(), false),
        ]
    );
    assert_eq!(
        select_options(&form, "role_id"),
        [("".to_owned(), "No role".to_owned(), false)]
    );
});

storage_test!(
    the_role_select_offers_no_role_then_roles_by_name,
    |app| async move {
        app.login_as_default_admin().await;
        for (name, active) in [("Viewers", true), ("Admins", true), ("Editors", false)] {
            create_role(&app, name, active).await;
        }
        let form = app.get("/api-keys/new").await;
        let options: Vec<(String, String)> = select_options(&form, "role_id")
            .into_iter()
            .map(|(value, text, _)| (value, text))
            .collect();
        assert_eq!(
            options,
            [
                ("".to_owned(), "No role".to_owned()),
                (role_id(&app, "Admins").to_string(), "Admins".to_owned()),
                (
                    role_id(&app, "Editors").to_string(),
                    "Editors (inactive)".to_owned()
                ),
                (role_id(&app, "Viewers").to_string(), "Viewers".to_owned()),
            ]
        );
        assert_eq!(chosen_option(&form, "role_id"), "");

        // The chosen role is stored with the app, and kept when the form is refused.
        let editors = role_id(&app, "Editors").to_string();
        let sent = with(
            &with(&every_field("", "0", ""), "role_id", &editors),
            "name",
            "",
        );
        let refused = app.post_form("/api-keys", &sent).await;
        assert_refused(&refused, &sent, &[("name", "Application name required")]);
        assert_eq!(chosen_option(&refused, "role_id"), editors);
        let id = create_app(&app, &with(&sent, "name", "Editor tool")).await;
        assert_eq!(stored_app(&app, id).role_id, Some(role_id(&app, "Editors")));
    }
);

storage_test!(
    unknown_roles_and_storage_services_are_form_errors,
    |app| async move {
        signed_in_at_the_form(&app).await;
        // An API service exists but is not file storage.
        let service = app
            .post_form(
                "/services",
                &[
                    ("name", "db"),
                    ("label", "Database"),
                    ("description", ""),
                    ("kind", "api"),
                    ("is_active", "true"),
                ],
            )
            .await;
        assert_eq!(service.status, StatusCode::SEE_OTHER, "{}", service.body);
        let api_service = service_id(&app, "db").to_string();

        let base = every_field("Mobile app", "0", "");
        for role in ["99999", "abc", "1.5", "-1"] {
            let sent = with(&base, "role_id", role);
            let page = app.post_form("/api-keys", &sent).await;
            assert_refused(&page, &sent, &[("role_id", "Unknown role")]);
        }
        for service in ["99999", "x", api_service.as_str()] {
            let sent = with(&with(&base, "location", "1"), "storage_service_id", service);
            let page = app.post_form("/api-keys", &sent).await;
            assert_refused(
                &page,
                &sent,
                &[("storage_service_id", "Unknown storage service")],
            );
        }
        // The API service is not offered as storage either.
        let form = app.get("/api-keys/new").await;
        assert!(
            !select_options(&form, "storage_service_id")
                .iter()
                .any(|(v, _, _)| *v == api_service),
            "an API service is offered as file storage"
        );
        assert!(stored_apps(&app).is_empty());
    }
);
