//! Verification over HTTP, on SQLite and PostgreSQL: every answer of
//! `POST /api/v1/verify`, access rules judged end to end, the forward-auth
//! endpoint with each place a key and a request can come from, changes
//! honoured within a second, last-used times on the list, and two instances
//! sharing one PostgreSQL database.

use std::time::{Duration, Instant};

use keyward::apps::key::ApiKey;
use serde_json::{Value, json};

use crate::helpers::{Backend, StatusCode, TestApp, TestDb, TestResponse, api_client, eventually};

/// keyward promises that a change is honoured within one second; the margin
/// is for the HTTP round trips of the check itself.
const FRESH: Duration = Duration::from_millis(1200);

/// A service `db`, a role "Readers" granting GET on all of it, and an active
/// key "Mobile app" with that role.
struct Setup {
    db: i32,
    role: i32,
    app_id: i32,
    key: String,
}

async fn setup(app: &TestApp) -> Setup {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    Setup {
        db,
        role,
        app_id,
        key,
    }
}

fn code(answer: &Value) -> &str {
    answer["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {answer}"))
}

/// `{"id": .., "name": ..}` as the answers name an app or a role.
fn named(id: i32, name: &str) -> Value {
    json!({"id": id, "name": name})
}

/// The same key with another, still alphanumeric, last checksum character.
fn with_altered_checksum(key: &str) -> String {
    let mut altered = key.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    altered
}

/// Asserts a DreamFactory-shaped error body with `status` and returns its message.
fn error_message(response: &TestResponse, status: StatusCode) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .starts_with("application/json"),
        "{}",
        response.header("content-type")
    );
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {}", response.body));
    assert_eq!(body["error"]["code"], json!(status.as_u16()), "{body}");
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("error without a message: {body}"))
        .to_owned();
    assert!(!message.trim().is_empty(), "{body}");
    message
}

// ---- POST /api/v1/verify: every code ----

storage_test!(a_valid_key_names_its_app_and_role, |app| async move {
    let s = setup(&app).await;

    let answer = app.verify(&json!({"key": s.key})).await;
    assert_eq!(answer["valid"], json!(true), "{answer}");
    assert_eq!(code(&answer), "VALID");
    assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    assert_eq!(answer["role"], named(s.role, "Readers"));
    assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        answer.get("allowed").is_none(),
        "allowed without a service: {answer}"
    );

    let answer = app
        .verify(
            &json!({"key": s.key, "service": "db", "component": "_table/contacts", "verb": "GET"}),
        )
        .await;
    assert_eq!(answer["valid"], json!(true), "{answer}");
    assert_eq!(code(&answer), "VALID");
    assert_eq!(answer["allowed"], json!(true), "{answer}");
    assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    assert_eq!(answer["role"], named(s.role, "Readers"));

    // No verb means GET; no component means the service root; verbs are case-blind.
    let answer = app.verify(&json!({"key": s.key, "service": "db"})).await;
    assert_eq!(
        (code(&answer), &answer["allowed"]),
        ("VALID", &json!(true)),
        "{answer}"
    );
    let answer = app
        .verify(&json!({"key": s.key, "service": "db", "verb": "get"}))
        .await;
    assert_eq!(code(&answer), "VALID", "{answer}");
});

storage_test!(
    a_verb_the_role_does_not_grant_is_forbidden,
    |app| async move {
        let s = setup(&app).await;

        let answer = app
        .verify(&json!({"key": s.key, "service": "db", "component": "_table/contacts", "verb": "POST"}))
        .await;
        assert_eq!(answer["valid"], json!(false), "{answer}");
        assert_eq!(code(&answer), "FORBIDDEN");
        assert_eq!(answer["allowed"], json!(false), "{answer}");
        assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
        assert_eq!(answer["role"], named(s.role, "Readers"));
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("POST") && message.contains("Readers"),
            "the message does not say what is refused: {message}"
        );

        // A service nobody registered is refused too, and says so.
        let answer = app
            .verify(&json!({"key": s.key, "service": "nosuch", "verb": "GET"}))
            .await;
        assert_eq!(
            (code(&answer), &answer["allowed"]),
            ("FORBIDDEN", &json!(false)),
            "{answer}"
        );
        assert!(
            answer["message"].as_str().unwrap().contains("nosuch"),
            "{answer}"
        );
    }
);

