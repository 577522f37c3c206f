//! Roles with their rules, and services, through DreamFactory's system API
//! on SQLite and PostgreSQL: a role created with rules, then rules created,
//! updated and deleted in one PATCH (and verification following within a
//! second); what keyward cannot enforce refused per rule; services read only.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Df, expect, expect_error, ids};
use crate::harness::{StatusCode, TestApp, eventually};

async fn allowed(app: &TestApp, key: &str, verb: &str, component: &str, expected: bool) {
    eventually(
        Duration::from_millis(1500),
        &format!("{verb} {component}: {expected}"),
        || async {
            let answer = app
                .verify(&json!({"key": key, "service": "db", "component": component, "verb": verb}))
                .await;
            // A refusal for having no role has no "allowed" at all.
            ((answer["allowed"] == true) == expected).then_some(())
        },
    )
    .await;
}

fn rules(body: &Value) -> Vec<Value> {
    body["role_service_access_by_role_id"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

storage_test!(roles_and_their_rules_in_one_request, |app| async move {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let df = Df::for_app(&app).await;
    let created = expect(
        &df.post(
            "/role?related=role_service_access_by_role_id&fields=*",
            &json!({"resource": [{"name": "orders", "description": "reads orders",
            "role_service_access_by_role_id": [
                {"service_id": db, "component": "_table/*", "verb_mask": 1,
                 "requestor_mask": 1, "filters": [], "filter_op": "AND"},
                {"service_id": null, "component": "*", "verb_mask": 16},
            ]}]}),
        )
        .await,
        StatusCode::CREATED,
    );
    let role = &created["resource"][0];
    let role_id = role["id"].as_i64().unwrap();
    assert_eq!(
        (role["name"].clone(), role["is_active"].clone()),
        (json!("orders"), json!(true))
    );
    let made = rules(role);
    assert_eq!(made.len(), 2);
    assert_eq!(made[0]["service_id"], db);
    assert_eq!(made[0]["verb_mask"], 1);
    assert_eq!(
        (
            made[0]["requestor_mask"].clone(),
            made[0]["filters"].clone(),
            made[0]["filter_op"].clone()
        ),
        (json!(1), json!([]), json!("AND"))
    );
    assert_eq!(made[1]["service_id"], Value::Null);
    let (keep, drop) = (
        made[0]["id"].as_i64().unwrap(),
        made[1]["id"].as_i64().unwrap(),
    );

    let key = expect(
        &df.post(
            "/app",
            &json!({"resource": [{"name": "reader", "role_id": role_id}]}),
        )
        .await,
        StatusCode::CREATED,
    )["resource"][0]["api_key"]
        .as_str()
        .unwrap()
        .to_owned();
    allowed(&app, &key, "GET", "_table/orders", true).await;
    allowed(&app, &key, "POST", "_table/orders", false).await;

    // One PATCH: update one rule, delete another, create a third.
    let body = expect(
        &df.patch(
            &format!("/role/{role_id}?related=role_service_access_by_role_id"),
            &json!({"description": "reads and writes orders", "role_service_access_by_role_id": [
                {"id": keep, "verb_mask": 3},
                {"id": drop, "role_id": null},
                {"service_id": db, "component": "_proc/report", "verb_mask": 4},
            ]}),
        )
        .await,
        StatusCode::OK,
    );
    let now: Vec<(i64, i64, String)> = rules(&body)
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["verb_mask"].as_i64().unwrap(),
                r["component"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(now.len(), 2, "{body}");
    assert_eq!(
        now[0],
        (keep, 3, "_table/*".to_owned()),
        "updated in place, its id kept"
    );
    assert_eq!((now[1].1, now[1].2.as_str()), (4, "_proc/report"));
    allowed(&app, &key, "POST", "_table/orders", true).await;
    allowed(&app, &key, "PUT", "_proc/report", true).await;
    let read = expect(&df.get(&format!("/role/{role_id}")).await, StatusCode::OK);
    assert_eq!(read["description"], "reads and writes orders");
    assert!(read.get("role_service_access_by_role_id").is_none());
    let list = expect(&df.get("/role?related=role_service_access_by_role_id&filter=name%20%3D%20'orders'&include_count=true").await, StatusCode::OK);
    assert_eq!(list["meta"]["count"], 1);
    assert_eq!(rules(&list["resource"][0]).len(), 2);

    // What keyward cannot enforce is refused, and the role stays as it was.
    for (rule, field) in [
        (
            json!({"service_id": db, "component": "*", "verb_mask": 1, "requestor_mask": 2}),
            "requestor_mask",
        ),
        (
            json!({"service_id": db, "component": "*", "verb_mask": 1, "requestor_mask": 3}),
            "requestor_mask",
        ),
        (
            json!({"service_id": db, "component": "*", "verb_mask": 1,
                "filters": [{"name": "owner", "operator": "=", "value": "{user.id}"}]}),
            "filters",
        ),
        (
            json!({"service_id": 999999, "component": "*", "verb_mask": 1}),
            "service_id",
        ),
        (
            json!({"service_id": db, "component": "/bad", "verb_mask": 1}),
            "component",
        ),
        (
            json!({"service_id": db, "component": "*", "verb_mask": 0}),
            "verb_mask",
        ),
    ] {
        let answer = df.patch(&format!("/role/{role_id}"),
            &json!({"name": "renamed", "role_service_access_by_role_id": [{"id": keep, "verb_mask": 1}, rule]})).await;
        let (_, context) = expect_error(&answer, StatusCode::BAD_REQUEST);
        assert!(context.get(field).is_some(), "{field}: {context}");
    }
    let read = expect(
        &df.get(&format!(
            "/role/{role_id}?related=role_service_access_by_role_id"
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(
        read["name"], "orders",
        "the record's changes were undone with its rule"
    );
    assert_eq!(rules(&read)[0]["verb_mask"], 3);
    let (message, _) = expect_error(
        &df.patch(
            &format!("/role/{role_id}"),
            &json!({"role_service_access_by_role_id": [{"id": 999999, "verb_mask": 1}]}),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(message, "Record with identifier '999999' not found.");

    // A duplicate name is a field error; deleting by ids leaves the key with no role.
    let (_, context) = expect_error(
        &df.post("/role", &json!({"name": "orders"})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        context["name"][0]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let body = expect(
        &df.delete(&format!("/role?ids={role_id}")).await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), [role_id]);
    expect_error(
        &df.get(&format!("/role/{role_id}")).await,
        StatusCode::NOT_FOUND,
    );
    {
        use diesel::prelude::*;
        use keyward::schema::verify_changes;
        let mut conn = app.pool.get().unwrap();
        let rows: Vec<(i64, String, Option<i32>)> = verify_changes::table
            .select((
                verify_changes::id,
                verify_changes::kind,
                verify_changes::object_id,
            ))
            .order(verify_changes::id)
            .load(&mut *conn)
            .unwrap();
        eprintln!("CHANGES: {rows:?}");
    }
    allowed(&app, &key, "GET", "_table/orders", false).await;
});

storage_test!(services_are_read_only, |app| async move {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let df = Df::for_app(&app).await;
    let body = expect(
        &df.get("/service?include_count=true&order=name").await,
        StatusCode::OK,
    );
    let names: Vec<&str> = body["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db", "files", "logs"]);
    assert_eq!(body["meta"]["count"], 3);
    let files = &body["resource"][1];
    assert_eq!(
        (files["type"].clone(), files["label"].clone()),
        (json!("local_file"), json!("Local File Storage"))
    );
    assert_eq!(
        (files["mutable"].clone(), files["deletable"].clone()),
        (json!(true), json!(true))
    );
    let one = expect(
        &df.get(&format!("/service/{db}?fields=name,type")).await,
        StatusCode::OK,
    );
    assert_eq!(one, json!({"name": "db", "type": "rws"}));
    let body = expect(
        &df.get("/service?filter=type%20%3D%20'local_file'").await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'type'")
    );
    expect_error(&df.get("/service/999999").await, StatusCode::NOT_FOUND);
    for answer in [
        df.post("/service", &json!({"name": "new"})).await,
        df.patch(&format!("/service/{db}"), &json!({"label": "x"}))
            .await,
        df.delete(&format!("/service/{db}")).await,
        df.tunnel("DELETE", &format!("/service/{db}"), &json!({}))
            .await,
    ] {
        let (message, _) = expect_error(&answer, StatusCode::METHOD_NOT_ALLOWED);
        assert!(message.contains("reads services only"), "{message}");
    }
    assert_eq!(app.service_id("db"), db);
});
