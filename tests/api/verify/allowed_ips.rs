//! A key's allowed addresses, end to end on both backends: set on the
//! Edit Application page (a bad entry is refused next to its field with the
//! rest kept) and through the management API, then judged by
//! `POST /api/v1/verify` (its `ip` field, else the caller) and by forward-auth
//! (the address a trusted proxy reports, never one a client made up).

use serde_json::{Value, json};

use super::{FRESH, code, contacts_get, error_message, forward_auth, setup};
use crate::harness::{
    StatusCode, TestApp, TestDb, TestResponse, api_client, eventually, field_error, textarea_value,
    verify_at,
};
use crate::management::{Api, expect, expect_error};

async fn verify(app: &TestApp, body: &Value) -> Value {
    verify_at(&api_client(), &app.address, body).await
}

/// `POST /api/v1/verify` whatever it answers.
async fn verify_response(app: &TestApp, body: &Value) -> TestResponse {
    let response = api_client()
        .post(app.url("/api/v1/verify"))
        .json(body)
        .send()
        .await
        .expect("request failed");
    TestResponse::read(response).await
}

/// Waits (at most [`FRESH`]) until `body` is answered with `expected`.
async fn answered(app: &TestApp, body: &Value, expected: &str) {
    eventually(FRESH, &format!("the answer {expected}"), || async {
        (code(&verify(app, body).await) == expected).then_some(())
    })
    .await
}

fn contacts_get_from(key: &str, ip: &str) -> Value {
    let mut body = contacts_get(key);
    body["ip"] = json!(ip);
    body
}

/// Saves the Edit Application form of "Mobile app" with these allowed addresses.
async fn save_allowed(app: &TestApp, app_id: i32, role: i32, allowed: &str) -> TestResponse {
    let role = role.to_string();
    app.post_form(
        &format!("/api-keys/{app_id}"),
        &[
            ("name", "Mobile app"),
            ("description", "the phone app"),
            ("is_active", "true"),
            ("location", "0"),
            ("role_id", &role),
            ("allowed_ips", allowed),
        ],
    )
    .await
}

storage_test!(
    a_key_with_allowed_addresses_is_refused_from_anywhere_else,
    |app| async move {
        let s = setup(&app).await;
        let saved = save_allowed(&app, s.app_id, s.role, "10.0.0.0/8\n2001:db8::/32").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = app.get(&format!("/api-keys/{}", s.app_id)).await;
        assert_eq!(
            textarea_value(&page, "allowed_ips").as_deref(),
            Some("10.0.0.0/8\n2001:db8::/32"),
            "the edit page shows the list as saved"
        );
        answered(
            &app,
            &contacts_get_from(&s.key, "203.0.113.9"),
            "IP_NOT_ALLOWED",
        )
        .await;
        for (ip, expected) in [
            ("10.20.30.40", "VALID"),
            ("2001:db8:1::5", "VALID"),
            ("::ffff:10.1.1.1", "VALID"),
            ("203.0.113.9", "IP_NOT_ALLOWED"),
            ("2001:db9::1", "IP_NOT_ALLOWED"),
        ] {
            let answer = verify(&app, &contacts_get_from(&s.key, ip)).await;
            assert_eq!(code(&answer), expected, "{ip}: {answer}");
            if expected == "IP_NOT_ALLOWED" {
                assert_eq!(answer["valid"], json!(false), "{answer}");
                assert!(
                    answer["message"].as_str().unwrap().contains(ip),
                    "the message names the address: {answer}"
                );
            }
        }
        // Without `ip` the caller's own address is judged: this test, 127.0.0.1.
        let answer = verify(&app, &contacts_get(&s.key)).await;
        assert_eq!(code(&answer), "IP_NOT_ALLOWED", "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("127.0.0.1"),
            "{answer}"
        );
        let response = verify_response(&app, &contacts_get_from(&s.key, "10.0.0.300")).await;
        let message = error_message(&response, StatusCode::BAD_REQUEST);
        assert!(
            message.contains("ip must be an IPv4 or IPv6 address"),
            "{message}"
        );

        // Forward-auth without a trusted proxy judges the TCP peer (the proxy),
        // whatever X-Forwarded-For a client wrote.
        let response = forward_auth(
            &app,
            "GET",
            "/api/v2/db/_table/contacts",
            &[("X-API-Key", &s.key), ("X-Forwarded-For", "10.1.2.3")],
        )
        .await;
        let message = error_message(&response, StatusCode::FORBIDDEN);
        assert!(
            message.contains("may not be used from 127.0.0.1"),
            "{message}"
        );

        // Emptied: from anywhere again.
        let saved = save_allowed(&app, s.app_id, s.role, "").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        answered(&app, &contacts_get(&s.key), "VALID").await;
    }
);

