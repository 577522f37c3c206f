//! The audit log through the management API, on SQLite and PostgreSQL: the
//! same events as the stored log, newest first; the Audit page's filters
//! (kind, one object, administrator); pages followed both ways with no event
//! lost or repeated; bad parameters refused with a 400.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::{StatusCode, TestApp};

fn stored_ids(app: &TestApp) -> Vec<i32> {
    use keyward::schema::audit_events;
    let mut conn = app.pool.get().unwrap();
    audit_events::table
        .order(audit_events::id.desc())
        .select(audit_events::id)
        .load(&mut *conn)
        .unwrap()
}

fn ids(page: &Value) -> Vec<i32> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap() as i32)
        .collect()
}

fn below_api(url: &Value) -> String {
    url.as_str()
        .unwrap()
        .strip_prefix("/api/v1")
        .expect("an API URL")
        .to_owned()
}

storage_test!(
    events_page_both_ways_and_filter_as_on_the_page,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let mut app_ids = vec![];
        for n in 0..12 {
            let created = expect(
                &api.post("/apps", &json!({"name": format!("a{n}")})).await,
                StatusCode::CREATED,
            );
            app_ids.push(created["id"].as_i64().unwrap());
        }
        expect(
            &api.post("/roles", &json!({"name": "R"})).await,
            StatusCode::CREATED,
        );
        for id in &app_ids[..3] {
            expect(
                &api.put(&format!("/apps/{id}/active"), &json!({"active": false}))
                    .await,
                StatusCode::OK,
            );
        }
        let stored = stored_ids(&app);

        // Older to the end, then newer back to the start.
        let mut page = expect(&api.get("/audit-events?per_page=10").await, StatusCode::OK);
        assert!(page["newer"].is_null());
        let mut seen = ids(&page);
        while !page["older"].is_null() {
            page = expect(&api.get(&below_api(&page["older"])).await, StatusCode::OK);
            seen.extend(ids(&page));
        }
        assert_eq!(seen, stored, "every event once, newest first");
        let mut back = ids(&page);
        while !page["newer"].is_null() {
            page = expect(&api.get(&below_api(&page["newer"])).await, StatusCode::OK);
            back.splice(0..0, ids(&page));
        }
        assert_eq!(back, stored);

        // Filters.
        let roles = expect(&api.get("/audit-events?object=role").await, StatusCode::OK);
        assert_eq!(roles["events"].as_array().unwrap().len(), 1);
        assert_eq!(roles["events"][0]["object"]["kind"], "role");
        let first = app_ids[0];
        let history = expect(
            &api.get(&format!("/audit-events?object=app&id={first}"))
                .await,
            StatusCode::OK,
        );
        let actions: Vec<&str> = history["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["updated", "created"]);
        let toggled = &history["events"][0];
        assert_eq!(
            toggled["changes"],
            json!([{"field": "Active", "before": "yes", "after": "no"}])
        );
        assert_eq!(toggled["actor"]["address"], "127.0.0.1");
        let admin_id = toggled["actor"]["admin_id"].as_i64().unwrap();
        let by_admin = expect(
            &api.get(&format!("/audit-events?admin={admin_id}&per_page=100"))
                .await,
            StatusCode::OK,
        );
        // The token's own creation is by the same administrator, through the page.
        assert_eq!(
            ids(&by_admin).len(),
            stored.len() - 1,
            "all but the administrator's creation"
        );
        let nobody = expect(&api.get("/audit-events?admin=999").await, StatusCode::OK);
        assert_eq!(nobody["events"], json!([]));
        assert!(nobody["older"].is_null() && nobody["newer"].is_null());
    }
);

storage_test!(bad_audit_parameters_are_400s, |app| async move {
    let api = Api::for_app(&app, "read").await;
    for bad in [
        "per_page=0",
        "per_page=101",
        "object=rule",
        "id=3",
        "before=x",
        "before=3&after=2",
        "admin=me",
        "colour=red",
    ] {
        let (_, message) = expect_error(
            &api.get(&format!("/audit-events?{bad}")).await,
            StatusCode::BAD_REQUEST,
        );
        assert!(!message.is_empty(), "{bad}");
    }
});
