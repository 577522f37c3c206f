//! Roles and their rules through the management API, on SQLite and
//! PostgreSQL: create, read, partial update, delete; rules added (and judged
//! by verification) and removed; validation with `context`; unknown ids;
//! read-only tokens; audit events via the token.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::{StatusCode, TestApp, eventually};

/// Polls until verifying `key` for `verb` on `service/component` says `allowed`.
async fn eventually_allowed(
    app: &TestApp,
    key: &str,
    verb: &str,
    path: (&str, &str),
    allowed: bool,
) {
    eventually(
        Duration::from_millis(1500),
        &format!("{verb} {}/{} to be allowed: {allowed}", path.0, path.1),
        || async {
            let answer = app
                .verify(&json!({"key": key, "service": path.0, "component": path.1, "verb": verb}))
                .await;
            (answer["allowed"] == allowed).then_some(())
        },
    )
    .await;
}

fn rule_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use keyward::schema::role_rules;
    let mut conn = app.pool.get().unwrap();
    role_rules::table.count().get_result(&mut *conn).unwrap()
}

storage_test!(
    roles_and_rules_through_the_api_decide_verification,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let db = app.create_service("db", "api").await;
        let role = expect(
            &api.post(
                "/roles",
                &json!({"name": " Readers ", "description": "reads orders"}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(role["name"], "Readers");
        assert_eq!(role["is_active"], true);
        assert_eq!(role["rules"], json!([]));
        let role_id = role["id"].as_i64().unwrap();
        let key = expect(
            &api.post("/apps", &json!({"name": "reader", "role_id": role_id}))
                .await,
            StatusCode::CREATED,
        )["key"]
            .as_str()
            .unwrap()
            .to_owned();
        eventually_allowed(&app, &key, "GET", ("db", "_table/orders"), false).await;

        let rule = expect(
            &api.post(
                &format!("/roles/{role_id}/rules"),
                &json!({"service_id": db, "component": "_table/*", "verbs": ["GET", "POST"]}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(rule["service_id"], db);
        assert_eq!(rule["service_name"], "db");
        assert_eq!(rule["component"], "_table/*");
        assert_eq!(rule["verbs"], json!(["GET", "POST"]));
        eventually_allowed(&app, &key, "POST", ("db", "_table/orders"), true).await;
        eventually_allowed(&app, &key, "DELETE", ("db", "_table/orders"), false).await;
        // A rule on every service, with the default component (everything).
        let everywhere = expect(
            &api.post(
                &format!("/roles/{role_id}/rules"),
                &json!({"verbs": ["DELETE"]}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert!(everywhere["service_id"].is_null() && everywhere["service_name"].is_null());
        assert_eq!(everywhere["component"], "*");

        let listed = expect(&api.get("/roles").await, StatusCode::OK);
        assert_eq!(listed["roles"].as_array().unwrap().len(), 1);
        assert_eq!(listed["roles"][0]["rules"].as_array().unwrap().len(), 2);
        let got = expect(&api.get(&format!("/roles/{role_id}")).await, StatusCode::OK);
        assert_eq!(got["rules"][0], rule);

        // Removing the rule takes its verbs away.
        let rule_id = rule["id"].as_i64().unwrap();
        expect(
            &api.delete(&format!("/roles/{role_id}/rules/{rule_id}"))
                .await,
            StatusCode::NO_CONTENT,
        );
        eventually_allowed(&app, &key, "GET", ("db", "_table/orders"), false).await;
        expect_error(
            &api.delete(&format!("/roles/{role_id}/rules/{rule_id}"))
                .await,
            StatusCode::NOT_FOUND,
        );

        // The audit log names the rule in words, and the token.
        let events = expect(
            &api.get(&format!("/audit-events?object=role&id={role_id}"))
                .await,
            StatusCode::OK,
        );
        let actions: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["rule_removed", "rule_added", "rule_added", "created"]
        );
        let removed = &events["events"][0];
        assert_eq!(removed["changes"][0]["before"], "GET, POST on db/_table/*");
        assert!(removed["actor"]["via_token"].is_string(), "{removed}");
    }
);

storage_test!(
    role_updates_are_partial_and_deletes_leave_keys_without_a_role,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let role = expect(
            &api.post(
                "/roles",
                &json!({"name": "Writers", "description": "w", "is_active": false}),
            )
            .await,
            StatusCode::CREATED,
        );
        let id = role["id"].as_i64().unwrap();
        assert_eq!(role["is_active"], false);
        let app_json = expect(
            &api.post("/apps", &json!({"name": "writer", "role_id": id}))
                .await,
            StatusCode::CREATED,
        );
        let patched = expect(
            &api.patch(&format!("/roles/{id}"), &json!({"is_active": true}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(
            (
                patched["name"].clone(),
                patched["description"].clone(),
                patched["is_active"].clone()
            ),
            (json!("Writers"), json!("w"), json!(true))
        );
        let renamed = expect(
            &api.patch(&format!("/roles/{id}"), &json!({"name": "Editors"}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(
            (renamed["name"].clone(), renamed["is_active"].clone()),
            (json!("Editors"), json!(true))
        );

        expect(
            &api.delete(&format!("/roles/{id}")).await,
            StatusCode::NO_CONTENT,
        );
        expect_error(
            &api.get(&format!("/roles/{id}")).await,
            StatusCode::NOT_FOUND,
        );
        let app_id = app_json["id"].as_i64().unwrap();
        let left = expect(&api.get(&format!("/apps/{app_id}")).await, StatusCode::OK);
        assert!(left["role_id"].is_null(), "{left}");
    }
);

storage_test!(
    bad_roles_and_rules_name_their_fields_and_write_nothing,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let id = expect(
            &api.post("/roles", &json!({"name": "Taken"})).await,
            StatusCode::CREATED,
        )["id"]
            .as_i64()
            .unwrap();
        let cases: Vec<(Value, &str)> = vec![
            (json!({"name": ""}), "name"),
            (json!({"name": "r".repeat(65)}), "name"),
            (json!({"name": "Taken"}), "name"),
            (
                json!({"name": "ok", "description": "d".repeat(256)}),
                "description",
            ),
        ];
        for (body, field) in &cases {
            let (context, _) = expect_error(
                &api.post("/roles", body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            assert!(context[field].is_array(), "{body}: {context}");
        }
        let other = expect(
            &api.post("/roles", &json!({"name": "Other"})).await,
            StatusCode::CREATED,
        )["id"]
            .as_i64()
            .unwrap();
        let (context, _) = expect_error(
            &api.patch(&format!("/roles/{other}"), &json!({"name": "Taken"}))
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
        for body in [json!({"title": "x"}), json!(["Array"]), json!("Readers")] {
            expect_error(&api.post("/roles", &body).await, StatusCode::BAD_REQUEST);
        }

        let rule_cases: Vec<(Value, &str)> = vec![
            (json!({"verbs": []}), "verbs"),
            (json!({"verbs": ["GET"], "component": "/bad"}), "component"),
            (
                json!({"verbs": ["GET"], "component": "a/../b"}),
                "component",
            ),
            (json!({"verbs": ["GET"], "service_id": 999}), "service_id"),
        ];
        for (body, field) in &rule_cases {
            let (context, _) = expect_error(
                &api.post(&format!("/roles/{id}/rules"), body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            assert!(context[field].is_array(), "{body}: {context}");
        }
        for body in [
            json!({"verbs": ["FETCH"]}),
            json!({"verbs": "GET"}),
            json!({}),
        ] {
            expect_error(
                &api.post(&format!("/roles/{id}/rules"), &body).await,
                StatusCode::BAD_REQUEST,
            );
        }
        assert_eq!(rule_count(&app), 0);
        let names: Vec<Value> = expect(&api.get("/roles").await, StatusCode::OK)["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].clone())
            .collect();
        assert_eq!(names, [json!("Other"), json!("Taken")]);
    }
);

storage_test!(unknown_roles_and_read_only_tokens, |app| async move {
    let writer = Api::for_app(&app, "write").await;
    let reader = Api::for_app(&app, "read").await;
    for id in ["999", "x"] {
        expect_error(
            &writer.get(&format!("/roles/{id}")).await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer
                .patch(&format!("/roles/{id}"), &json!({"name": "n"}))
                .await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer.delete(&format!("/roles/{id}")).await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer
                .post(&format!("/roles/{id}/rules"), &json!({"verbs": ["GET"]}))
                .await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer.delete(&format!("/roles/{id}/rules/1")).await,
            StatusCode::NOT_FOUND,
        );
    }
    let id = expect(
        &writer.post("/roles", &json!({"name": "Kept"})).await,
        StatusCode::CREATED,
    )["id"]
        .as_i64()
        .unwrap();
    expect(&reader.get("/roles").await, StatusCode::OK);
    expect(&reader.get(&format!("/roles/{id}")).await, StatusCode::OK);
    for answer in [
        reader.post("/roles", &json!({"name": "No"})).await,
        reader
            .patch(&format!("/roles/{id}"), &json!({"name": "No"}))
            .await,
        reader.delete(&format!("/roles/{id}")).await,
        reader
            .post(&format!("/roles/{id}/rules"), &json!({"verbs": ["GET"]}))
            .await,
    ] {
        expect_error(&answer, StatusCode::FORBIDDEN);
    }
    let kept = expect(&reader.get(&format!("/roles/{id}")).await, StatusCode::OK);
    assert_eq!(
        (kept["name"].clone(), kept["rules"].clone()),
        (json!("Kept"), json!([]))
    );
});
