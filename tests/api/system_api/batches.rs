//! Batches of apps that fail part-way, on SQLite and PostgreSQL: DreamFactory's
//! batch error (400, code 1000, each record's result or error in `context`),
//! stopping at the first failure and keeping what came before (its default),
//! going on with `continue=true`, or writing nothing with `rollback=true`;
//! for creates, updates and deletes alike.

use serde_json::{Value, json};

use super::{Df, app_names, expect};
use crate::harness::StatusCode;

/// The batch error's failed indexes and per-record results.
fn batch_error(answer: &crate::harness::TestResponse, verb: &str) -> (Value, Value) {
    let body = expect(answer, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 1000, "{body}");
    assert_eq!(
        body["error"]["message"],
        format!("Batch Error: Not all requested records could be {verb}.")
    );
    (
        body["error"]["context"]["error"].clone(),
        body["error"]["context"]["resource"].clone(),
    )
}

storage_test!(
    batch_failures_stop_continue_or_roll_back,
    |app| async move {
        let df = Df::for_app(&app).await;
        let batch = |prefix: &str| {
            json!({"resource": [
        {"name": format!("{prefix}-1")}, {"name": ""}, {"name": format!("{prefix}-3")}]})
        };

        // DreamFactory's default: what came before stays, the batch stops.
        let (failed, resource) = batch_error(&df.post("/app", &batch("stop")).await, "created");
        assert_eq!(failed, json!([1]));
        assert!(
            resource[0]["id"].is_i64() && resource[0]["api_key"].is_string(),
            "{resource}"
        );
        assert_eq!(resource[1]["code"], 400);
        assert!(resource[1]["context"]["name"].is_array(), "{resource}");
        assert_eq!(resource.as_array().unwrap().len(), 2);
        assert_eq!(app_names(&app), ["stop-1"]);

        let (failed, resource) = batch_error(
            &df.post("/app?continue=true", &batch("go")).await,
            "created",
        );
        assert_eq!(failed, json!([1]));
        assert!(resource[2]["id"].is_i64());
        assert_eq!(app_names(&app), ["go-1", "go-3", "stop-1"]);

        let (failed, resource) = batch_error(
            &df.post("/app?rollback=true", &batch("undo")).await,
            "created",
        );
        assert_eq!(failed, json!([1]));
        assert!(
            resource[0]["message"]
                .as_str()
                .unwrap()
                .contains("rolled back"),
            "{resource}"
        );
        assert_eq!(app_names(&app), ["go-1", "go-3", "stop-1"]);
        // A name taken within the batch rolls back as well.
        let dupes = json!({"resource": [{"name": "twin"}, {"name": "twin"}]});
        let (failed, resource) =
            batch_error(&df.post("/app?rollback=true", &dupes).await, "created");
        assert_eq!(failed, json!([1]));
        assert!(
            resource[1]["context"]["name"][0]
                .as_str()
                .unwrap()
                .contains("already exists")
        );
        assert_eq!(app_names(&app), ["go-1", "go-3", "stop-1"]);

        // Updates and deletes fail per record the same way.
        let id = |name: &str| {
            app.stored_apps()
                .into_iter()
                .find(|a| a.name == name)
                .unwrap()
                .id
        };
        let (a, b) = (id("go-1"), id("go-3"));
        let (failed, resource) = batch_error(
            &df.patch(
                &format!("/app?ids={a},999999,{b}&continue=true"),
                &json!({"description": "both"}),
            )
            .await,
            "updated",
        );
        assert_eq!(failed, json!([1]));
        assert_eq!(
            resource[1]["message"],
            "Record with identifier '999999' not found."
        );
        assert_eq!(app.stored_app(b).description, "both");
        let (failed, _) = batch_error(
            &df.delete(&format!("/app?ids={a},999999,{b}&rollback=true"))
                .await,
            "deleted",
        );
        assert_eq!(failed, json!([1]));
        assert_eq!(app_names(&app), ["go-1", "go-3", "stop-1"]);
    }
);