storage_test!(
    malformed_keys_are_refused_without_naming_an_app,
    |app| async move {
        let s = setup(&app).await;
        let altered = with_altered_checksum(&s.key);
        let answer = app.verify(&json!({"key": altered})).await;
        assert_eq!(answer["valid"], json!(false), "{answer}");
        assert_eq!(code(&answer), "MALFORMED");
        assert_eq!(answer["app"], Value::Null, "{answer}");
        assert_eq!(answer["role"], Value::Null, "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("checksum"),
            "{answer}"
        );

        let short = &s.key[..s.key.len() - 1];
        let other_prefix = format!("xx_{}", &s.key[3..]);
        let spaced = format!("{} {}", &s.key[..20], &s.key[21..]);
        for bad in ["", "not a key", short, &other_prefix, &spaced] {
            let answer = app
                .verify(&json!({"key": bad, "service": "db", "verb": "GET"}))
                .await;
            assert_eq!(code(&answer), "MALFORMED", "{bad:?}: {answer}");
            assert_eq!(answer["valid"], json!(false), "{bad:?}: {answer}");
            assert_eq!(answer["app"], Value::Null, "{bad:?}: {answer}");
        }
    }
);

storage_test!(a_well_formed_unknown_key_is_not_found, |app| async move {
    setup(&app).await;
    let unknown = ApiKey::generate();
    let answer = app
        .verify(&json!({"key": unknown.expose(), "service": "db"}))
        .await;
    assert_eq!(answer["valid"], json!(false), "{answer}");
    assert_eq!(code(&answer), "NOT_FOUND");
    assert_eq!(answer["app"], Value::Null, "{answer}");
    assert_eq!(answer["role"], Value::Null, "{answer}");
});

storage_test!(
    a_deactivated_key_is_inactive_until_reactivated,
    |app| async move {
        let s = setup(&app).await;
        app.set_key_active(s.app_id, false).await;
        let answer = app
            .verify(&json!({"key": s.key, "service": "db", "verb": "GET"}))
            .await;
        assert_eq!(answer["valid"], json!(false), "{answer}");
        assert_eq!(code(&answer), "INACTIVE");
        assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
        assert!(
            answer["message"].as_str().unwrap().contains("Mobile app"),
            "{answer}"
        );

        // Reactivating is honoured within the same second as any change.
        app.set_key_active(s.app_id, true).await;
        eventually(FRESH, "the reactivated key to be valid", || async {
            (code(&app.verify(&json!({"key": s.key})).await) == "VALID").then_some(())
        })
        .await;
    }
);

storage_test!(a_key_without_a_role_has_no_role, |app| async move {
    app.login_as_default_admin().await;
    app.create_service("db", "api").await;
    let (app_id, key) = app.create_key("Roleless", None).await;
    for body in [
        json!({"key": key}),
        json!({"key": key, "service": "db", "verb": "GET"}),
    ] {
        let answer = app.verify(&body).await;
        assert_eq!(answer["valid"], json!(false), "{answer}");
        assert_eq!(code(&answer), "NO_ROLE", "{answer}");
        assert_eq!(answer["app"], named(app_id, "Roleless"));
        assert_eq!(answer["role"], Value::Null, "{answer}");
    }
});

storage_test!(a_deactivated_role_is_role_inactive, |app| async move {
    let s = setup(&app).await;
    // Saving the role with "Active" unchecked.
    let saved = app
        .post_form(
            &format!("/roles/{}", s.role),
            &[("name", "Readers"), ("description", "")],
        )
        .await;
    saved.assert_redirects_to(&format!("/roles/{}", s.role));
    let answer = app
        .verify(&json!({"key": s.key, "service": "db", "verb": "GET"}))
        .await;
    assert_eq!(answer["valid"], json!(false), "{answer}");
    assert_eq!(code(&answer), "ROLE_INACTIVE");
    assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    assert_eq!(answer["role"], named(s.role, "Readers"));
});

