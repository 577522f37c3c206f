//! The Import page as an administrator uses it: upload a package, read what
//! would happen (nothing is written yet), import, and see what happened;
//! bad uploads get their message next to the field, nothing written.

use reqwest::multipart::{Form, Part};

use super::{SHOP_KEY, counts, package, zip};
use crate::harness::{StatusCode, TestApp, TestResponse, field_error, is_checked, text_of};

/// Posts the upload form as a browser does (multipart, with the page's CSRF token).
async fn upload(app: &TestApp, bytes: Vec<u8>, fields: &[(&str, &str)]) -> TestResponse {
    let token = app.csrf_token().await;
    let mut form = Form::new().text("csrf_token", token);
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    let form = form.part(
        "package",
        Part::bytes(bytes)
            .file_name("dreamfactory-export.zip")
            .mime_str("application/zip")
            .unwrap(),
    );
    app.send(app.client.post(app.url("/import")).multipart(form))
        .await
}

storage_test!(an_upload_is_reviewed_then_imported, |app| async move {
    app.login_as_default_admin().await;
    let list = app.get("/api-keys").await;
    assert!(
        list.body.contains(r#"href="/import""#),
        "the API Keys page links the Import page"
    );
    let page = app.get("/import").await;
    assert_eq!(page.status, StatusCode::OK);
    let before = counts(&app);
    let uploaded = upload(
        &app,
        package(Some("pkg-pass-1")),
        &[("password", "pkg-pass-1"), ("with_admins", "true")],
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let review_path = uploaded.location().to_owned();
    let review = app.get(&review_path).await;
    assert_eq!(review.status, StatusCode::OK);
    let text = text_of(&review.body);
    for expected in [
        "Review the import",
        "dreamfactory-export.zip",
        "6 to create, 0 to update, 1 existing skipped, 0 not imported",
        "nothing has been written yet",
        "will be created",
        "publicly known key",
        "row-level filter",
        "system/cors.json",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    assert!(!review.body.contains(SHOP_KEY), "the page shows a key");
    assert_eq!(counts(&app), before, "the review wrote something");
    let done = app.post_form(&review_path, &[]).await;
    done.assert_redirects_to(&review_path);
    let result = app.get(&review_path).await;
    let text = text_of(&result.body);
    assert!(
        text.contains("Imported from DreamFactory: 6 created"),
        "{text}"
    );
    assert!(text.contains("created"), "{text}");
    let after = counts(&app);
    assert_eq!(
        [
            after[0] - before[0],
            after[3] - before[3],
            after[4] - before[4]
        ],
        [1, 3, 1]
    );
    // A second click does not import twice.
    app.post_form(&review_path, &[])
        .await
        .assert_redirects_to(&review_path);
    assert_eq!(counts(&app), after);
    // The audit log says where the objects came from, and who brought them.
    let audit = text_of(&app.get("/audit").await.body);
    assert!(audit.contains("Imported from DreamFactory"), "{audit}");
});

storage_test!(
    bad_uploads_are_refused_next_to_their_field_with_the_options_kept,
    |app| async move {
        app.login_as_default_admin().await;
        let before = counts(&app);
        let secured = package(Some("pkg-pass-1"));
        for (bytes, fields, field, says) in [
            (
                secured.clone(),
                vec![("update", "true")],
                "password",
                "This package is secured: give its password",
            ),
            (
                secured.clone(),
                vec![("update", "true"), ("password", "nope-nope")],
                "password",
                "The password is wrong",
            ),
            (
                b"hello".to_vec(),
                vec![("update", "true")],
                "package",
                "This is not a ZIP file",
            ),
            (
                zip(&[("a.json", serde_json::json!([]))], None),
                vec![("update", "true")],
                "package",
                "no package.json",
            ),
            (
                Vec::new(),
                vec![("update", "true")],
                "package",
                "Choose the package",
            ),
        ] {
            let page = upload(&app, bytes, &fields).await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{says}: {}",
                page.body
            );
            let error = field_error(&page, field)
                .unwrap_or_else(|| panic!("no error at {field}: {}", page.body));
            assert!(error.contains(says), "{error}");
            assert!(is_checked(&page, "update"), "the options are kept");
            assert!(
                !page.body.contains("nope-nope"),
                "the password is shown again"
            );
        }
        assert_eq!(counts(&app), before);
    }
);

storage_test!(
    an_upload_needs_the_csrf_token_and_belongs_to_its_administrator,
    |app| async move {
        app.login_as_default_admin().await;
        let form = Form::new().part("package", Part::bytes(package(None)).file_name("p.zip"));
        let forged = app
            .send(app.client.post(app.url("/import")).multipart(form))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let uploaded = upload(&app, package(None), &[]).await;
        let review_path = uploaded.location().to_owned();
        // Another administrator cannot see or confirm it.
        app.create_admin("second@example.com", "second admin password");
        app.logout().await;
        app.login("second@example.com", "second admin password")
            .await;
        app.forget_csrf_token();
        assert_eq!(app.get(&review_path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.post_form(&review_path, &[]).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/import/not-an-upload").await.status,
            StatusCode::NOT_FOUND
        );
    }
);
