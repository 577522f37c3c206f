//! Apps through DreamFactory's system API, on SQLite and PostgreSQL: the
//! list with each query parameter and alias; created in batches (201, the
//! key in that answer only, reads showing only its prefix); PATCH by id and
//! ids and by the records' own ids, PUT as PATCH; DELETE by id and ids;
//! `X-HTTP-METHOD` tunnelling; the audit log naming the session.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Df, app_names, expect, expect_error, ids};
use crate::harness::{ADMIN_EMAIL, StatusCode, api_client as df_client};

/// Creates apps by name in one POST; returns their ids and keys.
async fn create(df: &Df, names: &[&str]) -> Vec<(i64, String)> {
    let records: Vec<Value> = names.iter().map(|n| json!({"name": n})).collect();
    let body = expect(
        &df.post("/app", &json!({"resource": records})).await,
        StatusCode::CREATED,
    );
    body["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_i64().unwrap(),
                r["api_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn names(body: &Value) -> Vec<String> {
    body["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

storage_test!(lists_answer_every_parameter, |app| async move {
    let df = Df::for_app(&app).await;
    let role = expect(
        &df.post("/role", &json!({"resource": [{"name": "ci role"}]}))
            .await,
        StatusCode::CREATED,
    );
    let role_id = role["resource"][0]["id"].as_i64().unwrap();
    let created = expect(
        &df.post(
            "/app?fields=id,name,type,launch_url",
            &json!({"resource": [
                {"name": "ci-alpha", "role_id": role_id},
                {"name": "ci-beta", "is_active": false},
                {"name": "prod"},
                {"name": "CI-gamma", "type": 2, "url": "https://gamma.example/app",
                 "requires_fullscreen": true, "toggle_location": "bottom"},
            ]}),
        )
        .await,
        StatusCode::CREATED,
    );
    let resource = created["resource"].as_array().unwrap();
    assert_eq!(resource.len(), 4);
    assert_eq!(resource[3]["launch_url"], "https://gamma.example/app");
    assert_eq!(resource[3]["type"], 2);
    let all: Vec<i64> = resource.iter().map(|r| r["id"].as_i64().unwrap()).collect();

    let body = expect(&df.get("/app?filter=(name%20like%20'%25ci%25')%20and%20(is_active%20%3D%20true)&include_count=true").await, StatusCode::OK);
    assert_eq!(
        names(&body),
        ["ci-alpha", "CI-gamma"],
        "like ignores ASCII case"
    );
    assert_eq!(body["meta"]["count"], 2);
    let count = expect(
        &df.get("/app?filter=name%20contains%20'ci'&count_only=true")
            .await,
        StatusCode::OK,
    );
    assert_eq!(count, json!(3));

    let body = expect(
        &df.get("/app?fields=id,name&order=name%20desc").await,
        StatusCode::OK,
    );
    assert_eq!(names(&body), ["prod", "ci-beta", "ci-alpha", "CI-gamma"]);
    let keys: Vec<&String> = body["resource"][0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "name"]);
    let body = expect(
        &df.get("/app?limit=2&offset=1&include_count=true").await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), all[1..3]);
    assert_eq!(body["meta"]["count"], 4);
    let body = expect(
        &df.get("/app?top=1&skip=3&select=name&sort=id%20asc").await,
        StatusCode::OK,
    );
    assert_eq!(body, json!({"resource": [{"name": "CI-gamma"}]}));
    let body = expect(
        &df.get(&format!(
            "/app?ids={},{}&where=is_active%3Dtrue",
            all[0], all[1]
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), [all[0]]);
    let body = expect(
        &df.get("/app?order_by=is_active%20asc,name%20ASC&limit=5000")
            .await,
        StatusCode::OK,
    );
    assert_eq!(names(&body)[0], "ci-beta");

    // related: the role, inline; reads answer the key's prefix only.
    let body = expect(
        &df.get(&format!("/app/{}?related=role_by_role_id", all[0]))
            .await,
        StatusCode::OK,
    );
    assert_eq!(body["role_by_role_id"]["name"], "ci role");
    assert_eq!(body["role_id"], role_id);
    assert_eq!(
        (
            body["requires_fullscreen"].clone(),
            body["allow_fullscreen_toggle"].clone(),
            body["toggle_location"].clone()
        ),
        (json!(false), json!(true), json!("top"))
    );
    assert_eq!(body["launch_url"], "");
    let stored = app.stored_app(all[0] as i32);
    assert_eq!(body["api_key"], stored.key_prefix);
    let body = expect(&df.get(&format!("/app/{}", all[1])).await, StatusCode::OK);
    assert!(body.get("role_by_role_id").is_none());
    assert_eq!(body["role_id"], Value::Null);

    let (message, context) = expect_error(&df.get("/app/99999").await, StatusCode::NOT_FOUND);
    assert_eq!(message, "Record with identifier '99999' not found.");
    assert_eq!(context, Value::Null);
    expect_error(&df.get("/app/x1").await, StatusCode::NOT_FOUND);
    let (message, _) = expect_error(
        &df.get("/app?filter=api_key%20%3D%20'kw_'").await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(
        message,
        "Invalid or unparsable field in filter request: 'api_key'"
    );
    let (message, _) = expect_error(
        &df.get("/app?order=key_hash").await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.contains("'key_hash'"), "{message}");
});

storage_test!(created_keys_are_shown_once, |app| async move {
    let df = Df::for_app(&app).await;
    let body = expect(
        &df.post("/app", &json!([{"name": "bare array"}])).await,
        StatusCode::CREATED,
    );
    let record = &body["resource"][0];
    assert_eq!(
        record.as_object().unwrap().len(),
        2,
        "id and api_key: {body}"
    );
    let key = record["api_key"].as_str().unwrap();
    let id = record["id"].as_i64().unwrap();
    assert!(key.starts_with("kw_") && key.len() > 40, "{key}");
    let stored = app.stored_app(id as i32);
    assert!(key.starts_with(&stored.key_prefix));
    // The key verifies (it is known; it has no role, so is refused for that).
    let verdict = app
        .verify(&json!({"key": key, "service": "db", "component": "", "verb": "GET"}))
        .await;
    assert_ne!(verdict["code"], "NOT_FOUND", "{verdict}");
    for path in [
        format!("/app/{id}"),
        "/app".to_owned(),
        format!("/app?ids={id}&fields=*"),
    ] {
        let read = df.get(&path).await;
        assert!(!read.body.contains(key), "{path} shows the key");
        assert!(read.body.contains(&stored.key_prefix), "{path}");
    }

    // A client may supply its own key, as DreamFactory lets it: 64 or more
    // letters and digits, kept as its SHA-256, verifying at once.
    let own = "OwnKey0123456789".repeat(4);
    let body = expect(
        &df.post(
            "/app",
            &json!({"resource": [{"name": "own key", "api_key": own}]}),
        )
        .await,
        StatusCode::CREATED,
    );
    assert_eq!(body["resource"][0]["api_key"], own.as_str());
    let own_id = body["resource"][0]["id"].as_i64().unwrap() as i32;
    assert_eq!(
        app.stored_app(own_id).key_hash,
        keyward::apps::domain::LegacyKey::parse(&own)
            .unwrap()
            .hash()
    );
    let verdict = app
        .verify(&json!({"key": own, "service": "db", "component": "", "verb": "GET"}))
        .await;
    assert_eq!(verdict["app"]["name"], "own key", "{verdict}");
    assert!(!df.get(&format!("/app/{own_id}")).await.body.contains(&own));
    // Another app's key, or one of another shape, is refused for that record, with why.
    for (key, says) in [
        (own.clone(), "already has this key"),
        ("a".repeat(63), "64 to 255 letters and digits"),
    ] {
        let (message, context) = expect_error(
            &df.post(
                "/app",
                &json!({"resource": [{"name": "second own", "api_key": key}]}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(message.contains("Validation"), "{message}");
        assert!(
            context["api_key"][0].as_str().unwrap().contains(says),
            "{context}"
        );
    }
    let (_, context) = expect_error(
        &df.post("/app", &json!({"name": ""})).await,
        StatusCode::BAD_REQUEST,
    );
    assert!(
        context["name"][0].as_str().unwrap().contains("required"),
        "{context}"
    );
    let (_, context) = expect_error(
        &df.post("/app", &json!({"name": "x", "type": 2, "url": "ftp://x"}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(context.get("url").is_some(), "{context}");
    let huge = json!({"resource": [{"name": "big", "description": "x".repeat(70_000)}]});
    let (message, _) = expect_error(&df.post("/app", &huge).await, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(message, "The request body is too large.");
    let (message, _) = expect_error(
        &df.send(df_client().post(df.url("/app")).body("{not json"))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(message.contains("not valid JSON"), "{message}");
    for empty in [json!({}), json!([]), json!({"resource": []})] {
        let (message, _) = expect_error(&df.post("/app", &empty).await, StatusCode::BAD_REQUEST);
        assert_eq!(message, "No record(s) detected in request.");
    }
    assert_eq!(app_names(&app), ["bare array", "own key"]);
});

storage_test!(patch_put_delete_and_tunnelling, |app| async move {
    let df = Df::for_app(&app).await;
    let made = create(&df, &["one", "two", "three", "four", "five"]).await;
    let [one, two, three, four, five] = [made[0].0, made[1].0, made[2].0, made[3].0, made[4].0];

    assert_eq!(
        expect(
            &df.patch(&format!("/app/{one}"), &json!({"description": "first"}))
                .await,
            StatusCode::OK
        ),
        json!({"id": one})
    );
    let body = expect(
        &df.put(
            &format!("/app/{one}?fields=name,description,is_active"),
            &json!({"is_active": false}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(
        body,
        json!({"name": "one", "description": "first", "is_active": false}),
        "PUT is a partial update"
    );
    let body = expect(
        &df.patch(
            &format!("/app?ids={two},{three}"),
            &json!({"description": "pair"}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), [two, three]);
    let body = expect(
        &df.patch(
            "/app",
            &json!({"resource": [
        {"id": two, "name": "two renamed"},
        {"id": three, "type": 3, "path": "/apps/three"}]}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), [two, three]);
    let three_read = expect(&df.get(&format!("/app/{three}")).await, StatusCode::OK);
    assert_eq!(
        (
            three_read["type"].clone(),
            three_read["path"].clone(),
            three_read["launch_url"].clone()
        ),
        (json!(3), json!("/apps/three"), json!("/apps/three"))
    );
    assert_eq!(three_read["description"], "pair");
    // A record read and sent back whole (its prefix as api_key) is taken.
    let mut back = three_read.clone();
    back["description"] = json!("round trip");
    expect(
        &df.put(&format!("/app/{three}"), &back).await,
        StatusCode::OK,
    );
    assert_eq!(app.stored_app(three as i32).description, "round trip");
    let (_, context) = expect_error(
        &df.patch(&format!("/app/{three}"), &json!({"api_key": "kw_other"}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert!(context.get("api_key").is_some());
    let (message, _) = expect_error(
        &df.patch("/app/999999", &json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(message, "Record with identifier '999999' not found.");

    // POST with X-HTTP-METHOD runs as that verb.
    let body = expect(
        &df.tunnel("GET", &format!("/app/{four}"), &json!({})).await,
        StatusCode::OK,
    );
    assert_eq!(body["name"], "four");
    expect(
        &df.tunnel(
            "PATCH",
            &format!("/app/{four}"),
            &json!({"description": "tunnelled"}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(app.stored_app(four as i32).description, "tunnelled");
    assert_eq!(
        expect(
            &df.tunnel("DELETE", &format!("/app/{four}"), &json!({}))
                .await,
            StatusCode::OK
        ),
        json!({"id": four})
    );

    assert_eq!(
        expect(&df.delete(&format!("/app/{five}")).await, StatusCode::OK),
        json!({"id": five})
    );
    expect_error(
        &df.delete(&format!("/app/{five}")).await,
        StatusCode::NOT_FOUND,
    );
    let (message, _) = expect_error(&df.delete("/app").await, StatusCode::BAD_REQUEST);
    assert_eq!(message, "No record(s) detected in request.");
    let body = expect(
        &df.delete(&format!("/app?ids={one},{two}")).await,
        StatusCode::OK,
    );
    assert_eq!(ids(&body), [one, two]);
    assert_eq!(app_names(&app), ["three"]);
    // The deleted keys are refused at once.
    let verdict = app
        .verify(&json!({"key": made[0].1, "service": "db", "component": "", "verb": "GET"}))
        .await;
    assert_eq!(verdict["code"], "NOT_FOUND", "{verdict}");

    // The audit log says who, and how.
    use keyward::schema::audit_events;
    let mut conn = app.pool.get().unwrap();
    let events: Vec<(String, Option<String>)> = audit_events::table
        .filter(audit_events::object_kind.eq("app"))
        .select((audit_events::admin_email, audit_events::via_token))
        .load(&mut *conn)
        .unwrap();
    assert!(events.len() >= 10, "{events:?}");
    assert!(
        events
            .iter()
            .all(|(email, via)| email == ADMIN_EMAIL
                && via.as_deref() == Some("DreamFactory session")),
        "{events:?}"
    );
});
