//! Forward-auth reads only the headers of the proxy keyward was told it is
//! behind (`--proxy`): nginx's `X-Original-*`, or Caddy's and Traefik's
//! `X-Forwarded-*`, never the other's; and it judges nothing until the proxy
//! is named.

use serde_json::json;

use super::{assert_passes, code, error_message, setup};
use crate::harness::{StatusCode, TestApp, TestResponse, api_client};

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
async fn judges_as_caddy_and_traefik_do(backend: crate::harness::Backend) {
    for proxy in [keyward::proxy::Proxy::Caddy, keyward::proxy::Proxy::Traefik] {
        let Some(app) = crate::harness::spawn_app_with(backend, |s| s.proxy = Some(proxy)).await
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
        super::judges_as_caddy_and_traefik_do(crate::harness::Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        super::judges_as_caddy_and_traefik_do(crate::harness::Backend::Postgres).await;
    }
}

#[tokio::test]
async fn forward_auth_judges_nothing_until_the_proxy_is_named() {
    let app = crate::harness::spawn_app_with(crate::harness::Backend::Sqlite, |s| s.proxy = None)
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
        let message = error_message(&response, StatusCode::SERVICE_UNAVAILABLE);
        assert!(message.contains("--proxy"), "{message}");
        assert!(response.headers.get("x-keyward-app").is_none());
    }
    // Direct verification needs no proxy.
    let answer = app
        .verify(&json!({"key": s.key, "service": "db", "component": "x"}))
        .await;
    assert_eq!(code(&answer), "VALID");
}
