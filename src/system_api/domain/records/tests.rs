use serde_json::json;

use super::*;

fn record(value: Value) -> Record {
    match value {
        Value::Object(record) => record,
        _ => unreachable!("a test record is an object"),
    }
}

#[test]
fn bodies_hold_records_in_any_of_dreamfactorys_wrappings() {
    assert_eq!(
        records(br#"{"resource":[{"name":"a"},{"name":"b"}]}"#)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(records(br#"[{"name":"a"}]"#).unwrap().len(), 1);
    assert_eq!(records(br#"{"name":"a"}"#).unwrap().len(), 1);
    for empty in [&b""[..], b"  ", b"[]", b"{}", br#"{"resource":[]}"#, b"3"] {
        assert_eq!(
            records(empty).unwrap_err().message,
            "No record(s) detected in request."
        );
    }
    assert_eq!(records(b"{").unwrap_err().status, 400);
    assert_eq!(records(b"[1]").unwrap_err().status, 400);
    assert_eq!(records(br#"{"resource":{}}"#).unwrap_err().status, 400);
}

#[test]
fn app_columns_land_on_the_form() {
    let mut form = AppForm::new_app();
    app_onto_form(
        &record(
            json!({"name": "ci", "type": 3, "path": "/app", "is_active": 0,
                       "role_id": null, "requires_fullscreen": true}),
        ),
        &mut form,
        None,
    )
    .unwrap();
    assert_eq!((form.name.as_str(), form.location.as_str()), ("ci", "3"));
    assert_eq!(
        (form.web_path.as_str(), form.is_active.as_deref()),
        ("/app", None)
    );

    let mut form = AppForm::new_app();
    app_onto_form(
        &record(json!({"type": "1", "path": "index.html"})),
        &mut form,
        None,
    )
    .unwrap();
    assert_eq!(form.launch_path, "index.html");
}

#[test]
fn a_key_from_the_client_is_refused_but_the_prefix_read_back_is_not() {
    let mut form = AppForm::new_app();
    let error =
        app_onto_form(&record(json!({"api_key": "a".repeat(64)})), &mut form, None).unwrap_err();
    assert!(
        error.context.unwrap()["api_key"][0]
            .as_str()
            .unwrap()
            .contains("roll")
    );
    app_onto_form(
        &record(json!({"api_key": "kw_4fQ9ab"})),
        &mut form,
        Some("kw_4fQ9ab"),
    )
    .unwrap();
    let error = app_onto_form(
        &record(json!({"name": true, "is_active": "maybe"})),
        &mut form,
        None,
    )
    .unwrap_err();
    let context = error.context.unwrap();
    assert!(context.get("name").is_some() && context.get("is_active").is_some());
}

#[test]
fn rule_entries_add_update_or_remove() {
    let role = record(json!({"role_service_access_by_role_id": [
        {"service_id": 2, "component": "*", "verb_mask": 3},
        {"id": 7, "verb_mask": 1},
        {"id": 8, "role_id": null},
    ]}));
    let changes = rule_changes(&role).unwrap();
    assert!(matches!(changes[0], RuleChange::Add(_)));
    assert!(matches!(changes[1], RuleChange::Update(7, _)));
    assert_eq!(changes[2], RuleChange::Remove(8));

    let RuleChange::Add(entry) = &changes[0] else {
        unreachable!()
    };
    let form = rule_form(entry, None).unwrap();
    assert_eq!(
        (form.service_id.as_str(), form.component.as_str()),
        ("2", "*")
    );
    assert!(form.verb_get.is_some() && form.verb_post.is_some() && form.verb_put.is_none());

    let RuleChange::Update(_, entry) = &changes[1] else {
        unreachable!()
    };
    let form = rule_form(entry, Some(&(Some(4), "_table/*".into(), 31))).unwrap();
    assert_eq!(
        (form.service_id.as_str(), form.component.as_str()),
        ("4", "_table/*")
    );
    assert!(form.verb_get.is_some() && form.verb_delete.is_none());
}

#[test]
fn what_keyward_cannot_enforce_is_refused() {
    for entry in [
        json!({"requestor_mask": 2}),
        json!({"requestor_mask": 3}),
        json!({"filters": [{"name": "owner", "operator": "=", "value": "me"}]}),
        json!({"verb_mask": 64}),
    ] {
        assert_eq!(
            rule_form(&record(entry.clone()), None).unwrap_err().status,
            400,
            "{entry}"
        );
    }
    rule_form(
        &record(json!({"requestor_mask": 1, "filters": [], "filter_op": "AND"})),
        None,
    )
    .unwrap();
}