storage_test!(
    bad_requests_are_400_in_dreamfactory_shape,
    |app| async move {
        let s = setup(&app).await;
        let client = api_client();
        let post = |body: String, content_type: &'static str| {
            let request = client
                .post(app.url("/api/v1/verify"))
                .header("content-type", content_type)
                .body(body);
            async move { TestResponse::read(request.send().await.expect("request failed")).await }
        };
        let json_type = "application/json";
        let cases = [
            ("not JSON", "{\"key\": ".to_owned(), json_type),
            (
                "no key field",
                json!({"service": "db"}).to_string(),
                json_type,
            ),
            ("key not a string", json!({"key": 5}).to_string(), json_type),
            ("an array", json!([s.key]).to_string(), json_type),
            (
                "a verb without a service",
                json!({"key": s.key, "verb": "GET"}).to_string(),
                json_type,
            ),
            (
                "a form instead of JSON",
                format!("key={}", s.key),
                "application/x-www-form-urlencoded",
            ),
        ];
        for (what, body, content_type) in cases {
            let response = post(body, content_type).await;
            let message = error_message(&response, StatusCode::BAD_REQUEST);
            assert!(
                !message.contains(&s.key),
                "{what}: the key is echoed: {message}"
            );
        }
        let unknown_verb = post(
            json!({"key": s.key, "service": "db", "verb": "TRACE"}).to_string(),
            json_type,
        )
        .await;
        let message = error_message(&unknown_verb, StatusCode::BAD_REQUEST);
        assert!(message.contains("GET"), "{message}");
    }
);

// ---- Access rules, judged end to end ----

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

// ---- Forward-auth: GET /api/v1/auth ----

