//! Bad input to the API Keys forms and paths: the Create and Edit
//! Application forms, the list's search and paging parameters, and the key
//! actions (toggle, duplicate, roll, delete) with bad ids in their paths.

use proptest::prelude::*;

use super::{
    CASES, Fields, app_rows, assert_escaped, assert_no_server_error, draw, field, one_of, post,
    sent, submission, text, value,
};
use crate::harness::{StatusCode, StoredApp, TestApp};

/// What an accepted app form must have stored, worked out from what was sent.
fn assert_app_stored_as_sent(row: &StoredApp, fields: &Fields) {
    let case = format!("{fields:?} stored as {row:?}");
    assert_eq!(row.name, value(fields, "name").trim(), "{case}");
    assert_eq!(
        row.description,
        value(fields, "description").trim(),
        "{case}"
    );
    assert_eq!(row.is_active, sent(fields, "is_active"), "{case}");
    let location = match value(fields, "location").trim() {
        "" | "0" => 0,
        other => other.parse().expect("an accepted location is a number"),
    };
    assert_eq!(row.location, location, "{case}");
    let id = |name: &str| value(fields, name).trim().parse::<i32>().ok();
    assert_eq!(row.role_id, id("role_id"), "{case}");
    let (service, folder, path, url) = match location {
        0 => (None, None, None, None),
        1 => {
            let folder = match value(fields, "storage_container").trim() {
                "" => "applications",
                folder => folder,
            };
            let launch = value(fields, "launch_path").trim();
            (
                id("storage_service_id"),
                Some(folder.to_owned()),
                (!launch.is_empty()).then(|| launch.to_owned()),
                None,
            )
        }
        3 => (
            None,
            None,
            Some(value(fields, "web_path").trim().to_owned()),
            None,
        ),
        2 => {
            let url = row.url.as_deref().expect("a remote URL app has its URL");
            assert_eq!(
                url::Url::parse(url).ok(),
                url::Url::parse(value(fields, "url").trim()).ok(),
                "{case}"
            );
            (None, None, None, Some(url.to_owned()))
        }
        other => panic!("location {other} accepted: {case}"),
    };
    assert_eq!(
        (
            &row.storage_service_id,
            &row.storage_container,
            &row.path,
            &row.url
        ),
        (&service, &folder, &path, &url),
        "only the chosen location's fields are kept: {case}"
    );
    // Never half-written: every app has its key.
    assert_eq!(row.key_hash.len(), 64, "{case}");
    assert!(row.key_prefix.starts_with("kw_"), "{case}");
}

/// The Create/Edit Application form with ids that exist (and anything else).
fn app_form(role_id: i32, file_service_id: i32) -> BoxedStrategy<Fields> {
    let role = role_id.to_string();
    let service = file_service_id.to_string();
    submission(vec![
        ("name", field()),
        ("description", field()),
        ("is_active", one_of(&["true", "on"])),
        ("location", one_of(&["0", "1", "2", "3"])),
        ("storage_service_id", one_of(&[&service, "", "0", "-1"])),
        (
            "storage_container",
            one_of(&["applications", "", "my/apps"]),
        ),
        ("launch_path", field()),
        (
            "web_path",
            one_of(&["/var/www/app", "/srv/<script>x</script>"]),
        ),
        (
            "url",
            one_of(&[
                "https://app.example.com/",
                "http://10.0.0.5:8080/x?a=<b>",
                "javascript:alert(1)",
            ]),
        ),
        ("role_id", one_of(&[&role, "", "0", "2147483648"])),
        (
            "expires_at",
            one_of(&["", "2030-01-31T18:00", "2030-02-30T00:00"]),
        ),
    ])
}

/// Signed in, with a role and the id of the seeded file storage service.
async fn signed_in(app: &TestApp) -> (i32, i32) {
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    (role, app.service_id("files"))
}

storage_test!(app_create_form, |app| async move {
    let (role, files) = signed_in(&app).await;
    let mut accepted = Vec::new();
    for fields in draw(app_form(role, files), CASES) {
        let before = app_rows(&app);
        let response = post(&app, "/api-keys", &fields).await;
        assert_no_server_error(&response, &fields);
        let after = app_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "a refused form stored something: {fields:?}");
            continue;
        }
        assert_eq!(after.len(), before.len() + 1, "{fields:?}");
        let row = after.last().unwrap();
        response.assert_redirects_to(&format!("/api-keys/{}/key", row.id));
        assert_app_stored_as_sent(row, &fields);
        let page = app.get(&format!("/api-keys/{}", row.id)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert_eq!(page.input_value("name").as_deref(), Some(row.name.as_str()));
        let strings = [&row.name, &row.description]
            .into_iter()
            .chain(&row.path)
            .chain(&row.url)
            .chain(&row.storage_container)
            .cloned()
            .collect::<Vec<_>>();
        assert_escaped(&page, &strings);
        accepted.extend(strings);
    }
    assert!(
        !accepted.is_empty(),
        "no case was accepted: the cases are too hostile"
    );
    let list = app.get("/api-keys").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_escaped(&list, &accepted);
});

