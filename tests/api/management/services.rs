//! Services through the management API, on SQLite and PostgreSQL: the two
//! seeded file services listed, create, partial update, delete (taking the
//! rules that name it), validation with `context`, unknown ids, read-only
//! tokens, and the audit events.

use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::StatusCode;

fn names(list: &Value) -> Vec<String> {
    list["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

storage_test!(
    services_are_listed_created_changed_and_deleted,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let seeded = expect(&api.get("/services").await, StatusCode::OK);
        let before = names(&seeded);
        assert!(!before.is_empty(), "the seeded file services are listed");
        assert!(
            seeded["services"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "file")
        );

        let created = expect(
            &api.post(
                "/services",
                &json!({"name": "orders", "label": "Orders API"}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(created["kind"], "api");
        assert_eq!(created["is_active"], true);
        assert_eq!(created["description"], "");
        let id = created["id"].as_i64().unwrap();
        assert!(
            names(&expect(&api.get("/services").await, StatusCode::OK))
                .contains(&"orders".to_owned())
        );

        let patched = expect(
            &api.patch(
                &format!("/services/{id}"),
                &json!({"kind": "file", "description": "now files"}),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            (
                patched["name"].clone(),
                patched["label"].clone(),
                patched["kind"].clone(),
                patched["description"].clone()
            ),
            (
                json!("orders"),
                json!("Orders API"),
                json!("file"),
                json!("now files")
            )
        );

        // Deleting it takes the rules that name it.
        let role = expect(
            &api.post("/roles", &json!({"name": "R"})).await,
            StatusCode::CREATED,
        )["id"]
            .as_i64()
            .unwrap();
        expect(
            &api.post(
                &format!("/roles/{role}/rules"),
                &json!({"service_id": id, "verbs": ["GET"]}),
            )
            .await,
            StatusCode::CREATED,
        );
        expect(
            &api.delete(&format!("/services/{id}")).await,
            StatusCode::NO_CONTENT,
        );
        expect_error(
            &api.get(&format!("/services/{id}")).await,
            StatusCode::NOT_FOUND,
        );
        let role_now = expect(&api.get(&format!("/roles/{role}")).await, StatusCode::OK);
        assert_eq!(role_now["rules"], json!([]));
        assert_eq!(
            names(&expect(&api.get("/services").await, StatusCode::OK)),
            before
        );

        let events = expect(
            &api.get(&format!("/audit-events?object=service&id={id}"))
                .await,
            StatusCode::OK,
        );
        let actions: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["deleted", "updated", "created"]);
        assert!(
            events["events"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["actor"]["via_token"].is_string())
        );
    }
);

storage_test!(
    bad_services_name_their_fields_and_write_nothing,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let before = names(&expect(&api.get("/services").await, StatusCode::OK));
        expect(
            &api.post("/services", &json!({"name": "taken", "label": "T"}))
                .await,
            StatusCode::CREATED,
        );
        let cases: Vec<(Value, &[&str])> = vec![
            (json!({"name": "Orders", "label": "x"}), &["name"]),
            (json!({"name": "has space", "label": "x"}), &["name"]),
            (json!({"name": "", "label": ""}), &["name", "label"]),
            (json!({"name": "taken", "label": "again"}), &["name"]),
            (json!({"name": "ok", "label": "l".repeat(81)}), &["label"]),
        ];
        for (body, fields) in cases {
            let (context, _) = expect_error(
                &api.post("/services", &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            for field in fields {
                assert!(context[field].is_array(), "{body}: {context}");
            }
            assert_eq!(
                context.as_object().unwrap().len(),
                fields.len(),
                "{body}: {context}"
            );
        }
        for body in [
            json!({"name": "x", "label": "y", "kind": "ftp"}),
            json!({"name": "x"}),
        ] {
            expect_error(&api.post("/services", &body).await, StatusCode::BAD_REQUEST);
        }
        let mut expected = before.clone();
        expected.push("taken".into());
        expected.sort();
        assert_eq!(
            names(&expect(&api.get("/services").await, StatusCode::OK)),
            expected
        );
    }
);

storage_test!(unknown_services_and_read_only_tokens, |app| async move {
    let writer = Api::for_app(&app, "write").await;
    let reader = Api::for_app(&app, "read").await;
    for id in ["999", "nope"] {
        expect_error(
            &writer.get(&format!("/services/{id}")).await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer
                .patch(&format!("/services/{id}"), &json!({"label": "x"}))
                .await,
            StatusCode::NOT_FOUND,
        );
        expect_error(
            &writer.delete(&format!("/services/{id}")).await,
            StatusCode::NOT_FOUND,
        );
    }
    let id = expect(
        &writer
            .post("/services", &json!({"name": "kept", "label": "K"}))
            .await,
        StatusCode::CREATED,
    )["id"]
        .as_i64()
        .unwrap();
    expect(
        &reader.get(&format!("/services/{id}")).await,
        StatusCode::OK,
    );
    for answer in [
        reader
            .post("/services", &json!({"name": "no", "label": "N"}))
            .await,
        reader
            .patch(&format!("/services/{id}"), &json!({"label": "changed"}))
            .await,
        reader.delete(&format!("/services/{id}")).await,
    ] {
        expect_error(&answer, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        expect(
            &reader.get(&format!("/services/{id}")).await,
            StatusCode::OK
        )["label"],
        "K"
    );
});