/// Asks the forward-auth endpoint about `method uri` as nginx's `auth_request` does.
pub async fn forward_auth(
    app: &TestApp,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    let mut request = api_client()
        .get(app.url("/api/v1/auth"))
        .header("X-Original-Method", method)
        .header("X-Original-URI", uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestResponse::read(request.send().await.expect("request failed")).await
}

fn assert_passes(response: &TestResponse, app_id: i32, app_name: &str, role: &str, what: &str) {
    assert_eq!(response.status, StatusCode::OK, "{what}: {}", response.body);
    assert_eq!(response.header("x-keyward-app"), app_name, "{what}");
    assert_eq!(
        response.header("x-keyward-app-id"),
        app_id.to_string(),
        "{what}"
    );
    assert_eq!(response.header("x-keyward-role"), role, "{what}");
}

storage_test!(
    forward_auth_passes_an_allowed_request_with_who_it_is,
    |app| async move {
        let s = setup(&app).await;
        let response = forward_auth(
            &app,
            "GET",
            "/api/v2/db/_table/contacts?limit=10",
            &[("X-API-Key", &s.key)],
        )
        .await;
        assert_passes(&response, s.app_id, "Mobile app", "Readers", "GET");
        // HEAD is judged as GET.
        let response = forward_auth(
            &app,
            "HEAD",
            "/api/v2/db/_table/contacts",
            &[("X-API-Key", &s.key)],
        )
        .await;
        assert_passes(&response, s.app_id, "Mobile app", "Readers", "HEAD");
    }
);

storage_test!(
    forward_auth_finds_the_key_in_every_documented_place,
    |app| async move {
        let s = setup(&app).await;
        let bearer = format!("Bearer {}", s.key);
        let uri = "/api/v2/db/_table/contacts";
        for (what, header) in [
            ("X-API-Key", ("X-API-Key", s.key.as_str())),
            (
                "X-DreamFactory-API-Key",
                ("X-DreamFactory-API-Key", s.key.as_str()),
            ),
            ("Authorization: Bearer", ("Authorization", bearer.as_str())),
        ] {
            let response = forward_auth(&app, "GET", uri, &[header]).await;
            assert_passes(&response, s.app_id, "Mobile app", "Readers", what);
        }
        let with_query = format!("{uri}?filter=x&api_key={}", s.key);
        let response = forward_auth(&app, "GET", &with_query, &[]).await;
        assert_passes(&response, s.app_id, "Mobile app", "Readers", "api_key");
    }
);

storage_test!(
    forward_auth_refuses_missing_malformed_and_unknown_keys_with_401,
    |app| async move {
        let s = setup(&app).await;
        let uri = "/api/v2/db/_table/contacts";
        let altered = with_altered_checksum(&s.key);
        let unknown = ApiKey::generate().expose().to_owned();
        let basic = "Basic YWxhZGRpbjpvcGVuc2VzYW1l";
        for (what, headers, says) in [
            ("no key", vec![], "No API key"),
            (
                "a Basic Authorization header",
                vec![("Authorization", basic)],
                "No API key",
            ),
            (
                "an altered checksum",
                vec![("X-API-Key", altered.as_str())],
                "malformed",
            ),
            (
                "not a key at all",
                vec![("X-API-Key", "letmein")],
                "malformed",
            ),
            (
                "an unknown key",
                vec![("X-API-Key", unknown.as_str())],
                "not known",
            ),
        ] {
            let response = forward_auth(&app, "GET", uri, &headers).await;
            let message = error_message(&response, StatusCode::UNAUTHORIZED);
            assert!(message.contains(says), "{what}: {message}");
            assert!(
                response
                    .header("www-authenticate")
                    .to_lowercase()
                    .starts_with("bearer"),
                "{what}: {}",
                response.header("www-authenticate")
            );
            assert!(
                response.headers.get("x-keyward-app").is_none(),
                "{what}: names an app"
            );
        }
    }
);

storage_test!(
    forward_auth_refuses_valid_keys_that_may_not_pass_with_403,
    |app| async move {
        let s = setup(&app).await;
        let (_, roleless) = app.create_key("Roleless", None).await;
        let (inactive_id, inactive) = app.create_key("Retired", Some(s.role)).await;
        app.set_key_active(inactive_id, false).await;
        let contacts = "/api/v2/db/_table/contacts";
        for (what, method, uri, key, says) in [
            (
                "a verb the role lacks",
                "DELETE",
                contacts,
                &s.key,
                "DELETE",
            ),
            ("an inactive key", "GET", contacts, &inactive, "inactive"),
            (
                "a key without a role",
                "GET",
                contacts,
                &roleless,
                "no role",
            ),
            (
                "an unknown service",
                "GET",
                "/api/v2/nosuch/x",
                &s.key,
                "nosuch",
            ),
            (
                "a URI outside the API",
                "GET",
                "/admin/secrets",
                &s.key,
                "/api/v2/",
            ),
        ] {
            let response = forward_auth(&app, method, uri, &[("X-API-Key", key)]).await;
            let message = error_message(&response, StatusCode::FORBIDDEN);
            assert!(message.contains(says), "{what}: {message}");
            assert!(
                response.headers.get("www-authenticate").is_none(),
                "{what}: a 403 asks for credentials"
            );
            assert!(
                response.headers.get("x-keyward-app").is_none(),
                "{what}: a refusal names the app to the upstream"
            );
        }
    }
);

/// Asks forward-auth with exactly these headers, as a proxy (or a client
/// reaching keyward directly) would.
async fn ask_forward_auth(app: &TestApp, headers: &[(&str, &str)]) -> TestResponse {
    let mut request = api_client().get(app.url("/api/v1/auth"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestResponse::read(request.send().await.expect("request failed")).await
}

storage_test!(
    forward_auth_reads_only_the_configured_proxys_headers,
    |app| async move {
        let s = setup(&app).await;
        let uri = "/api/v2/db/_table/contacts";
        let key = ("X-API-Key", s.key.as_str());

        // nginx (the harness's choice): X-Original-*, the original method
        // rather than the sub-request's.
        let allowed = ask_forward_auth(
            &app,
            &[("X-Original-Method", "GET"), ("X-Original-URI", uri), key],
        )
        .await;
        assert_passes(&allowed, s.app_id, "Mobile app", "Readers", "nginx GET");
        let refused = ask_forward_auth(
            &app,
            &[
                ("X-Original-Method", "DELETE"),
                ("X-Original-URI", uri),
                key,
            ],
        )
        .await;
        error_message(&refused, StatusCode::FORBIDDEN);

        // Traefik's and Caddy's headers are a client's to nginx: ignored,
        // whether alone or beside nginx's own.
        let theirs = ask_forward_auth(
            &app,
            &[("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", uri), key],
        )
        .await;
        let message = error_message(&theirs, StatusCode::BAD_REQUEST);
        assert!(message.contains("X-Original-Method"), "{message}");
        let beside = ask_forward_auth(
            &app,
            &[
                ("X-Original-Method", "DELETE"),
                ("X-Original-URI", uri),
                ("X-Forwarded-Method", "GET"),
                key,
            ],
        )
        .await;
        error_message(&beside, StatusCode::FORBIDDEN);

        // The original method is required: the sub-request's own is not a stand-in.
        let no_method = ask_forward_auth(&app, &[("X-Original-URI", uri), key]).await;
        let message = error_message(&no_method, StatusCode::BAD_REQUEST);
        assert!(
            message.contains("X-Original-Method") && message.contains("nginx"),
            "{message}"
        );
        let no_uri = ask_forward_auth(&app, &[("X-Original-Method", "GET"), key]).await;
        let message = error_message(&no_uri, StatusCode::BAD_REQUEST);
        assert!(message.contains("X-Original-URI"), "{message}");
    }
);

/// keyward behind Caddy or Traefik: their headers count, nginx's do not.
async fn judges_as_caddy_and_traefik_do(backend: crate::helpers::Backend) {
    for proxy in [keyward::proxy::Proxy::Caddy, keyward::proxy::Proxy::Traefik] {
        let Some(app) = crate::helpers::spawn_app_with(backend, |s| s.proxy = Some(proxy)).await
        else {
            return;
        };
        let s = setup(&app).await;
        let uri = "/api/v2/db/_table/contacts";
        let key = ("X-API-Key", s.key.as_str());
        let allowed = ask_forward_auth(
            &app,
            &[
                ("X-Forwarded-Method", "GET"),
                ("X-Forwarded-Uri", uri),
                ("X-Forwarded-Host", "api.example.com"),
                ("X-Forwarded-Proto", "https"),
                key,
            ],
        )
        .await;
        assert_passes(&allowed, s.app_id, "Mobile app", "Readers", proxy.as_str());
        // The spoofs a client tried through Caddy: nginx's headers beside the
        // proxy's own are not read.
        let spoofed_method = ask_forward_auth(
            &app,
            &[
                ("X-Forwarded-Method", "DELETE"),
                ("X-Forwarded-Uri", uri),
                ("X-Original-Method", "GET"),
                key,
            ],
        )
        .await;
        error_message(&spoofed_method, StatusCode::FORBIDDEN);
        let spoofed_uri = ask_forward_auth(
            &app,
            &[
                ("X-Forwarded-Method", "GET"),
                ("X-Forwarded-Uri", "/api/v2/files/secret"),
                ("X-Original-URI", uri),
                key,
            ],
        )
        .await;
        let message = error_message(&spoofed_uri, StatusCode::FORBIDDEN);
        assert!(
            message.contains("files/secret"),
            "{}: {message}",
            proxy.as_str()
        );
        let spoofed_preflight = ask_forward_auth(
            &app,
            &[
                ("X-Forwarded-Method", "DELETE"),
                ("X-Forwarded-Uri", uri),
                ("X-Original-Method", "OPTIONS"),
                ("Access-Control-Request-Method", "DELETE"),
            ],
        )
        .await;
        error_message(&spoofed_preflight, StatusCode::UNAUTHORIZED);
        let preflight = ask_forward_auth(
            &app,
            &[
                ("X-Forwarded-Method", "OPTIONS"),
                ("X-Forwarded-Uri", uri),
                ("Access-Control-Request-Method", "DELETE"),
            ],
        )
        .await;
        assert_eq!(preflight.status, StatusCode::OK, "{}", preflight.body);
        // nginx's headers alone are nothing to Caddy or Traefik.
        let nginx_only = ask_forward_auth(
            &app,
            &[("X-Original-Method", "GET"), ("X-Original-URI", uri), key],
        )
        .await;
        let message = error_message(&nginx_only, StatusCode::BAD_REQUEST);
        assert!(message.contains("X-Forwarded-Method"), "{message}");
    }
}

mod forward_auth_behind_caddy_and_traefik_reads_their_headers_only {
    #[tokio::test]
    async fn sqlite() {
        super::judges_as_caddy_and_traefik_do(crate::helpers::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::judges_as_caddy_and_traefik_do(crate::helpers::Backend::Postgres).await;
    }
}

#[tokio::test]
async fn forward_auth_judges_nothing_until_the_proxy_is_named() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, |s| s.proxy = None)
        .await
        .unwrap();
    let s = setup(&app).await;
    for headers in [
        vec![
            ("X-Original-Method", "GET"),
            ("X-Original-URI", "/api/v2/db/x"),
        ],
        vec![
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/api/v2/db/x"),
        ],
    ] {
        let mut headers = headers;
        headers.push(("X-API-Key", &s.key));
        let response = ask_forward_auth(&app, &headers).await;
        let message = error_message(&response, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(message.contains("--proxy"), "{message}");
        assert!(response.headers.get("x-keyward-app").is_none());
    }
    // Direct verification needs no proxy.
    let answer = app
        .verify(&json!({"key": s.key, "service": "db", "component": "x"}))
        .await;
    assert_eq!(code(&answer), "VALID");
}

storage_test!(
    cors_preflights_pass_without_a_key_and_nothing_else_does,
    |app| async move {
        setup(&app).await;
        let uri = "/api/v2/db/_table/contacts";
        let preflight = forward_auth(
            &app,
            "OPTIONS",
            uri,
            &[
                ("Access-Control-Request-Method", "DELETE"),
                ("Origin", "https://app.example.com"),
            ],
        )
        .await;
        assert_eq!(preflight.status, StatusCode::OK, "{}", preflight.body);

        // An OPTIONS that is not a preflight, or a preflight-looking GET, needs a key.
        let plain_options = forward_auth(&app, "OPTIONS", uri, &[]).await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&plain_options.status),
            "an OPTIONS without Access-Control-Request-Method passed: {:?}",
            plain_options.status
        );
        let get = forward_auth(
            &app,
            "GET",
            uri,
            &[("Access-Control-Request-Method", "GET")],
        )
        .await;
        error_message(&get, StatusCode::UNAUTHORIZED);
    }
);

// ---- Fresh within a second ----

/// The request each freshness test asks about: allowed before the change.
fn contacts_get(key: &str) -> Value {
    json!({"key": key, "service": "db", "component": "_table/contacts", "verb": "GET"})
}

/// A client keeps using the key for a few of keyward's cache polls, so the
/// answer is surely cached when the administrator changes something.
async fn keep_using(app: &TestApp, body: &Value) {
    let until = Instant::now() + keyward::verify::POLL_INTERVAL * 3;
    while Instant::now() < until {
        let answer = app.verify(body).await;
        assert_eq!(code(&answer), "VALID", "{answer}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Asserts that `body` is answered with `expected` within a second.
async fn refused_within_a_second(app: &TestApp, body: &Value, expected: &str, change: &str) {
    let answer = eventually(
        FRESH,
        &format!("{expected} within a second of {change}"),
        || async {
            let answer = app.verify(body).await;
            (code(&answer) != "VALID").then_some(answer)
        },
    )
    .await;
    assert_eq!(code(&answer), expected, "after {change}: {answer}");
    assert_eq!(answer["valid"], json!(false), "{answer}");
}

storage_test!(
    a_deactivated_key_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        app.set_key_active(s.app_id, false).await;
        refused_within_a_second(&app, &body, "INACTIVE", "deactivating the key").await;
    }
);

storage_test!(
    a_removed_rule_is_honoured_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let rule = {
            use diesel::prelude::*;
            use keyward::schema::role_rules;
            let mut conn = app.pool.get().unwrap();
            role_rules::table
                .filter(role_rules::role_id.eq(s.role))
                .select(role_rules::id)
                .first::<i32>(&mut *conn)
                .unwrap()
        };
        let removed = app
            .post_form(&format!("/roles/{}/rules/{rule}/delete", s.role), &[])
            .await;
        removed.assert_redirects_to(&format!("/roles/{}#rules", s.role));
        refused_within_a_second(&app, &body, "FORBIDDEN", "removing the rule").await;

        // Granting again is as quick.
        app.add_rule(s.role, Some(s.db), "_table/*", &["GET"]).await;
        eventually(FRESH, "the new rule to allow GET", || async {
            (code(&app.verify(&body).await) == "VALID").then_some(())
        })
        .await;
    }
);

storage_test!(
    a_deactivated_role_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let saved = app
            .post_form(
                &format!("/roles/{}", s.role),
                &[("name", "Readers"), ("description", "")],
            )
            .await;
        saved.assert_redirects_to(&format!("/roles/{}", s.role));
        refused_within_a_second(&app, &body, "ROLE_INACTIVE", "deactivating the role").await;
    }
);

storage_test!(
    a_deactivated_service_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let saved = app
            .post_form(
                &format!("/services/{}", s.db),
                &[
                    ("name", "db"),
                    ("label", "The db service"),
                    ("description", ""),
                    ("kind", "api"),
                ],
            )
            .await;
        saved.assert_redirects_to("/services");
        refused_within_a_second(&app, &body, "FORBIDDEN", "deactivating the service").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["allowed"], json!(false), "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("inactive"),
            "{answer}"
        );
    }
);

