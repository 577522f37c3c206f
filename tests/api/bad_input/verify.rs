//! Bad input to `POST /api/v1/verify`: any JSON, bytes that are not JSON or
//! not UTF-8 under every content type, and bodies over the limit, with or
//! without a declared length.

use proptest::prelude::*;
use serde_json::json;

use super::{CASES, assert_no_server_error, draw, text};
use crate::harness::{StatusCode, TestApp, TestResponse, api_client};

/// Any JSON at all, nested a little.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("key".to_owned()),
                    Just("service".to_owned()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A verify body: the four fields with hostile values, or any JSON.
fn verify_body(key: String) -> impl Strategy<Value = serde_json::Value> {
    let field = move || {
        prop_oneof![
            2 => text().prop_map(serde_json::Value::from),
            1 => json_value(),
        ]
    };
    let keyish = prop_oneof![
        Just(serde_json::Value::from(key)),
        "kw_[0-9A-Za-z]{49}".prop_map(serde_json::Value::from),
        field(),
    ];
    prop_oneof![
        3 => (
            keyish,
            proptest::option::of(prop_oneof![Just("db".into()), field()]),
            proptest::option::of(field()),
            proptest::option::of(prop_oneof![Just("GET".into()), field()]),
        )
            .prop_map(|(key, service, component, verb)| {
                let mut body = json!({ "key": key });
                for (name, value) in [("service", service), ("component", component), ("verb", verb)] {
                    if let Some(value) = value {
                        body[name] = value;
                    }
                }
                body
            }),
        1 => json_value(),
    ]
}

storage_test!(verify_json_bodies, |app| async move {
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    let (_, key) = app.create_key("Client", Some(role)).await;
    let client = api_client();
    let url = app.url("/api/v1/verify");
    let check = |response: TestResponse, case: &dyn std::fmt::Debug| {
        assert_no_server_error(&response, case);
        let json: serde_json::Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}) for {case:?}: {}", response.body));
        if response.status == StatusCode::OK {
            assert!(json["valid"].is_boolean(), "{json}");
        } else {
            assert!(response.status.is_client_error(), "{case:?}");
            assert_eq!(json["error"]["code"], response.status.as_u16(), "{json}");
            assert!(json["error"]["message"].is_string(), "{json}");
        }
    };
    for body in draw(verify_body(key.clone()), CASES * 2) {
        let response = client
            .post(&url)
            .json(&body)
            .send()
            .await
            .expect("request failed");
        check(TestResponse::read(response).await, &body);
    }
    // Bytes that are not JSON, or not UTF-8, under every content type.
    let raw = draw(
        (
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                "\\{\"key\": *\"[^\"]{0,60}\"?".prop_map(String::into_bytes),
            ],
            prop_oneof![
                Just("application/json"),
                Just("application/json; charset=latin1"),
                Just("text/plain"),
                Just("application/x-www-form-urlencoded"),
                Just("multipart/form-data; boundary=x"),
                Just(""),
            ],
        ),
        CASES,
    );
    for (bytes, content_type) in raw {
        let mut request = client.post(&url).body(bytes.clone());
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let response = TestResponse::read(request.send().await.expect("request failed")).await;
        check(response, &(String::from_utf8_lossy(&bytes), content_type));
    }
    // Over the 64 KiB limit: refused as too large, with or without a length.
    let huge = json!({ "key": "k".repeat(70 * 1024) });
    let response = client
        .post(&url)
        .json(&huge)
        .send()
        .await
        .expect("request failed");
    let response = TestResponse::read(response).await;
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.body
    );
    // Chunked, so no length is declared up front.
    let status = chunked_post(&app, "/api/v1/verify", 70 * 1024).await;
    assert!(status.starts_with("HTTP/1.1 413"), "{status}");
});

/// Posts `size` bytes of JSON-ish filler in chunks over a raw connection;
/// returns the status line.
async fn chunked_post(app: &TestApp, path: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("cannot connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
    for _ in 0..size / 1024 {
        // keyward may answer and close before reading it all.
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
