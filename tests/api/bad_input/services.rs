//! Bad input to the Services forms: creating and editing a service.

use diesel::prelude::*;
use keyward::schema::services;

use super::{
    CASES, Fields, assert_escaped, assert_no_server_error, conn, draw, field, one_of, post, sent,
    submission, value,
};
use crate::harness::{StatusCode, TestApp};

type ServiceRow = (i32, String, String, String, String, bool);

fn service_rows(app: &TestApp) -> Vec<ServiceRow> {
    services::table
        .select((
            services::id,
            services::name,
            services::label,
            services::description,
            services::kind,
            services::is_active,
        ))
        .order(services::id.asc())
        .load(&mut *conn(app))
        .expect("cannot read services")
}

fn assert_service_stored_as_sent(row: &ServiceRow, fields: &Fields) {
    let kind = match value(fields, "kind").trim() {
        "" => "api",
        kind => kind,
    };
    assert_eq!(
        (&row.1[..], &row.2[..], &row.3[..], &row.4[..], row.5),
        (
            value(fields, "name").trim(),
            value(fields, "label").trim(),
            value(fields, "description").trim(),
            kind,
            sent(fields, "is_active")
        ),
        "{fields:?}"
    );
}

storage_test!(service_forms, |app| async move {
    app.login_as_default_admin().await;
    let form = || {
        submission(vec![
            ("name", one_of(&["db", "my-api_2", "Db", "a b"])),
            ("label", field()),
            ("description", field()),
            ("kind", one_of(&["api", "file", ""])),
            ("is_active", one_of(&["true"])),
        ])
    };
    let mut accepted = Vec::new();
    for fields in draw(form(), CASES) {
        let before = service_rows(&app);
        let response = post(&app, "/services", &fields).await;
        assert_no_server_error(&response, &fields);
        let after = service_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        assert_eq!(after.len(), before.len() + 1, "{fields:?}");
        let row = after.last().unwrap();
        assert_service_stored_as_sent(row, &fields);
        accepted.extend([row.2.clone(), row.3.clone()]);
    }
    assert!(!accepted.is_empty(), "no service was accepted");
    let list = app.get("/services").await;
    assert_escaped(&list, &accepted);

    let id = app.create_service("edited", "api").await;
    for fields in draw(form(), CASES) {
        let before = service_rows(&app);
        let response = post(&app, &format!("/services/{id}"), &fields).await;
        assert_no_server_error(&response, &fields);
        let after = service_rows(&app);
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        let row = after.iter().find(|r| r.0 == id).unwrap();
        assert_service_stored_as_sent(row, &fields);
        let page = app.get(&format!("/services/{id}")).await;
        assert_escaped(&page, &[row.2.clone(), row.3.clone()]);
    }
});