storage_test!(
    a_deleted_service_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let deleted = app
            .post_form(&format!("/services/{}/delete", s.db), &[])
            .await;
        deleted.assert_redirects_to("/services");
        refused_within_a_second(&app, &body, "FORBIDDEN", "deleting the service").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["allowed"], json!(false), "{answer}");
    }
);

storage_test!(
    a_deleted_role_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let deleted = app
            .post_form(&format!("/roles/{}/delete", s.role), &[])
            .await;
        deleted.assert_redirects_to("/roles");
        refused_within_a_second(&app, &body, "NO_ROLE", "deleting the role").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["role"], Value::Null, "{answer}");
        assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    }
);

// ---- Last used ----

/// The `<tr>` of one app on the API Keys list.
fn app_row(list: &TestResponse, app_id: i32) -> String {
    let start = list
        .body
        .find(&format!("<tr id=\"app-{app_id}\">"))
        .unwrap_or_else(|| panic!("no row for app {app_id}: {}", list.body));
    let end = start + list.body[start..].find("</tr>").expect("unclosed row");
    list.body[start..end].to_owned()
}

/// The "Last used" cell of a row (its last cell).
fn last_used_cell(row: &str) -> String {
    row.rsplit("<td>").next().unwrap_or_default().to_owned()
}