storage_test!(
    a_bad_allowed_address_is_refused_next_to_its_field_and_nothing_is_saved,
    |app| async move {
        let s = setup(&app).await;
        for (typed, says) in [
            (
                "10.0.0.0/8\nexample.com",
                "“example.com” is not an IP address or a CIDR range",
            ),
            ("10.0.0.1/8", "did you mean 10.0.0.0/8?"),
        ] {
            let page = save_allowed(&app, s.app_id, s.role, typed).await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                page.body
            );
            let error = field_error(&page, "allowed_ips").expect("no error next to the field");
            assert!(error.contains(says), "{typed}: {error}");
            // What was typed is shown again, the other fields too.
            assert_eq!(textarea_value(&page, "allowed_ips").as_deref(), Some(typed));
            assert_eq!(
                textarea_value(&page, "description").as_deref(),
                Some("the phone app")
            );
        }
        let stored = app.stored_app(s.app_id);
        assert_eq!(stored.description, "", "a refused save changed nothing");
        let answer = verify(&app, &contacts_get(&s.key)).await;
        assert_eq!(code(&answer), "VALID", "{answer}");
    }
);

storage_test!(
    the_management_api_sets_reads_and_clears_allowed_addresses,
    |app| async move {
        let s = setup(&app).await;
        let api = Api::for_app(&app, "write").await;
        let created = expect(
            &api.post(
                "/apps",
                &json!({"name": "Office job", "role_id": s.role,
                        "allowed_ips": ["192.0.2.0/24", "2001:db8::7"]}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(
            created["allowed_ips"],
            json!(["192.0.2.0/24", "2001:db8::7"])
        );
        let key = created["key"].as_str().unwrap().to_owned();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(
            code(&verify(&app, &contacts_get_from(&key, "192.0.2.200")).await),
            "VALID"
        );
        assert_eq!(
            code(&verify(&app, &contacts_get_from(&key, "2001:db8::8")).await),
            "IP_NOT_ALLOWED"
        );

        for (list, field_says) in [
            (
                json!(["10.0.0.0/8", "nonsense"]),
                "“nonsense” is not an IP address",
            ),
            (json!(["10.0.0.1, 10.0.0.2"]), "its own element"),
        ] {
            let (context, _) = expect_error(
                &api.patch(&format!("/apps/{id}"), &json!({"allowed_ips": list}))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            let says = context["allowed_ips"][0].as_str().unwrap_or_default();
            assert!(says.contains(field_says), "{context}");
        }
        let unchanged = expect(&api.get(&format!("/apps/{id}")).await, StatusCode::OK);
        assert_eq!(
            unchanged["allowed_ips"],
            json!(["192.0.2.0/24", "2001:db8::7"])
        );

        let cleared = expect(
            &api.patch(&format!("/apps/{id}"), &json!({"allowed_ips": []}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(cleared["allowed_ips"], json!([]));
        answered(&app, &contacts_get_from(&key, "2001:db8::8"), "VALID").await;

        // The audit log says what changed, in the page's words.
        let events = expect(
            &api.get(&format!("/audit-events?object=app&id={id}")).await,
            StatusCode::OK,
        );
        assert!(
            events.to_string().contains("Allowed addresses"),
            "no audit event names the allowed addresses: {events}"
        );
    }
);

each_backend!(
    forward_auth_judges_the_address_a_trusted_proxy_reports,
    |db| async move { judged_behind_a_trusted_proxy(db).await }
);

async fn judged_behind_a_trusted_proxy(db: TestDb) {
    let app = TestApp::start(db, |settings| {
        settings.trusted_proxies = keyward::proxy::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let s = setup(&app).await;
    let saved = save_allowed(&app, s.app_id, s.role, "10.0.0.0/8").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let ask = |forwarded: &'static str| {
        let key = s.key.clone();
        let app = &app;
        async move {
            forward_auth(
                app,
                "GET",
                "/api/v2/db/_table/contacts",
                &[("X-API-Key", &key), ("X-Forwarded-For", forwarded)],
            )
            .await
        }
    };
    eventually(FRESH, "the listed address to pass", || async {
        (ask("10.9.8.7").await.status == StatusCode::OK).then_some(())
    })
    .await;
    let refused = ask("203.0.113.9").await;
    let message = error_message(&refused, StatusCode::FORBIDDEN);
    assert!(
        message.contains("may not be used from 203.0.113.9"),
        "{message}"
    );
    // The proxy appends the address it saw: what the client wrote to its left
    // is not believed.
    let refused = ask("10.1.1.1, 203.0.113.9").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}
