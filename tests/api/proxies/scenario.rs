//! The scenario every proxy must pass, whichever proxy it is: what keyward
//! allows passes and the rest is refused, each way a client tried to choose
//! what keyward judges fails, and a deactivation is honoured within a second.

use std::time::Duration;

use serde_json::Value;

use super::{ProxyProcess, Seen, Upstream};
use crate::harness::{StatusCode, TestApp, TestResponse, api_client, eventually};

/// The keys, roles and services every proxy scenario uses: a role allowed
/// GET on `db/*` only, and a key with it. The seeded `files` service exists
/// but the role has no rule for it.
pub struct Guarded {
    pub app_id: i32,
    pub key: String,
}

pub async fn guard(app: &TestApp) -> Guarded {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;
    Guarded { app_id, key }
}

/// `GET path` with `X-API-Key: key`, the path sent byte for byte as given.
async fn raw_get(address: &str, path: &str, key: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    (status, answer)
}

async fn send(request: reqwest::RequestBuilder) -> TestResponse {
    TestResponse::read(
        request
            .send()
            .await
            .expect("request through the proxy failed"),
    )
    .await
}

/// Whether keyward's refusals reach the client as it wrote them. Caddy and
/// Traefik pass on the whole answer; nginx's `auth_request` keeps only the
/// status and answers with a page of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusals {
    Passed,
    StatusOnly,
}

/// Asserts that a refusal says `says` (in keyward's DreamFactory-shaped
/// JSON), where the proxy passes keyward's answer on.
fn assert_says(refusals: Refusals, response: &TestResponse, says: &str, context: &str) {
    if refusals == Refusals::StatusOnly {
        return;
    }
    let body: Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {context}"));
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {context}"));
    assert!(
        message.contains(says),
        "{says:?} not in {message:?}: {context}"
    );
}

/// The scenario every proxy must pass. `name` says which proxy in messages.
pub async fn passes_only_what_keyward_allows(
    name: &str,
    refusals: Refusals,
    proxy: &ProxyProcess,
    upstream: &Upstream,
    guarded: &Guarded,
) {
    let client = api_client();
    let key = guarded.key.as_str();
    let contacts = proxy.url("/api/v2/db/_table/contacts");
    let context = |response: &TestResponse| {
        format!(
            "{name}: {} {}\n{name} log:\n{}",
            response.status,
            response.body,
            proxy.log()
        )
    };

    // No key: 401, with keyward's challenge and message passed on.
    let no_key = send(client.get(&contacts)).await;
    assert_eq!(
        no_key.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        context(&no_key)
    );
    assert!(
        no_key
            .header("www-authenticate")
            .to_lowercase()
            .starts_with("bearer"),
        "{name}: {:?}",
        no_key.headers
    );
    assert_says(refusals, &no_key, "No API key", &context(&no_key));

    // An allowed verb reaches the API, which learns who is calling, and not
    // who the client claims to be.
    let allowed = send(
        client
            .get(&contacts)
            .header("X-API-Key", key)
            .header("X-Keyward-App", "Admin console")
            .header("X-Keyward-Role", "Administrators"),
    )
    .await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", context(&allowed));
    assert_eq!(
        allowed.body,
        "upstream answered GET /api/v2/db/_table/contacts for app Mobile app with role Readers\n",
        "{name}"
    );
    let by_query = send(client.get(format!("{contacts}?api_key={key}"))).await;
    assert_eq!(by_query.status, StatusCode::OK, "{}", context(&by_query));

    // A verb the role does not grant stops at the proxy.
    let delete = send(client.delete(&contacts).header("X-API-Key", key)).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", context(&delete));
    assert_says(refusals, &delete, "DELETE", &context(&delete));

    // The client cannot choose the request keyward judges: every header that
    // names a method or URI, of any proxy's kind, is sent along.
    let spoofed_method = send(
        client
            .delete(&contacts)
            .header("X-API-Key", key)
            .header("X-Original-Method", "GET")
            .header("X-Forwarded-Method", "GET"),
    )
    .await;
    assert_eq!(
        spoofed_method.status,
        StatusCode::FORBIDDEN,
        "a DELETE claiming to be a GET: {}",
        context(&spoofed_method)
    );
    let spoofed_uri = send(
        client
            .get(proxy.url("/api/v2/files/secret"))
            .header("X-API-Key", key)
            .header("X-Original-URI", "/api/v2/db/_table/x")
            .header("X-Forwarded-Uri", "/api/v2/db/_table/x"),
    )
    .await;
    assert_eq!(
        spoofed_uri.status,
        StatusCode::FORBIDDEN,
        "files/secret claiming to be db/_table/x: {}",
        context(&spoofed_uri)
    );
    assert_says(
        refusals,
        &spoofed_uri,
        "files/secret",
        &context(&spoofed_uri),
    );
    let spoofed_preflight = send(
        client
            .delete(&contacts)
            .header("X-Original-Method", "OPTIONS")
            .header("X-Forwarded-Method", "OPTIONS")
            .header("Access-Control-Request-Method", "DELETE"),
    )
    .await;
    assert_eq!(
        spoofed_preflight.status,
        StatusCode::UNAUTHORIZED,
        "a keyless DELETE claiming to be a CORS preflight: {}",
        context(&spoofed_preflight)
    );

    // Two different keys: the API might read the other one.
    let other = keyward::apps::domain::ApiKey::generate();
    let two_keys = send(
        client
            .get(format!("{contacts}?api_key={}", other.expose()))
            .header("X-API-Key", key),
    )
    .await;
    assert_eq!(
        two_keys.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        context(&two_keys)
    );
    assert_says(
        refusals,
        &two_keys,
        "more than one API key in the request",
        &context(&two_keys),
    );

    // URIs the API might read as another path never reach it, whatever the
    // proxy makes of them (keyward refuses them; a proxy may refuse or
    // normalise first). Sent as raw bytes: an HTTP client library would
    // normalise some of them before they left.
    for path in [
        "/api/v2/db/_table/contacts;x",
        "/api/v2/db/_table/x/..;/contacts",
        "/api/v2/db/_table/contacts%2e",
        "/api/v2/db/_table/contacts%00",
        "/api/v2/db/_table/contacts%5Cx",
        "/api/v2/db/_table/%2e%2e/contacts",
    ] {
        let (status, body) = raw_get(&proxy.address, path, key).await;
        let normalised_elsewhere = body.contains("upstream answered GET /api/v2/db/contacts ");
        assert!(
            !(200..300).contains(&status) || normalised_elsewhere,
            "{path} passed: {status} {body}\n{name} log:\n{}",
            proxy.log()
        );
        if normalised_elsewhere {
            // The proxy resolved the dots itself and sent keyward and the API
            // the same path: one reading, judged as such.
            upstream.forget_last();
        }
    }

    // A real CORS preflight carries no key; it reaches the API, which answers
    // it, named as no app whatever the client claims.
    let preflight = send(
        client
            .request(reqwest::Method::OPTIONS, &contacts)
            .header("X-Keyward-App", "Admin console")
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "DELETE"),
    )
    .await;
    assert_eq!(preflight.status, StatusCode::OK, "{}", context(&preflight));
    assert!(
        preflight.body.starts_with("upstream answered OPTIONS"),
        "{}",
        context(&preflight)
    );

    // The API saw exactly the allowed requests and the preflight.
    let expected = |uri: String| Seen {
        method: "GET".into(),
        uri,
        app: Some("Mobile app".into()),
        role: Some("Readers".into()),
    };
    assert_eq!(
        upstream.seen(),
        vec![
            expected("/api/v2/db/_table/contacts".into()),
            expected(format!("/api/v2/db/_table/contacts?api_key={key}")),
            Seen {
                method: "OPTIONS".into(),
                uri: "/api/v2/db/_table/contacts".into(),
                app: None,
                role: None,
            },
        ],
        "{name}: the API saw a refused request"
    );
}

