//! Admin API tokens, on SQLite and PostgreSQL: the token wall (no token, a
//! malformed one, an unknown one, an app's key, a session cookie: 401), the
//! tokens page (created and shown once, validation with the input kept,
//! last use, revoking), revoked and expired tokens refused, on a second
//! instance too, within a second; only a hash stored; audited.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use keyward::clock::ManualClock;
use serde_json::json;

use super::{Api, expect, expect_error};
use crate::harness::{
    StatusCode, TestApp, TestDb, chosen_option, eventually, field_error, is_checked, table_rows,
};

storage_test!(
    the_wall_refuses_anything_but_a_live_token,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let client = crate::harness::api_client();
        let url = app.url("/api/v1/apps");
        let (_, key) = app.create_key("an app", None).await;
        let unknown = keyward::admins::domain::token::AdminToken::generate();
        // The token with its last character changed: its checksum fails.
        let last = if api.token.ends_with('x') { 'y' } else { 'x' };
        let altered = format!("{}{last}", &api.token[..52]);
        let cases: Vec<(Option<String>, &str)> = vec![
            (None, "Authorization: Bearer kwa_"),
            (
                Some("Basic dXNlcjpwYXNz".into()),
                "Authorization: Bearer kwa_",
            ),
            (Some("Bearer".into()), "Authorization: Bearer kwa_"),
            (Some("Bearer kwa_short".into()), "malformed"),
            (Some(format!("Bearer {altered}")), "malformed"),
            (Some(format!("Bearer {key}")), "app's API key"),
            (Some(format!("Bearer {}", unknown.expose())), "not known"),
        ];
        for (authorization, says) in cases {
            let mut request = client.get(&url);
            if let Some(value) = &authorization {
                request = request.header("authorization", value);
            }
            let answer = crate::harness::TestResponse::read(request.send().await.unwrap()).await;
            let (_, message) = expect_error(&answer, StatusCode::UNAUTHORIZED);
            assert!(message.contains(says), "{authorization:?}: {message}");
            assert!(
                answer.headers.contains_key("www-authenticate"),
                "{authorization:?}"
            );
            assert!(!answer.body.contains(&altered) && !answer.body.contains(&key));
        }
        // The key in the places verification reads it is not a token either.
        let answer = crate::harness::TestResponse::read(
            client
                .get(&url)
                .header("x-api-key", &key)
                .send()
                .await
                .unwrap(),
        )
        .await;
        expect_error(&answer, StatusCode::UNAUTHORIZED);

        // A signed-in browser's session cookie opens nothing here, read or write.
        assert!(app.is_signed_in().await);
        let with_cookie = app.get("/api/v1/apps").await;
        expect_error(&with_cookie, StatusCode::UNAUTHORIZED);
        let token = app.csrf_token().await;
        let write = app
            .send(
                app.client
                    .post(&url)
                    .header("x-csrf-token", &token)
                    .json(&json!({"name": "via cookie", "csrf_token": token})),
            )
            .await;
        expect_error(&write, StatusCode::UNAUTHORIZED);
        assert!(
            !expect(&api.get("/apps").await, StatusCode::OK)
                .to_string()
                .contains("via cookie"),
            "a session cookie created an app"
        );
    }
);

fn stored_tokens(app: &TestApp) -> Vec<(String, String, Option<chrono::NaiveDateTime>)> {
    use keyward::schema::admin_tokens;
    let mut conn = app.pool.get().unwrap();
    admin_tokens::table
        .order(admin_tokens::id.asc())
        .select((
            admin_tokens::token_hash,
            admin_tokens::token_prefix,
            admin_tokens::last_used_at,
        ))
        .load(&mut *conn)
        .unwrap()
}

