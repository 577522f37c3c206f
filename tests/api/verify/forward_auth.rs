//! Forward-auth, `GET /api/v1/auth`, asked as nginx asks: an allowed request
//! passes with who it is, the key is found in every documented place,
//! refusals are 401 or 403 without naming the app, and CORS preflights pass
//! without a key.

use keyward::apps::domain::ApiKey;

use super::{assert_passes, error_message, forward_auth, setup, with_altered_checksum};
use crate::harness::StatusCode;

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