/// A key past its rate limit is refused through the proxy with 429, when to
/// retry (`Retry-After`) and the IETF `RateLimit-Policy` / `RateLimit`
/// headers, and the API never sees the refused request; where the proxy
/// passes them on a pass (nginx's example does), a pass carries the headers
/// too. The key has no limit again afterwards.
pub async fn tells_a_limited_client_when_to_retry(
    name: &str,
    headers_on_pass: bool,
    proxy: &ProxyProcess,
    upstream: &Upstream,
    app: &TestApp,
    guarded: &Guarded,
) {
    use crate::management::{Api, expect};
    use serde_json::json;

    let client = api_client();
    let contacts = proxy.url("/api/v2/db/_table/contacts");
    // The scenario before may have changed the key within the last second.
    eventually(Duration::from_millis(1200), "the key to pass", || async {
        let response = send(client.get(&contacts).header("X-API-Key", &guarded.key)).await;
        (response.status == StatusCode::OK).then_some(())
    })
    .await;
    let api = Api::for_app(app, "write").await;
    let path = format!("/apps/{}", guarded.app_id);
    // Two in a window of 31 days: no window ends while the test runs.
    let month: u32 = 31 * 86_400;
    expect(
        &api.patch(
            &path,
            &json!({"rate_limits": [{"limit": 2, "window_seconds": month}]}),
        )
        .await,
        StatusCode::OK,
    );
    let passes = std::cell::RefCell::new(Vec::new());
    let limited = eventually(
        Duration::from_millis(1200),
        "the proxy to answer 429",
        || async {
            let response = send(client.get(&contacts).header("X-API-Key", &guarded.key)).await;
            if response.status == StatusCode::OK {
                passes.borrow_mut().push(response);
                return None;
            }
            Some(response)
        },
    )
    .await;
    let context = format!(
        "{name}: {:?} {}\n{}",
        limited.headers,
        limited.body,
        proxy.log()
    );
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{context}");
    let retry: u64 = limited
        .header("retry-after")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=u64::from(month)).contains(&retry), "{context}");
    assert_eq!(
        limited.header("ratelimit-policy"),
        format!("\"31-days\";q=2;w={month}"),
        "{context}"
    );
    assert_eq!(
        limited.header("ratelimit"),
        format!("\"31-days\";r=0;t={retry}"),
        "{context}"
    );
    let body: Value =
        serde_json::from_str(&limited.body).unwrap_or_else(|e| panic!("not JSON ({e}): {context}"));
    assert_eq!(body["error"]["code"], json!(429), "{context}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("retry in {retry} seconds")),
        "{context}"
    );
    let passes = passes.into_inner();
    let seen_before = upstream.seen().len();
    let again = send(client.get(&contacts).header("X-API-Key", &guarded.key)).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{name}");
    assert_eq!(
        upstream.seen().len(),
        seen_before,
        "{name}: the API saw a refused request"
    );
    if headers_on_pass {
        // The passes before the limit took effect carry no limit, the others
        // say what was left.
        let told: Vec<&str> = passes
            .iter()
            .filter_map(|pass| pass.headers.get("ratelimit")?.to_str().ok())
            .collect();
        assert!(
            !told.is_empty() && told.iter().all(|t| t.starts_with("\"31-days\";r=")),
            "{name}: passes told {told:?}"
        );
    }
    expect(
        &api.patch(&path, &json!({"rate_limits": []})).await,
        StatusCode::OK,
    );
    eventually(
        Duration::from_millis(1200),
        "the limit to be gone",
        || async {
            let response = send(client.get(&contacts).header("X-API-Key", &guarded.key)).await;
            (response.status == StatusCode::OK).then_some(())
        },
    )
    .await;
}