storage_test!(the_list_shows_when_a_key_was_last_used, |app| async move {
    let s = setup(&app).await;
    let (idle_id, _) = app.create_key("Idle app", Some(s.role)).await;
    let list = app.get("/api-keys").await;
    for id in [s.app_id, idle_id] {
        let cell = last_used_cell(&app_row(&list, id));
        assert!(cell.contains("Never"), "app {id} used already: {cell}");
    }

    let answer = app.verify(&contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "VALID", "{answer}");
    let cell = eventually(
        Duration::from_secs(10),
        "the list to show when the key was used",
        || async {
            let cell = last_used_cell(&app_row(&app.get("/api-keys").await, s.app_id));
            (!cell.contains("Never")).then_some(cell)
        },
    )
    .await;
    let shown = cell
        .split_once("<time datetime=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(at, _)| at.to_owned())
        .unwrap_or_else(|| panic!("no time in the Last used cell: {cell}"));
    let used = chrono::NaiveDateTime::parse_from_str(&shown, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{shown:?} is not a time: {e}"));
    let age = chrono::Utc::now().naive_utc() - used;
    assert!(
        age >= chrono::Duration::seconds(-2) && age <= chrono::Duration::seconds(60),
        "last used {shown}, but the key was used just now"
    );
    assert!(cell.contains("UTC"), "{cell}");

    let idle = last_used_cell(&app_row(&app.get("/api-keys").await, idle_id));
    assert!(idle.contains("Never"), "an unused key shows a time: {idle}");
});

// ---- Two instances, one PostgreSQL database ----

#[tokio::test]
async fn a_key_deactivated_on_one_instance_is_refused_by_another_within_a_second() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let a = TestApp::start(db, |_| {}).await;
    let b = a.start_peer().await;
    let s = setup(&a).await;
    let body = contacts_get(&s.key);

    // Both instances serve the key, and B has it cached.
    let until = Instant::now() + keyward::verify::POLL_INTERVAL * 3;
    while Instant::now() < until {
        for answer in [a.verify(&body).await, b.verify(&body).await] {
            assert_eq!(code(&answer), "VALID", "{answer}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    a.set_key_active(s.app_id, false).await;
    let deactivated = Instant::now();
    let give_up = deactivated + Duration::from_secs(10);
    let (answer, took) = loop {
        let answer = b.verify(&body).await;
        if code(&answer) != "VALID" {
            break (answer, deactivated.elapsed());
        }
        assert!(
            Instant::now() < give_up,
            "instance B still accepts the key 10 s after A deactivated it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(code(&answer), "INACTIVE", "{answer}");
    assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    assert!(
        took <= Duration::from_secs(1),
        "instance B refused the key {took:?} after A deactivated it; the promise is one second"
    );
    // And B goes on refusing it.
    assert_eq!(code(&b.verify(&body).await), "INACTIVE");
}
