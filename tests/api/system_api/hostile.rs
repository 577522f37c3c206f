//! Hostile input over HTTP, as properties, on SQLite and PostgreSQL: filters,
//! orders and other parameters drawn from near the grammar and from anything
//! at all, and records of any shape with any text in DreamFactory's
//! columns. keyward never answers 5xx, always in DreamFactory's error shape,
//! and a refused record stores nothing.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Df, app_names, expect};
use crate::bad_input::{draw, text};
use crate::harness::{StatusCode, query};

/// Filter-like text: pieces of the grammar in any order, and any text.
fn filter() -> BoxedStrategy<String> {
    let piece = prop_oneof![
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just("name".to_owned()),
        Just("id".to_owned()),
        Just("is_active".to_owned()),
        Just("created_date".to_owned()),
        Just("role_id".to_owned()),
        Just("=".to_owned()),
        Just(">=".to_owned()),
        Just("like".to_owned()),
        Just("in".to_owned()),
        Just("not".to_owned()),
        Just("is".to_owned()),
        Just("null".to_owned()),
        Just("and".to_owned()),
        Just("or".to_owned()),
        Just("starts with".to_owned()),
        Just(",".to_owned()),
        Just("true".to_owned()),
        "-?[0-9]{1,12}",
        "'[^']{0,12}'",
        "\"[^\"]{0,8}\"",
        Just("'%\\\\'".to_owned()),
        Just("'2026-12-01 10:00:00'".to_owned()),
    ];
    prop_oneof![
        3 => prop::collection::vec(piece, 1..9).prop_map(|p| p.join(" ")),
        1 => text(),
    ]
    .boxed()
}

fn column_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => text().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::from),
        1 => Just(Value::Null),
        1 => Just(json!([1, "x"])),
        1 => Just(json!({"a": 1})),
        1 => (0..5i64).prop_map(Value::from),
    ]
    .boxed()
}

/// A record with some of DreamFactory's app columns, each any value.
fn record() -> BoxedStrategy<Value> {
    let column = prop_oneof![
        Just("name"),
        Just("description"),
        Just("is_active"),
        Just("type"),
        Just("path"),
        Just("url"),
        Just("storage_service_id"),
        Just("storage_container"),
        Just("role_id"),
        Just("id"),
        Just("api_key"),
        Just("requires_fullscreen"),
    ];
    prop::collection::vec((column, column_value()), 0..6)
        .prop_map(|fields| {
            Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        })
        .boxed()
}

#[track_caller]
fn not_a_fault(answer: &crate::harness::TestResponse, case: &str) {
    assert!(
        answer.status.as_u16() < 500,
        "{case}: {} {}",
        answer.status,
        answer.body
    );
    if !answer.status.is_success() {
        let body = expect(answer, answer.status);
        assert!(
            body["error"]["message"].is_string() && body["error"].get("context").is_some(),
            "{case}: {body}"
        );
    }
}

storage_test!(no_parameter_makes_a_fault, |app| async move {
    let df = Df::for_app(&app).await;
    expect(
        &df.post("/app", &json!([{"name": "kept"}])).await,
        StatusCode::CREATED,
    );
    let names = [
        "filter",
        "order",
        "fields",
        "limit",
        "offset",
        "ids",
        "related",
        "include_count",
    ];
    let cases = draw((prop::sample::select(names.to_vec()), filter()), 96);
    for (name, value) in cases {
        let q = query(&[(name, &value)]);
        for path in ["/app", "/role", "/service"] {
            not_a_fault(
                &df.get(&format!("{path}?{q}")).await,
                &format!("{path}?{q}"),
            );
        }
        not_a_fault(&df.delete(&format!("/app?{q}")).await, &q);
    }
    assert_eq!(app_names(&app), ["kept"]);
});

storage_test!(no_record_makes_a_fault, |app| async move {
    let df = Df::for_app(&app).await;
    for batch in draw(prop::collection::vec(record(), 1..4), 96) {
        let before = app.stored_apps().len();
        let answer = df
            .post("/app?continue=true", &json!({"resource": batch}))
            .await;
        let case = serde_json::to_string(&batch).unwrap();
        not_a_fault(&answer, &case);
        let created = if answer.status == StatusCode::CREATED {
            batch.len()
        } else {
            let body = answer.json();
            let context = &body["error"]["context"];
            context["resource"]
                .as_array()
                .map_or(0, |r| r.iter().filter(|r| r["id"].is_i64()).count())
        };
        assert_eq!(
            app.stored_apps().len(),
            before + created,
            "{case}: {}",
            answer.body
        );
        not_a_fault(&df.patch("/app", &json!({"resource": batch})).await, &case);
    }
});
