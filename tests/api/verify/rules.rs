//! Access rules judged end to end through HTTP: the most specific rule of a
//! key's role decides.

use serde_json::json;

use super::{code, forward_auth};
use crate::harness::StatusCode;

storage_test!(
    the_most_specific_rule_decides_through_http,
    |app| async move {
        app.login_as_default_admin().await;
        let db = app.create_service("db", "api").await;
        app.create_service("reports", "api").await;
        let role = app.create_role("Evaluator").await;
        app.add_rule(role, None, "*", &["GET"]).await;
        app.add_rule(role, Some(db), "*", &["GET", "POST"]).await;
        app.add_rule(role, Some(db), "_table/*", &["GET"]).await;
        app.add_rule(role, Some(db), "_table/contacts", &["DELETE"])
            .await;
        app.add_rule(role, Some(db), "_table/contacts", &["PATCH"])
            .await;
        let (_, key) = app.create_key("Evaluated", Some(role)).await;

        // (service, component, verb, allowed, why)
        let cases = [
            ("db", "_table/contacts", "DELETE", true, "exact rule"),
            (
                "db",
                "_table/contacts",
                "PATCH",
                true,
                "verbs of two exact rules add up",
            ),
            (
                "db",
                "_table/contacts",
                "GET",
                false,
                "exact beats prefix and *",
            ),
            ("db", "_table/orders", "GET", true, "prefix rule"),
            (
                "db",
                "_table/orders",
                "POST",
                false,
                "prefix beats * (which grants POST)",
            ),
            ("db", "_table", "GET", true, "a prefix covers its own path"),
            ("db", "_schema", "POST", true, "the service's *"),
            (
                "db",
                "_schema",
                "DELETE",
                false,
                "the service's * has no DELETE",
            ),
            ("db", "", "POST", true, "* covers the service root"),
            ("reports", "monthly", "GET", true, "the All services rule"),
            (
                "reports",
                "monthly",
                "POST",
                false,
                "the All services rule grants only GET",
            ),
            (
                "files",
                "",
                "GET",
                true,
                "All services covers a seeded service",
            ),
        ];
        for (service, component, verb, allowed, why) in cases {
            let answer = app
                .verify(
                    &json!({"key": key, "service": service, "component": component, "verb": verb}),
                )
                .await;
            assert_eq!(
                answer["allowed"],
                json!(allowed),
                "{verb} {service}/{component} ({why}): {answer}"
            );
            assert_eq!(
                code(&answer),
                if allowed { "VALID" } else { "FORBIDDEN" },
                "{verb} {service}/{component} ({why}): {answer}"
            );
        }

        // The forward-auth endpoint judges the same way.
        for (method, uri, status) in [
            ("DELETE", "/api/v2/db/_table/contacts", StatusCode::OK),
            ("GET", "/api/v2/db/_table/contacts", StatusCode::FORBIDDEN),
            ("GET", "/api/v2/db/_table/orders?limit=5", StatusCode::OK),
            ("POST", "/api/v2/db/_table/orders", StatusCode::FORBIDDEN),
            ("GET", "/api/v2/reports/monthly", StatusCode::OK),
            ("POST", "/api/v2/reports/monthly", StatusCode::FORBIDDEN),
        ] {
            let response = forward_auth(&app, method, uri, &[("X-API-Key", &key)]).await;
            assert_eq!(response.status, status, "{method} {uri}: {}", response.body);
        }
    }
);
