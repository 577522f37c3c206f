//! API keys through the management API, on SQLite and PostgreSQL: create
//! (the key once, in `key`), read, partial update, roll with a grace period,
//! duplicate, the Active switch, delete, the list's search, filter, sort and
//! cursors; each validation error with its field in `context` and nothing
//! written; unknown ids; read-only tokens; the audit event "via token".

use std::time::Duration;

use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::{StatusCode, TestApp, eventually};

/// The verification code of `key`, once it has settled (changes reach the
/// cache within a second).
async fn eventually_code(app: &TestApp, key: &str, expected: &str) {
    eventually(
        Duration::from_millis(1500),
        &format!("{key:.10}… to verify as {expected}"),
        || async {
            let answer = app.verify(&json!({ "key": key })).await;
            (answer["code"] == expected).then_some(())
        },
    )
    .await;
}

fn app_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use keyward::schema::apps;
    let mut conn = app.pool.get().unwrap();
    apps::table.count().get_result(&mut *conn).unwrap()
}

/// The newest audit event, as the API lists it.
async fn newest_event(api: &Api) -> Value {
    let list = expect(&api.get("/audit-events?per_page=10").await, StatusCode::OK);
    list["events"][0].clone()
}

storage_test!(
    create_answers_the_key_once_and_it_verifies,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let role = app.create_role("Readers").await;
        let created = expect(
        &api.post(
            "/apps",
            &json!({"name": "  CI deploys ", "description": "made by a pipeline", "role_id": role}),
        )
        .await,
        StatusCode::CREATED,
    );
        let key = created["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("kw_") && key.len() == 52, "{key}");
        assert_eq!(created["name"], "CI deploys");
        assert_eq!(created["description"], "made by a pipeline");
        assert_eq!(created["is_active"], true);
        assert_eq!(created["location"], json!({"type": "none"}));
        assert_eq!(created["role_id"], role);
        assert_eq!(created["key_prefix"], key[..9]);
        assert!(created["expires_at"].is_null());
        eventually_code(&app, &key, "VALID").await;

        // Never again: not in the app, the list, or the audit log.
        let id = created["id"].as_i64().unwrap();
        let got = api.get(&format!("/apps/{id}")).await;
        let listed = api.get("/apps").await;
        let audit = api.get("/audit-events").await;
        for answer in [&got, &listed, &audit] {
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
            assert!(!answer.body.contains(&key[9..]), "{}", answer.body);
        }
        let got = got.json();
        assert!(got.get("key").is_none(), "{got}");
        assert_eq!(got["name"], "CI deploys");

        let event = newest_event(&api).await;
        assert_eq!(event["action"], "created");
        assert_eq!(
            event["object"],
            json!({"kind": "app", "id": id, "name": "CI deploys"})
        );
        assert_eq!(event["actor"]["admin_email"], crate::harness::ADMIN_EMAIL);
        assert_eq!(event["actor"]["via_token"], api_token_name(&app));
        // And the console says so.
        let page = app.get(&format!("/audit?object=app&id={id}")).await;
        assert!(
            page.body
                .contains(&format!("via token “{}”", api_token_name(&app))),
            "{}",
            page.body
        );
    }
);

/// The name of the newest token (the one `Api::for_app` made).
fn api_token_name(app: &TestApp) -> String {
    use diesel::prelude::*;
    use keyward::schema::admin_tokens;
    let mut conn = app.pool.get().unwrap();
    admin_tokens::table
        .order(admin_tokens::id.desc())
        .select(admin_tokens::name)
        .first(&mut *conn)
        .unwrap()
}

