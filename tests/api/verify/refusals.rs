//! Requests keyward refuses rather than judges: URIs an upstream could read
//! as another path, and requests carrying two different keys. Each case is one
//! an outside probe got through before.

use serde_json::{Value, json};

use crate::harness::{StatusCode, TestApp, TestResponse, api_client};

/// A role that may GET everything in `db` except `_table/secret`, which only
/// allows POST: the most specific rule wins, so a URI keyward reads as
/// another path than the upstream would be a way to GET the secret.
struct Secret {
    key: String,
}

async fn setup(app: &TestApp) -> Secret {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Most things").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    app.add_rule(role, Some(db), "_table/secret", &["POST"])
        .await;
    let (_, key) = app.create_key("Probe", Some(role)).await;
    Secret { key }
}

async fn ask(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = api_client()
        .get(app.url("/api/v1/auth"))
        .header("X-Original-Method", "GET")
        .header("X-Original-URI", uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestResponse::read(request.send().await.expect("request failed")).await
}

fn message(response: &TestResponse, status: StatusCode) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", response.body));
    assert_eq!(body["error"]["code"], status.as_u16(), "{body}");
    body["error"]["message"].as_str().unwrap().to_owned()
}

storage_test!(
    uris_an_upstream_could_read_differently_are_refused,
    |app| async move {
        let s = setup(&app).await;
        let key = [("X-API-Key", s.key.as_str())];
        // The rules as written: the secret is refused, its neighbours pass.
        let secret = ask(&app, "/api/v2/db/_table/secret", &key).await;
        assert!(message(&secret, StatusCode::FORBIDDEN).contains("does not allow GET"));
        assert_eq!(
            ask(&app, "/api/v2/db/_table/other", &key).await.status,
            StatusCode::OK
        );
        assert_eq!(
            ask(&app, "/api/v2/db/files/report.pdf", &key).await.status,
            StatusCode::OK,
            "a dot inside a segment is fine"
        );
        // Every spelling that passed before, through nginx or directly.
        for (uri, says) in [
            ("/api/v2/db/_table/x#/../secret", "fragment"),
            ("/api/v2/db/_table/secret;x", "';'"),
            ("/api/v2/db/_table/x/..;/secret", "';'"),
            ("/api/v2/db/_table\\secret", "backslash"),
            ("/api/v2/db/_table/secret%00", "control character"),
            ("/api/v2/db/_table/secret.", "dot"),
            ("/api/v2/db/_table/secret%20", "space"),
            ("/api/v2/db/_table/x/../secret", "dot segment"),
            ("/api/v2/db/_table/x/%2e%2e/secret", "'.'"),
            ("/api/v2/db/_table%2Fsecret", "'/'"),
            ("/api/v2/db/_table%5Csecret", "'\\'"),
            ("/api/v2/db/_table/secret%252e", "'%'"),
            ("/api/v2/db/_table//secret", "empty path segment"),
        ] {
            let response = ask(&app, uri, &key).await;
            let message = message(&response, StatusCode::FORBIDDEN);
            assert!(
                message.contains("ambiguous") && message.contains(says),
                "{uri}: {message}"
            );
            assert!(response.headers.get("x-keyward-app").is_none(), "{uri}");
        }
        // Components match case-sensitively: another case is another path.
        assert_eq!(
            ask(&app, "/api/v2/db/_table/SECRET", &key).await.status,
            StatusCode::OK
        );

        // /api/v1/verify takes a decoded component: the same readings refused.
        for component in [
            "_table/secret.",
            "_table/secret ",
            "_table/x/../secret",
            "_table\\secret",
            "_table/secret\u{0}",
            "_table/secret;x",
        ] {
            let response = TestResponse::read(
                api_client()
                    .post(app.url("/api/v1/verify"))
                    .json(&json!({"key": s.key, "service": "db", "component": component}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let message = message(&response, StatusCode::BAD_REQUEST);
            assert!(message.contains("ambiguous"), "{component:?}: {message}");
        }
    }
);

storage_test!(
    two_different_keys_in_one_request_are_refused,
    |app| async move {
        let s = setup(&app).await;
        let (_, other) = app.create_key("Other", None).await;
        let bearer = format!("Bearer {other}");
        let own_bearer = format!("Bearer {}", s.key);
        let uri = "/api/v2/db/_table/contacts";
        let with_query = |key: &str| format!("{uri}?api_key={key}");
        // The same key in several places is one key.
        for (what, query, headers) in [
            (
                "header and query",
                with_query(&s.key),
                vec![("X-API-Key", s.key.as_str())],
            ),
            (
                "three headers",
                uri.to_owned(),
                vec![
                    ("X-API-Key", s.key.as_str()),
                    ("X-DreamFactory-API-Key", s.key.as_str()),
                    ("Authorization", own_bearer.as_str()),
                ],
            ),
        ] {
            let response = ask(&app, &query, &headers).await;
            assert_eq!(response.status, StatusCode::OK, "{what}: {}", response.body);
        }
        // Two different ones, from any two places, are refused.
        for (what, query, headers) in [
            (
                "header and query",
                with_query(&other),
                vec![("X-API-Key", s.key.as_str())],
            ),
            (
                "two headers",
                uri.to_owned(),
                vec![
                    ("X-API-Key", s.key.as_str()),
                    ("X-DreamFactory-API-Key", other.as_str()),
                ],
            ),
            (
                "header and bearer",
                uri.to_owned(),
                vec![
                    ("X-API-Key", s.key.as_str()),
                    ("Authorization", bearer.as_str()),
                ],
            ),
            (
                "two query parameters",
                format!("{uri}?api_key={}&api_key={other}", s.key),
                vec![],
            ),
            (
                "a key and garbage",
                with_query(&s.key),
                vec![("X-API-Key", "not a key")],
            ),
        ] {
            let response = ask(&app, &query, &headers).await;
            let message = message(&response, StatusCode::UNAUTHORIZED);
            assert!(
                message.contains("more than one API key in the request"),
                "{what}: {message}"
            );
            assert!(response.headers.get("www-authenticate").is_some(), "{what}");
        }
        // A key header that is not text beside a key is two keys as well.
        let unreadable = reqwest::header::HeaderValue::from_bytes(b"kw_\xe9t\xe9").unwrap();
        let response = TestResponse::read(
            api_client()
                .get(app.url("/api/v1/auth"))
                .header("X-Original-Method", "GET")
                .header("X-Original-URI", with_query(&s.key))
                .header("X-DreamFactory-API-Key", unreadable.clone())
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(message(&response, StatusCode::UNAUTHORIZED).contains("more than one API key"));
        // Alone it is a malformed key, not a missing one.
        let response = TestResponse::read(
            api_client()
                .get(app.url("/api/v1/auth"))
                .header("X-Original-Method", "GET")
                .header("X-Original-URI", uri)
                .header("X-API-Key", unreadable)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert!(message(&response, StatusCode::UNAUTHORIZED).contains("malformed"));

        // /api/v1/verify: the body's key, and another beside it.
        let verify = |body: String, header: Option<&str>| {
            let mut request = api_client()
                .post(app.url("/api/v1/verify"))
                .header("content-type", "application/json")
                .body(body);
            if let Some(key) = header {
                request = request.header("X-API-Key", key.to_owned());
            }
            async move { TestResponse::read(request.send().await.unwrap()).await }
        };
        let body = json!({"key": s.key}).to_string();
        let same = verify(body.clone(), Some(&s.key)).await;
        assert_eq!(same.status, StatusCode::OK, "{}", same.body);
        let different = verify(body, Some(&other)).await;
        assert!(message(&different, StatusCode::BAD_REQUEST).contains("more than one API key"));
        let twice = verify(format!(r#"{{"key":"{}","key":"{other}"}}"#, s.key), None).await;
        assert!(message(&twice, StatusCode::BAD_REQUEST).contains("more than one API key"));
    }
);