/// A key deactivated in the console is refused through the proxy within a
/// second, and the API sees nothing more of it.
pub async fn honours_a_deactivation_within_a_second(
    proxy: &ProxyProcess,
    upstream: &Upstream,
    app: &TestApp,
    guarded: &Guarded,
) {
    let client = api_client();
    let contacts = proxy.url("/api/v2/db/_table/contacts");
    let seen_before = upstream.seen().len();
    app.set_key_active(guarded.app_id, false).await;
    let passed_meanwhile = std::cell::Cell::new(0);
    let refused = eventually(
        Duration::from_millis(1200),
        "the proxy to refuse the deactivated key",
        || async {
            let response = send(client.get(&contacts).header("X-API-Key", &guarded.key)).await;
            if response.status == StatusCode::OK {
                passed_meanwhile.set(passed_meanwhile.get() + 1);
                return None;
            }
            Some(response)
        },
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        upstream.seen().len(),
        seen_before + passed_meanwhile.get(),
        "the API saw a refused request"
    );
}

/// A client of the proxy connecting from `local`, another loopback address
/// than the proxy's own 127.0.0.1, so that the two can be told apart.
fn client_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<std::net::IpAddr>().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("cannot build the HTTP client")
}

/// With keyward trusting the proxy (`--trusted-proxy 127.0.0.1`), a key's
/// allowed addresses are judged against the client the proxy saw: from the
/// listed 127.0.0.2 the request passes, from 127.0.0.3 it is refused with 403,
/// also when that client writes the listed address into X-Forwarded-For
/// itself. The key is allowed from anywhere again afterwards.
pub async fn judges_the_address_the_proxy_saw(
    name: &str,
    refusals: Refusals,
    proxy: &ProxyProcess,
    upstream: &Upstream,
    app: &TestApp,
    guarded: &Guarded,
) {
    use crate::management::{Api, expect};
    use serde_json::json;

    let api = Api::for_app(app, "write").await;
    let path = format!("/apps/{}", guarded.app_id);
    expect(
        &api.patch(&path, &json!({"allowed_ips": ["127.0.0.2"]}))
            .await,
        StatusCode::OK,
    );
    let contacts = proxy.url("/api/v2/db/_table/contacts");
    let listed = client_from("127.0.0.2");
    let other = client_from("127.0.0.3");
    // Within a second the change is honoured: the other client is refused.
    let refused = eventually(
        Duration::from_millis(1200),
        "the proxy to refuse a client not listed",
        || async {
            let response = send(other.get(&contacts).header("X-API-Key", &guarded.key)).await;
            (response.status != StatusCode::OK).then_some(response)
        },
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "{name}: {}",
        refused.body
    );
    assert_says(refusals, &refused, "may not be used from 127.0.0.3", name);
    let seen_before = upstream.seen().len();
    let spoofed = send(
        other
            .get(&contacts)
            .header("X-API-Key", &guarded.key)
            .header("X-Forwarded-For", "127.0.0.2")
            .header("X-Real-IP", "127.0.0.2"),
    )
    .await;
    assert_eq!(
        spoofed.status,
        StatusCode::FORBIDDEN,
        "{name}: a client chose the address keyward judged: {}",
        spoofed.body
    );
    assert_eq!(
        upstream.seen().len(),
        seen_before,
        "{name}: the API saw a refused request"
    );
    let passed = send(listed.get(&contacts).header("X-API-Key", &guarded.key)).await;
    assert_eq!(passed.status, StatusCode::OK, "{name}: {}", passed.body);
    expect(
        &api.patch(&path, &json!({"allowed_ips": []})).await,
        StatusCode::OK,
    );
}