storage_test!(app_edit_form, |app| async move {
    let (role, files) = signed_in(&app).await;
    let (id, _) = app.create_key("Edited", Some(role)).await;
    let mut saved = 0;
    for fields in draw(app_form(role, files), CASES) {
        let before = app_rows(&app);
        let response = post(&app, &format!("/api-keys/{id}"), &fields).await;
        assert_no_server_error(&response, &fields);
        let after = app_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(
                before, after,
                "a refused edit changed something: {fields:?}"
            );
            continue;
        }
        saved += 1;
        assert_eq!(after.len(), 1);
        let row = &after[0];
        assert_eq!(row.key_hash, before[0].key_hash, "an edit keeps the key");
        assert_app_stored_as_sent(row, &fields);
        let page = app.get(&format!("/api-keys/{id}")).await;
        assert_eq!(page.input_value("name").as_deref(), Some(row.name.as_str()));
        assert_escaped(&page, &[row.name.clone(), row.description.clone()]);
    }
    assert!(saved > 0, "no edit was accepted");
});

storage_test!(list_search_and_paging_queries, |app| async move {
    app.login_as_default_admin().await;
    app.create_key("<script>alert(1)</script>", None).await;
    let params = submission(vec![
        ("q", field()),
        ("status", one_of(&["all", "active", "inactive", "expired"])),
        ("sort", one_of(&["name", "created", "last_used"])),
        ("dir", one_of(&["asc", "desc"])),
        ("per_page", one_of(&["25", "50", "100", "0", "-1"])),
        (
            "after",
            one_of(&["a~1", "never~1", "2026-01-01T00:00:00.000000~1", "x\u{0}~1"]),
        ),
        ("before", one_of(&["z~99", "~", "a~99999999999999999999"])),
    ]);
    for fields in draw(params, CASES) {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = format!("/api-keys?{}", crate::harness::query(&pairs));
        for htmx in [false, true] {
            let mut request = app.client.get(app.url(&path));
            if htmx {
                request = request.header("HX-Request", "true");
            }
            let page = app.send(request).await;
            assert_no_server_error(&page, &fields);
            assert_eq!(page.status, StatusCode::OK, "{fields:?}");
            assert!(!page.body.contains("<script>alert"), "{fields:?}");
        }
    }
});

/// A path segment where keyward expects an id.
fn id_segment() -> BoxedStrategy<String> {
    prop_oneof![
        Just("0".to_owned()),
        Just("-1".to_owned()),
        Just("99999999999".to_owned()),
        Just("1.5".to_owned()),
        text().prop_map(|t| crate::harness::query(&[("", &t)])[1..].to_owned()),
    ]
    .boxed()
}

storage_test!(key_actions_and_ids_in_paths, |app| async move {
    let (role, _) = signed_in(&app).await;
    let (id, _) = app.create_key("Original", Some(role)).await;
    let admin_id = app.create_admin("second@example.com", "a long enough password");
    let actions = (
        proptest::sample::select(vec![
            "active",
            "duplicate",
            "roll",
            "delete",
            "admin-active",
        ]),
        prop_oneof![3 => Just(None), 1 => id_segment().prop_map(Some)],
        submission(vec![
            ("active", one_of(&["true", "false"])),
            ("name", field()),
            ("grace", one_of(&["0", "1h", "24h", "7d", ""])),
        ]),
    );
    for (action, bad_id, fields) in draw(actions, CASES) {
        let case = (action, &bad_id, &fields);
        let target = bad_id.clone().unwrap_or_else(|| {
            if action == "admin-active" {
                admin_id
            } else {
                id
            }
            .to_string()
        });
        let path = match action {
            "admin-active" => format!("/admins/{target}/active"),
            // Deleting the one app would end the test's subject: its id is
            // only ever replaced by a bad one.
            "delete" => format!("/api-keys/{}/delete", bad_id.clone().unwrap_or("0".into())),
            action => format!("/api-keys/{target}/{action}"),
        };
        let before = app_rows(&app);
        let response = post(&app, &path, &fields).await;
        assert_no_server_error(&response, &case);
        let after = app_rows(&app);
        if bad_id.is_some() {
            assert!(
                response.status.is_client_error(),
                "{case:?}: {}",
                response.status
            );
        }
        if !response.status.is_redirection() && response.status != StatusCode::OK {
            assert_eq!(before, after, "{case:?}");
            continue;
        }
        match action {
            "duplicate" => {
                let copy = after.last().unwrap();
                assert_eq!(after.len(), before.len() + 1, "{case:?}");
                assert_eq!(copy.name, value(&fields, "name").trim(), "{case:?}");
                assert_ne!(copy.key_hash, before[0].key_hash);
            }
            "roll" => assert_ne!(after[0].key_hash, before[0].key_hash, "{case:?}"),
            "active" => assert_eq!(after[0].is_active, value(&fields, "active") == "true"),
            _ => {}
        }
    }
    // The last active-toggle left the second administrator as it said; make
    // sure the console still works for the first.
    assert_eq!(app.get("/api-keys").await.status, StatusCode::OK);
});
