//! Bad input to the Roles forms: creating and editing a role, and adding a
//! rule to one.

use diesel::prelude::*;
use keyward::schema::{role_rules, roles};
use proptest::prelude::*;

use super::{
    CASES, Fields, assert_escaped, assert_no_server_error, conn, draw, field, one_of, post, sent,
    submission, value,
};
use crate::harness::{StatusCode, TestApp};

type RoleRow = (i32, String, String, bool);

fn role_rows(app: &TestApp) -> Vec<RoleRow> {
    roles::table
        .select((roles::id, roles::name, roles::description, roles::is_active))
        .order(roles::id.asc())
        .load(&mut *conn(app))
        .expect("cannot read roles")
}

fn role_form() -> BoxedStrategy<Fields> {
    submission(vec![
        ("name", field()),
        ("description", field()),
        ("is_active", one_of(&["true"])),
    ])
}

fn assert_role_stored_as_sent(row: &RoleRow, fields: &Fields) {
    assert_eq!(
        (row.1.as_str(), row.2.as_str(), row.3),
        (
            value(fields, "name").trim(),
            value(fields, "description").trim(),
            sent(fields, "is_active")
        ),
        "{fields:?}"
    );
}

storage_test!(role_forms, |app| async move {
    app.login_as_default_admin().await;
    let mut accepted = Vec::new();
    for fields in draw(role_form(), CASES) {
        let before = role_rows(&app);
        let response = post(&app, "/roles", &fields).await;
        assert_no_server_error(&response, &fields);
        let after = role_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        assert_eq!(after.len(), before.len() + 1, "{fields:?}");
        let row = after.last().unwrap();
        assert_role_stored_as_sent(row, &fields);
        accepted.extend([row.1.clone(), row.2.clone()]);
    }
    assert!(!accepted.is_empty(), "no role was accepted");
    let list = app.get("/roles").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_escaped(&list, &accepted);

    let id = app.create_role("Edited role").await;
    for fields in draw(role_form(), CASES) {
        let before = role_rows(&app);
        let response = post(&app, &format!("/roles/{id}"), &fields).await;
        assert_no_server_error(&response, &fields);
        let after = role_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        let row = after.iter().find(|r| r.0 == id).unwrap();
        assert_role_stored_as_sent(row, &fields);
        let page = app.get(&format!("/roles/{id}")).await;
        assert_eq!(page.input_value("name").as_deref(), Some(row.1.as_str()));
        assert_escaped(&page, &[row.1.clone(), row.2.clone()]);
    }
});

storage_test!(rule_form, |app| async move {
    app.login_as_default_admin().await;
    let role = app.create_role("Rules").await;
    let service = app.create_service("db", "api").await.to_string();
    let rules = || -> Vec<(Option<i32>, String, i32)> {
        role_rules::table
            .filter(role_rules::role_id.eq(role))
            .select((
                role_rules::service_id,
                role_rules::component,
                role_rules::verbs,
            ))
            .order(role_rules::id.asc())
            .load(&mut *conn(&app))
            .expect("cannot read rules")
    };
    let verb = || one_of(&["on"]);
    let form = submission(vec![
        ("service_id", one_of(&[&service, "", "999999", "x"])),
        (
            "component",
            one_of(&[
                "",
                "*",
                "_table/*",
                "_table/contacts",
                "<script>/*",
                "a/../b",
            ]),
        ),
        ("verb_get", verb()),
        ("verb_post", verb()),
        ("verb_put", verb()),
        ("verb_patch", verb()),
        ("verb_delete", verb()),
    ]);
    let mut components = Vec::new();
    for fields in draw(form, CASES) {
        let before = rules();
        let response = post(&app, &format!("/roles/{role}/rules"), &fields).await;
        assert_no_server_error(&response, &fields);
        let after = rules();
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        assert_eq!(after.len(), before.len() + 1, "{fields:?}");
        let (service_id, component, verbs) = after.last().unwrap().clone();
        assert_eq!(
            service_id,
            value(&fields, "service_id").trim().parse().ok(),
            "{fields:?}"
        );
        assert_eq!(component, value(&fields, "component").trim(), "{fields:?}");
        let checked = [
            "verb_get",
            "verb_post",
            "verb_put",
            "verb_patch",
            "verb_delete",
        ]
        .iter()
        .enumerate()
        .filter(|(_, name)| sent(&fields, name))
        .fold(0, |bits, (i, _)| bits | (1 << i));
        assert_eq!(verbs, checked, "{fields:?}");
        components.push(component);
    }
    assert!(!components.is_empty(), "no rule was accepted");
    let page = app.get(&format!("/roles/{role}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_escaped(&page, &components);
});