storage_test!(every_location_and_expiry_is_taken, |app| async move {
    let api = Api::for_app(&app, "write").await;
    let storage = app.create_service("storage", "file").await;
    let cases = [
        json!({"type": "file_storage", "storage_service_id": storage, "folder": "apps", "launch_path": "index.html"}),
        json!({"type": "web_server", "path": "/srv/app"}),
        json!({"type": "remote_url", "url": "https://app.example/"}),
        json!({"type": "none"}),
    ];
    for (n, location) in cases.iter().enumerate() {
        let created = expect(
            &api.post(
                "/apps",
                &json!({"name": format!("app {n}"), "location": location,
                        "expires_at": "2099-01-31T18:00:00+01:00", "is_active": false}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(&created["location"], location, "{created}");
        assert_eq!(created["is_active"], false);
        assert_eq!(created["expires_at"], "2099-01-31T17:00:00Z");
    }
    // The folder defaults as on the page.
    let created = expect(
        &api.post(
            "/apps",
            &json!({"name": "default folder", "location": {"type": "file_storage", "storage_service_id": storage}}),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(created["location"]["folder"], "applications");
});

storage_test!(
    bad_input_names_its_fields_and_writes_nothing,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        expect(
            &api.post("/apps", &json!({"name": "Taken"})).await,
            StatusCode::CREATED,
        );
        let before = app_count(&app);
        let cases: Vec<(Value, &[&str])> = vec![
            (json!({"name": ""}), &["name"]),
            (json!({"name": "   "}), &["name"]),
            (json!({"name": "n".repeat(256)}), &["name"]),
            (json!({"name": "Taken"}), &["name"]),
            (
                json!({"name": "ok", "description": "d".repeat(5000)}),
                &["description"],
            ),
            (json!({"name": "ok", "role_id": 999}), &["role_id"]),
            (
                json!({"name": "ok", "expires_at": "tomorrow"}),
                &["expires_at"],
            ),
            (
                json!({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}),
                &["expires_at"],
            ),
            (
                json!({"name": "ok", "location": {"type": "remote_url", "url": "ftp://x"}}),
                &["location.url"],
            ),
            (
                json!({"name": "ok", "location": {"type": "web_server", "path": ""}}),
                &["location.path"],
            ),
            (
                json!({"name": "ok", "location": {"type": "file_storage", "storage_service_id": 999}}),
                &["location.storage_service_id"],
            ),
            (
                json!({"name": "", "expires_at": "soon", "location": {"type": "remote_url", "url": ""}}),
                &["name", "expires_at", "location.url"],
            ),
        ];
        for (body, fields) in cases {
            let (context, message) = expect_error(
                &api.post("/apps", &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            let mut named: Vec<&str> = context
                .as_object()
                .unwrap_or_else(|| panic!("no context for {body}"))
                .keys()
                .map(String::as_str)
                .collect();
            named.sort();
            let mut expected = fields.to_vec();
            expected.sort();
            assert_eq!(named, expected, "{body}: {context}");
            for field in fields {
                assert!(
                    !context[field][0].as_str().unwrap().is_empty(),
                    "{body}: {context}"
                );
                assert!(message.contains(field), "{message}");
            }
        }
        // Not JSON of the right shape: 400, still an API error.
        for body in [
            json!(["an array", "of the fields"]),
            json!({}),
            json!({"name": 5}),
            json!({"name": "x", "colour": "red"}),
            json!({"name": "x", "location": {"type": "moon"}}),
            json!({"name": "x", "role_id": "1"}),
        ] {
            expect_error(&api.post("/apps", &body).await, StatusCode::BAD_REQUEST);
        }
        let raw = reqwest::Client::new()
            .post(app.url("/api/v1/apps"))
            .bearer_auth(&api.token)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status(), StatusCode::BAD_REQUEST);
        assert_eq!(app_count(&app), before, "a refused create wrote something");
    }
);

storage_test!(
    a_partial_update_changes_only_what_it_names,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let role = app.create_role("Readers").await;
        let created = expect(
            &api.post(
                "/apps",
                &json!({"name": "orders", "description": "first", "role_id": role,
                    "location": {"type": "web_server", "path": "/srv/orders"},
                    "expires_at": "2099-06-01T12:00:00Z"}),
            )
            .await,
            StatusCode::CREATED,
        );
        let id = created["id"].as_i64().unwrap();
        let key = created["key"].as_str().unwrap().to_owned();
        let patched = expect(
            &api.patch(&format!("/apps/{id}"), &json!({"description": "second"}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(patched["description"], "second");
        for field in [
            "name",
            "role_id",
            "location",
            "expires_at",
            "is_active",
            "key_prefix",
        ] {
            assert_eq!(patched[field], created[field], "{field} changed");
        }
        // null clears the role and the expiry; leaving them out keeps them.
        let cleared = expect(
            &api.patch(
                &format!("/apps/{id}"),
                &json!({"role_id": null, "expires_at": null}),
            )
            .await,
            StatusCode::OK,
        );
        assert!(
            cleared["role_id"].is_null() && cleared["expires_at"].is_null(),
            "{cleared}"
        );
        assert_eq!(cleared["description"], "second");
        eventually_code(&app, &key, "NO_ROLE").await;
        let moved = expect(
            &api.patch(
                &format!("/apps/{id}"),
                &json!({"name": "orders v2", "role_id": role, "location": {"type": "none"}}),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(moved["name"], "orders v2");
        assert_eq!(moved["location"], json!({"type": "none"}));
        eventually_code(&app, &key, "VALID").await;

        // A refused update changes nothing.
        let (context, _) = expect_error(
            &api.patch(
                &format!("/apps/{id}"),
                &json!({"name": "", "description": "third"}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(context["name"].is_array(), "{context}");
        let now = expect(&api.get(&format!("/apps/{id}")).await, StatusCode::OK);
        assert_eq!(
            (now["name"].clone(), now["description"].clone()),
            (json!("orders v2"), json!("second"))
        );

        let event = newest_event(&api).await;
        assert_eq!(event["action"], "updated");
        assert!(event["actor"]["via_token"].is_string(), "{event}");
    }
);

storage_test!(roll_duplicate_toggle_and_delete, |app| async move {
    let api = Api::for_app(&app, "write").await;
    let role = app.create_role("Readers").await;
    let created = expect(
        &api.post("/apps", &json!({"name": "mobile", "role_id": role}))
            .await,
        StatusCode::CREATED,
    );
    let id = created["id"].as_i64().unwrap();
    let first = created["key"].as_str().unwrap().to_owned();

    // Roll with an hour's grace: both keys work, the answer has the new one.
    let rolled = expect(
        &api.post(&format!("/apps/{id}/roll"), &json!({"grace": "1h"}))
            .await,
        StatusCode::CREATED,
    );
    let second = rolled["key"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(rolled["key_prefix"], second[..9]);
    assert!(rolled["previous_key_expires_at"].is_string(), "{rolled}");
    eventually_code(&app, &second, "VALID").await;
    eventually_code(&app, &first, "VALID").await;
    assert_eq!(newest_event(&api).await["action"], "key_rolled");
    // Rolled again at once: the earlier keys stop.
    let third = expect(
        &api.post(&format!("/apps/{id}/roll"), &json!({"grace": "now"}))
            .await,
        StatusCode::CREATED,
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually_code(&app, &second, "NOT_FOUND").await;
    eventually_code(&app, &first, "NOT_FOUND").await;
    eventually_code(&app, &third, "VALID").await;
    expect_error(
        &api.post(&format!("/apps/{id}/roll"), &json!({"grace": "forever"}))
            .await,
        StatusCode::BAD_REQUEST,
    );

    // Duplicate: a new key of its own, the same role.
    let copy = expect(
        &api.post(
            &format!("/apps/{id}/duplicate"),
            &json!({"name": "mobile (2)"}),
        )
        .await,
        StatusCode::CREATED,
    );
    let copy_key = copy["key"].as_str().unwrap().to_owned();
    assert_eq!(copy["role_id"], role);
    assert_ne!(copy["id"], id);
    eventually_code(&app, &copy_key, "VALID").await;
    let (context, _) = expect_error(
        &api.post(&format!("/apps/{id}/duplicate"), &json!({"name": "mobile"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(
        context["name"][0]
            .as_str()
            .unwrap()
            .contains("already exists"),
        "{context}"
    );

    // The Active switch.
    let off = expect(
        &api.put(&format!("/apps/{id}/active"), &json!({"active": false}))
            .await,
        StatusCode::OK,
    );
    assert_eq!(off["is_active"], false);
    eventually_code(&app, &third, "INACTIVE").await;
    expect(
        &api.put(&format!("/apps/{id}/active"), &json!({"active": true}))
            .await,
        StatusCode::OK,
    );
    eventually_code(&app, &third, "VALID").await;

    // Delete: gone, and its key with it.
    expect(
        &api.delete(&format!("/apps/{id}")).await,
        StatusCode::NO_CONTENT,
    );
    eventually_code(&app, &third, "NOT_FOUND").await;
    expect_error(
        &api.get(&format!("/apps/{id}")).await,
        StatusCode::NOT_FOUND,
    );
    let event = newest_event(&api).await;
    assert_eq!(
        (event["action"].clone(), event["object"]["id"].clone()),
        (json!("deleted"), json!(id))
    );
});

storage_test!(unknown_ids_are_404_for_every_operation, |app| async move {
    let api = Api::for_app(&app, "write").await;
    let before = app_count(&app);
    for id in ["999", "0", "-1", "abc", "99999999999999999999"] {
        let answers = [
            api.get(&format!("/apps/{id}")).await,
            api.patch(&format!("/apps/{id}"), &json!({"name": "x"}))
                .await,
            api.delete(&format!("/apps/{id}")).await,
            api.post(&format!("/apps/{id}/roll"), &json!({"grace": "now"}))
                .await,
            api.post(&format!("/apps/{id}/duplicate"), &json!({"name": "x"}))
                .await,
            api.put(&format!("/apps/{id}/active"), &json!({"active": true}))
                .await,
        ];
        for answer in answers {
            let (_, message) = expect_error(&answer, StatusCode::NOT_FOUND);
            assert!(message.contains("API key"), "{message}");
        }
    }
    assert_eq!(app_count(&app), before);
});

storage_test!(
    the_list_searches_filters_sorts_and_pages,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        for n in 0..25 {
            let body = json!({"name": format!("svc-{n:02}"), "description": if n % 5 == 0 { "billing" } else { "other" },
                          "is_active": n % 2 == 0});
            expect(&api.post("/apps", &body).await, StatusCode::CREATED);
        }
        let page = expect(&api.get("/apps?per_page=10").await, StatusCode::OK);
        let names = |page: &Value| -> Vec<String> {
            page["apps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&page).len(), 10);
        assert_eq!(names(&page)[0], "svc-00");
        assert!(page["previous"].is_null());
        assert!(
            page.to_string().find("\"key\"").is_none(),
            "a list holds no keys"
        );
        // Follow next to the end, then back.
        let mut seen = names(&page);
        let mut next = page["next"].as_str().map(str::to_owned);
        let mut last = page.clone();
        while let Some(url) = next {
            let path = url.strip_prefix("/api/v1").expect("next is an API URL");
            last = expect(&api.get(path).await, StatusCode::OK);
            seen.extend(names(&last));
            next = last["next"].as_str().map(str::to_owned);
        }
        let expected: Vec<String> = (0..25).map(|n| format!("svc-{n:02}")).collect();
        assert_eq!(seen, expected);
        let back = last["previous"]
            .as_str()
            .unwrap()
            .strip_prefix("/api/v1")
            .unwrap()
            .to_owned();
        let previous = expect(&api.get(&back).await, StatusCode::OK);
        assert_eq!(names(&previous), expected[10..20]);

        let billing = expect(&api.get("/apps?q=billing").await, StatusCode::OK);
        assert_eq!(
            names(&billing),
            ["svc-00", "svc-05", "svc-10", "svc-15", "svc-20"]
        );
        let inactive = expect(
            &api.get("/apps?q=billing&status=inactive").await,
            StatusCode::OK,
        );
        assert_eq!(names(&inactive), ["svc-05", "svc-15"]);
        let newest = expect(
            &api.get("/apps?sort=created&dir=desc&per_page=10").await,
            StatusCode::OK,
        );
        assert_eq!(names(&newest)[0], "svc-24");

        // A method the path does not take: 405, saying which it does.
        let put = reqwest::Client::new()
            .put(app.url("/api/v1/apps"))
            .bearer_auth(&api.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(put.headers()["allow"], "GET, HEAD, POST");
        for bad in [
            "per_page=0",
            "per_page=101",
            "status=maybe",
            "sort=colour",
            "after=garbage",
            "after=a&before=b",
            "unknown=1",
        ] {
            expect_error(
                &api.get(&format!("/apps?{bad}")).await,
                StatusCode::BAD_REQUEST,
            );
        }
    }
);

storage_test!(
    a_read_only_token_reads_and_changes_nothing,
    |app| async move {
        let writer = Api::for_app(&app, "write").await;
        let reader = Api::for_app(&app, "read").await;
        let created = expect(
            &writer.post("/apps", &json!({"name": "kept"})).await,
            StatusCode::CREATED,
        );
        let id = created["id"].as_i64().unwrap();
        expect(&reader.get("/apps").await, StatusCode::OK);
        expect(&reader.get(&format!("/apps/{id}")).await, StatusCode::OK);
        let before = app_count(&app);
        let writes = [
            reader.post("/apps", &json!({"name": "sneaky"})).await,
            reader
                .patch(&format!("/apps/{id}"), &json!({"name": "renamed"}))
                .await,
            reader.delete(&format!("/apps/{id}")).await,
            reader
                .post(&format!("/apps/{id}/roll"), &json!({"grace": "now"}))
                .await,
            reader
                .post(&format!("/apps/{id}/duplicate"), &json!({"name": "copy"}))
                .await,
            reader
                .put(&format!("/apps/{id}/active"), &json!({"active": false}))
                .await,
        ];
        for answer in writes {
            let (_, message) = expect_error(&answer, StatusCode::FORBIDDEN);
            assert!(message.contains("read-only"), "{message}");
        }
        assert_eq!(app_count(&app), before);
        let still = expect(&reader.get(&format!("/apps/{id}")).await, StatusCode::OK);
        assert_eq!(
            (still["name"].clone(), still["is_active"].clone()),
            (json!("kept"), json!(true))
        );
        eventually_code(&app, created["key"].as_str().unwrap(), "NO_ROLE").await;
    }
);
