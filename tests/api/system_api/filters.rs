//! Filters on SQLite and PostgreSQL: each operator of the grammar finds the
//! same apps on both, and filters (and orders) that try to be SQL are 400s
//! in DreamFactory's words that change nothing.

use serde_json::json;

use super::{Df, app_names, expect, expect_error};
use crate::harness::{StatusCode, query};

/// The names a filter finds, in id order.
async fn found(df: &Df, filter: &str) -> Vec<String> {
    let body = expect(
        &df.get(&format!("/app?{}", query(&[("filter", filter)])))
            .await,
        StatusCode::OK,
    );
    body["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

storage_test!(
    every_operator_finds_the_same_on_both_backends,
    |app| async move {
        let df = Df::for_app(&app).await;
        expect(
            &df.post(
                "/app",
                &json!({"resource": [
                    {"name": "Alpha", "description": "100% sure"},
                    {"name": "beta_one", "type": 2, "url": "https://b.example"},
                    {"name": "gamma", "is_active": false, "type": 3, "path": "/g"},
                ]}),
            )
            .await,
            StatusCode::CREATED,
        );
        let cases: &[(&str, &[&str])] = &[
            ("name = 'gamma'", &["gamma"]),
            ("name eq \"Alpha\"", &["Alpha"]),
            ("name = 'alpha'", &[]),
            ("name != 'gamma'", &["Alpha", "beta_one"]),
            ("name <> 'gamma'", &["Alpha", "beta_one"]),
            ("type > 0", &["beta_one", "gamma"]),
            ("type gte 2", &["beta_one", "gamma"]),
            ("type < 2", &["Alpha"]),
            ("type lte 2", &["Alpha", "beta_one"]),
            ("type ne 2", &["Alpha", "gamma"]),
            ("is_active = false", &["gamma"]),
            ("name like 'AL%'", &["Alpha"]),
            ("name like '%a'", &["Alpha", "gamma"]),
            ("name like 'beta_one'", &["beta_one"]),
            ("name contains '_'", &["beta_one"]),
            ("description contains '100%'", &["Alpha"]),
            ("name starts with 'g'", &["gamma"]),
            ("name ends with 'ONE'", &["beta_one"]),
            ("name in ('Alpha','gamma')", &["Alpha", "gamma"]),
            ("name not in ('Alpha')", &["beta_one", "gamma"]),
            ("url is null", &["Alpha", "gamma"]),
            ("url is not null", &["beta_one"]),
            (
                "created_date > '2000-01-01'",
                &["Alpha", "beta_one", "gamma"],
            ),
            ("(type = 2) or (type = 3)", &["beta_one", "gamma"]),
            (
                "((type = 2) or (type = 3)) and (is_active = true)",
                &["beta_one"],
            ),
            ("name = 'x'' or ''1''=''1'", &[]),
        ];
        for (filter, expected) in cases {
            assert_eq!(found(&df, filter).await, *expected, "{filter}");
        }
    }
);

storage_test!(
    sql_in_a_filter_is_refused_and_changes_nothing,
    |app| async move {
        let df = Df::for_app(&app).await;
        expect(
            &df.post("/app", &json!({"resource": [{"name": "x"}, {"name": "y"}]}))
                .await,
            StatusCode::CREATED,
        );
        let attempts = [
            "name = 'x' or 1=1",
            "; drop table apps",
            "name = 'x'; drop table apps; --",
            "(name = 'x') or (1 = 1)",
            "name = 'x') or ('1' = '1",
            "1=1",
            "name = x",
            "name = 'x' /* */",
            "name = 'x' union select key_hash from apps",
        ];
        for filter in attempts {
            let q = query(&[("filter", filter)]);
            for answer in [
                df.get(&format!("/app?{q}")).await,
                df.patch(&format!("/app?{q}"), &json!({"description": "changed"}))
                    .await,
                df.delete(&format!("/app?{q}")).await,
            ] {
                let (message, _) = expect_error(&answer, StatusCode::BAD_REQUEST);
                assert!(
                    message == "Invalid or unparsable filter request."
                        || message.starts_with("Invalid or unparsable field in filter request: '"),
                    "{filter}: {message}"
                );
            }
        }
        for order in ["name; drop table apps", "(select 1)", "name desc, key_hash"] {
            let answer = df
                .get(&format!("/app?{}", query(&[("order", order)])))
                .await;
            expect_error(&answer, StatusCode::BAD_REQUEST);
        }
        // A good filter does not choose what to change or delete either: ids do.
        let q = query(&[("filter", "name = 'x'")]);
        for answer in [
            df.delete(&format!("/app?{q}")).await,
            df.patch(&format!("/app?{q}"), &json!({"description": "changed"}))
                .await,
        ] {
            let (message, _) = expect_error(&answer, StatusCode::BAD_REQUEST);
            assert!(message.contains("by id only"), "{message}");
        }
        assert_eq!(app_names(&app), ["x", "y"]);
        assert!(app.stored_apps().iter().all(|a| a.description.is_empty()));
    }
);
