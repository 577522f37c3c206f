//! Signing in for a DreamFactory session, reading it and signing out, on
//! SQLite and PostgreSQL: DreamFactory's session object and its error
//! answers word for word; the token stored only as a hash; signing out,
//! expiry and a deactivated administrator stopping it at once; the console's
//! sign-in throttle counting these sign-ins; admin API tokens taken too (a
//! read-only one only for reads); a session cookie never.

use std::sync::Arc;

use chrono::TimeDelta;
use diesel::prelude::*;
use keyward::clock::ManualClock;
use serde_json::json;

use super::{Df, app_names, expect, expect_error, sign_in};
use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestDb, TestResponse, api_client,
};

const SESSION: &str = "/api/v2/system/admin/session";

async fn post_session(app: &TestApp, body: &str) -> TestResponse {
    TestResponse::read(
        api_client()
            .post(app.url(SESSION))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn stored_hashes(app: &TestApp) -> Vec<(String, String)> {
    use keyward::schema::api_sessions;
    let mut conn = app.pool.get().unwrap();
    api_sessions::table
        .select((api_sessions::token_hash, api_sessions::token_prefix))
        .load(&mut *conn)
        .unwrap()
}

storage_test!(signing_in_reading_and_signing_out, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let answer = post_session(
        &app,
        &json!({"email": " Admin@Example.com ", "password": ADMIN_PASSWORD, "remember_me": false})
            .to_string(),
    )
    .await;
    let session = expect(&answer, StatusCode::OK);
    let token = session["session_token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("kws_") && token.len() == 53, "{token}");
    for key in [
        "session_id",
        "id",
        "name",
        "first_name",
        "last_name",
        "email",
        "is_sys_admin",
        "last_login_date",
        "host",
        "token_expiry_date",
    ] {
        assert!(session.get(key).is_some(), "no {key} in {session}");
    }
    assert_eq!(session["email"], ADMIN_EMAIL);
    assert_eq!(session["is_sys_admin"], true);
    let expiry = chrono::NaiveDateTime::parse_from_str(
        session["token_expiry_date"].as_str().unwrap(),
        "%Y-%m-%d %H:%M:%S",
    )
    .unwrap();
    let hours = (expiry - chrono::Utc::now().naive_utc()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.1).contains(&hours), "{hours}");

    // Only its hash is stored.
    let stored = stored_hashes(&app);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, hex_sha256(&token));
    assert!(token.starts_with(&stored[0].1) && stored[0].1.len() < 20);

    // The session reads back, in either header, without its token.
    let df = Df::new(&app.address, &token);
    let read = expect(&df.get("/admin/session").await, StatusCode::OK);
    assert_eq!(read["email"], ADMIN_EMAIL);
    assert!(read.get("session_token").is_none(), "{read}");
    let bearer = TestResponse::read(
        api_client()
            .get(app.url(SESSION))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(expect(&bearer, StatusCode::OK)["id"], session["id"]);
    expect(&df.get("/app").await, StatusCode::OK);

    // Signing out ends it at once.
    assert_eq!(
        expect(&df.delete("/admin/session").await, StatusCode::OK),
        json!({"success": true})
    );
    let (message, _) = expect_error(&df.get("/admin/session").await, StatusCode::NOT_FOUND);
    assert_eq!(message, "No user session found.");
    let (message, _) = expect_error(&df.get("/app").await, StatusCode::UNAUTHORIZED);
    assert!(message.contains("sign in again"), "{message}");
    assert!(stored_hashes(&app).is_empty());
});

fn hex_sha256(text: &str) -> String {
    keyward::secret::Secret::parse("kws_", text).unwrap().hash()
}

storage_test!(sign_in_refusals_in_dreamfactorys_words, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let cases = [
        (
            json!({"email": ADMIN_EMAIL, "password": "wrong password!"}).to_string(),
            StatusCode::UNAUTHORIZED,
            "Invalid credentials supplied.",
        ),
        (
            json!({"email": "nobody@example.com", "password": ADMIN_PASSWORD}).to_string(),
            StatusCode::UNAUTHORIZED,
            "Invalid credentials supplied.",
        ),
        (
            json!({"password": ADMIN_PASSWORD}).to_string(),
            StatusCode::BAD_REQUEST,
            "Login request is missing required email.",
        ),
        (
            json!({"email": "  ", "password": ADMIN_PASSWORD}).to_string(),
            StatusCode::BAD_REQUEST,
            "Login request is missing required email.",
        ),
        (
            "not json".to_owned(),
            StatusCode::BAD_REQUEST,
            "Login request is missing required email.",
        ),
        (
            json!({"email": ADMIN_EMAIL}).to_string(),
            StatusCode::BAD_REQUEST,
            "Login request is missing required password.",
        ),
    ];
    for (body, status, said) in cases {
        let (message, context) = expect_error(&post_session(&app, &body).await, status);
        assert_eq!(message, said, "{body}");
        assert_eq!(context, serde_json::Value::Null);
    }
    assert!(stored_hashes(&app).is_empty());

    // Nothing signed in: no session, and no way in.
    let client = api_client();
    let answer = TestResponse::read(client.get(app.url(SESSION)).send().await.unwrap()).await;
    assert_eq!(
        expect_error(&answer, StatusCode::NOT_FOUND).0,
        "No user session found."
    );
    let answer = TestResponse::read(
        client
            .get(app.url("/api/v2/system/app"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        expect_error(&answer, StatusCode::UNAUTHORIZED)
            .0
            .contains("no valid session")
    );
    for token in ["kws_short", "nonsense", &"kws_".repeat(13)] {
        let answer = Df::new(&app.address, token).get("/app").await;
        expect_error(&answer, StatusCode::UNAUTHORIZED);
    }
    // An app's API key in X-DreamFactory-API-Key opens nothing.
    let key = keyward::apps::domain::ApiKey::generate()
        .expose()
        .to_owned();
    let answer = TestResponse::read(
        client
            .get(app.url("/api/v2/system/app"))
            .header("X-DreamFactory-API-Key", &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    expect_error(&answer, StatusCode::UNAUTHORIZED);
    let df = Df::for_app(&app).await;
    let (message, _) = expect_error(&df.get("/nothing/here").await, StatusCode::NOT_FOUND);
    assert!(message.contains("no resource"), "{message}");
});

storage_test!(
    the_consoles_throttle_counts_these_sign_ins,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        for _ in 0..5 {
            let body = json!({"email": ADMIN_EMAIL, "password": "a wrong password"}).to_string();
            expect_error(&post_session(&app, &body).await, StatusCode::UNAUTHORIZED);
        }
        let right = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).to_string();
        let refused = post_session(&app, &right).await;
        let (message, _) = expect_error(&refused, StatusCode::TOO_MANY_REQUESTS);
        assert!(message.contains("Too many"), "{message}");
        assert!(refused.header("retry-after").parse::<u32>().unwrap() >= 1);
        // The console's form is locked out by the same count.
        assert_eq!(
            app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
);

storage_test!(
    a_deactivated_administrators_session_stops_at_once,
    |app| async move {
        app.login_as_default_admin().await;
        let other = app.create_admin("other@example.com", "another good password");
        let theirs = sign_in(&app.address, "other@example.com", "another good password").await;
        expect(&theirs.get("/app").await, StatusCode::OK);
        let peer = app.start_peer().await;
        let on_peer = Df::new(&peer.address, &theirs.token);
        expect(&on_peer.get("/app").await, StatusCode::OK);

        let answer = app
            .post_form(&format!("/admins/{other}/active"), &[("active", "false")])
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        expect_error(&theirs.get("/app").await, StatusCode::UNAUTHORIZED);
        expect_error(&on_peer.get("/app").await, StatusCode::UNAUTHORIZED);
        expect_error(&theirs.get("/admin/session").await, StatusCode::NOT_FOUND);
        // Nor can they sign in again.
        let body = json!({"email": "other@example.com", "password": "another good password"});
        let answer = TestResponse::read(
            api_client()
                .post(app.url(SESSION))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        expect_error(&answer, StatusCode::UNAUTHORIZED);
    }
);

storage_test!(
    a_password_change_ends_the_administrators_sessions_here_too,
    |app| async move {
        app.login_as_default_admin().await;
        let script = sign_in(&app.address, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        expect(&script.get("/app").await, StatusCode::OK);
        let new_password = "a brand new password";
        let changed = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", new_password),
                    ("new_password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
        expect_error(&script.get("/app").await, StatusCode::UNAUTHORIZED);
        let again = sign_in(&app.address, ADMIN_EMAIL, new_password).await;
        expect(&again.get("/app").await, StatusCode::OK);
    }
);

each_backend!(a_session_expires_after_a_day, |db| async move {
    expires(db).await
});

async fn expires(db: TestDb) {
    let clock = Arc::new(ManualClock::default());
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| settings.clock = shared).await;
    let df = Df::for_app(&app).await;
    clock.advance(TimeDelta::hours(23));
    expect(&df.get("/app").await, StatusCode::OK);
    clock.advance(TimeDelta::hours(1));
    expect_error(&df.get("/app").await, StatusCode::UNAUTHORIZED);
    expect_error(&df.get("/admin/session").await, StatusCode::NOT_FOUND);
}

storage_test!(
    admin_api_tokens_work_here_a_cookie_does_not,
    |app| async move {
        app.login_as_default_admin().await;
        let (_, write) = app.create_token("dreamfactory write", "write").await;
        let (_, read) = app.create_token("dreamfactory read", "read").await;
        // A read-write token, in either header.
        let by_header = Df::new(&app.address, &write);
        expect(
            &by_header
                .post("/app", &json!({"resource": [{"name": "by token"}]}))
                .await,
            StatusCode::CREATED,
        );
        let bearer = TestResponse::read(
            api_client()
                .get(app.url("/api/v2/system/app"))
                .bearer_auth(&write)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            expect(&bearer, StatusCode::OK)["resource"][0]["name"],
            "by token"
        );

        // A read-only token reads, and changes nothing, however the verb is sent.
        let reader = Df::new(&app.address, &read);
        expect(&reader.get("/app").await, StatusCode::OK);
        expect(
            &reader.tunnel("GET", "/app", &json!({})).await,
            StatusCode::OK,
        );
        for answer in [
            reader
                .post("/app", &json!({"resource": [{"name": "nope"}]}))
                .await,
            reader.patch("/app?ids=1", &json!({"name": "nope"})).await,
            reader.delete("/app?ids=1").await,
            reader.tunnel("DELETE", "/app?ids=1", &json!({})).await,
            reader
                .post("/role", &json!({"resource": [{"name": "nope"}]}))
                .await,
        ] {
            let (message, _) = expect_error(&answer, StatusCode::FORBIDDEN);
            assert!(message.contains("read-only"), "{message}");
        }
        assert_eq!(app_names(&app), ["by token"]);

        // The signed-in browser's cookie opens nothing here.
        assert!(app.is_signed_in().await);
        expect_error(
            &app.get("/api/v2/system/app").await,
            StatusCode::UNAUTHORIZED,
        );
        let token = app.csrf_token().await;
        let answer = app
            .send(
                app.client
                    .post(app.url("/api/v2/system/app"))
                    .header("x-csrf-token", &token)
                    .json(&json!({"resource": [{"name": "via cookie"}]})),
            )
            .await;
        expect_error(&answer, StatusCode::UNAUTHORIZED);
        // And a session token is no token for /api/v1.
        let df = Df::for_app(&app).await;
        let answer = TestResponse::read(
            api_client()
                .get(app.url("/api/v1/apps"))
                .bearer_auth(&df.token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(app_names(&app), ["by token"]);
    }
);
