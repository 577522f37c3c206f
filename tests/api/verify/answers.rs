//! `POST /api/v1/verify`, every code: a valid key names its app and role,
//! and each way a key or a request can fail has its own answer; bad requests
//! are 400s in DreamFactory's shape.

use keyward::apps::domain::ApiKey;
use serde_json::{Value, json};

use super::{FRESH, code, error_message, named, setup, with_altered_checksum};
use crate::harness::{StatusCode, TestResponse, api_client, eventually};

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