storage_test!(
    the_tokens_page_shows_a_token_once_and_keeps_only_its_hash,
    |app| async move {
        app.login_as_default_admin().await;
        let empty = app.get("/admins/tokens").await;
        assert_eq!(empty.status, StatusCode::OK);
        assert!(empty.body.contains("No API tokens yet"), "{}", empty.body);
        let admins = app.get("/admins").await;
        assert!(
            admins.body.contains("href=\"/admins/tokens\""),
            "the Admins page links the tokens"
        );

        let form = app.get("/admins/tokens/new").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(
            is_checked(&form, "scope-write"),
            "read-write is the default"
        );
        assert_eq!(chosen_option(&form, "expires_days"), "90");

        // A bad form keeps what was typed and chosen.
        let refused = app
            .post_form(
                "/admins/tokens",
                &[("name", ""), ("scope", "read"), ("expires_days", "30")],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(
            field_error(&refused, "name").as_deref(),
            Some("Token name required")
        );
        assert!(is_checked(&refused, "scope-read"));
        assert_eq!(chosen_option(&refused, "expires_days"), "30");
        let refused = app
            .post_form(
                "/admins/tokens",
                &[("name", "CI"), ("scope", "root"), ("expires_days", "5000")],
            )
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            field_error(&refused, "scope").is_some()
                && field_error(&refused, "expires_days").is_some()
        );
        assert_eq!(refused.input_value("name").as_deref(), Some("CI"));
        assert!(
            stored_tokens(&app).is_empty(),
            "a refused form stored a token"
        );

        let (id, token) = app.create_token("CI deploys", "read").await;
        assert!(token.starts_with("kwa_") && token.len() == 53, "{token}");
        let again = app.get(&format!("/admins/tokens/{id}/token")).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(!again.body.contains(&token), "the token was shown twice");
        assert!(again.body.contains("was shown once"), "{}", again.body);

        // Only its hash and start are stored.
        let stored = stored_tokens(&app);
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].0, token);
        assert!(!stored[0].0.contains(&token[10..]));
        assert_eq!(stored[0].1, token[..10]);
        assert!(stored[0].2.is_none());

        // A second live token may not share the name.
        let taken = app
            .post_form(
                "/admins/tokens",
                &[
                    ("name", "CI deploys"),
                    ("scope", "write"),
                    ("expires_days", "never"),
                ],
            )
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(field_error(&taken, "name").unwrap().contains("exists"));

        // Used: the list says when, and shows the token's start only.
        let api = Api::new(&app.address, &token);
        expect(&api.get("/apps").await, StatusCode::OK);
        let list = app.get("/admins/tokens").await;
        let rows = table_rows(&list);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0][0], "CI deploys");
        assert_eq!(rows[0][2], "Read-only");
        assert_eq!(rows[0][3], format!("{}…", &token[..10]));
        assert_eq!(rows[0][4], "Never");
        assert_ne!(rows[0][5], "Never", "last use is shown: {rows:?}");
        assert!(!list.body.contains(&token[10..]));
        assert!(stored_tokens(&app)[0].2.is_some());

        // Revoked: refused, marked, and the name is free again.
        let confirm = app.get(&format!("/admins/tokens/{id}/revoke")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        let revoked = app
            .post_form(&format!("/admins/tokens/{id}/revoke"), &[])
            .await;
        revoked.assert_redirects_to("/admins/tokens");
        let (_, message) = expect_error(&api.get("/apps").await, StatusCode::UNAUTHORIZED);
        assert!(message.contains("revoked"), "{message}");
        let list = app.follow(revoked).await;
        assert!(
            list.body.contains("is revoked and works no more"),
            "{}",
            list.body
        );
        assert_eq!(table_rows(&list)[0][6], "Revoked");
        app.create_token("CI deploys", "write").await;

        // The audit log has both, and never the token.
        let audit = app.get("/audit?object=token").await;
        assert!(!audit.body.contains(&token[10..]));
        let rows = table_rows(&audit);
        let actions: Vec<bool> = ["Created", "Revoked"]
            .iter()
            .map(|action| rows.iter().any(|row| row.iter().any(|cell| cell == action)))
            .collect();
        assert_eq!(actions, [true, true], "{rows:?}");
    }
);

storage_test!(
    revoking_stops_a_token_on_every_instance_within_a_second,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let peer = app.start_peer().await;
        let on_peer = Api::new(&peer.address, &api.token);
        expect(&on_peer.get("/apps").await, StatusCode::OK);
        let id: i32 = {
            use keyward::schema::admin_tokens;
            let mut conn = app.pool.get().unwrap();
            admin_tokens::table
                .select(admin_tokens::id)
                .first(&mut *conn)
                .unwrap()
        };
        let revoked_at = std::time::Instant::now();
        app.post_form(&format!("/admins/tokens/{id}/revoke"), &[])
            .await
            .assert_redirects_to("/admins/tokens");
        for instance in [&api, &on_peer] {
            eventually(
                Duration::from_secs(1),
                "the revoked token to be refused",
                || async {
                    (instance.get("/apps").await.status == StatusCode::UNAUTHORIZED).then_some(())
                },
            )
            .await;
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(1));
        // Writes too.
        expect_error(
            &on_peer.post("/apps", &json!({"name": "late"})).await,
            StatusCode::UNAUTHORIZED,
        );
    }
);

each_backend!(an_expired_token_is_refused, |db| async move {
    expired_token_is_refused(db).await
});

async fn expired_token_is_refused(db: TestDb) {
    let clock = Arc::new(ManualClock::default());
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| {
        settings.clock = shared;
        settings.session_lifetime = Duration::from_secs(30 * 24 * 3600);
    })
    .await;
    app.login_as_default_admin().await;
    let created = app
        .post_form(
            "/admins/tokens",
            &[
                ("name", "weekly"),
                ("scope", "write"),
                ("expires_days", "7"),
            ],
        )
        .await;
    let location = created.location().to_owned();
    let token = app
        .get(&location)
        .await
        .input_value_of_id("api-token")
        .unwrap();
    let api = Api::new(&app.address, &token);
    expect(&api.get("/apps").await, StatusCode::OK);
    clock.advance(TimeDelta::days(6));
    expect(&api.get("/apps").await, StatusCode::OK);
    clock.advance(TimeDelta::days(1) + TimeDelta::seconds(1));
    let (_, message) = expect_error(&api.get("/apps").await, StatusCode::UNAUTHORIZED);
    assert!(message.contains("expired"), "{message}");
    let list = app.get("/admins/tokens").await;
    assert_eq!(table_rows(&list)[0][6], "Expired");
}
