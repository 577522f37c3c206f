//! Bad input to the administrators' forms: creating an administrator,
//! changing one's password, signing in, and the one-time setup page.

use diesel::prelude::*;
use keyward::schema::admins;

use super::{
    CASES, Fields, SLOW_CASES, assert_escaped, assert_no_server_error, conn, draw, field, markup,
    one_of, post, submission, value,
};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode};

each_backend!(admin_and_password_forms, |db| async move {
    // Wrong current passwords lock the account as failed sign-ins do; the
    // test moves this clock past the lock before it signs in again.
    let clock = std::sync::Arc::new(keyward::clock::ManualClock::default());
    let shared = clock.clone();
    let app = crate::harness::TestApp::start(db, move |settings| settings.clock = shared).await;
    app.login_as_default_admin().await;
    let admin_rows = || -> Vec<(i32, String, String, String)> {
        admins::table
            .select((
                admins::id,
                admins::email,
                admins::name,
                admins::password_hash,
            ))
            .order(admins::id.asc())
            .load(&mut *conn(&app))
            .expect("cannot read admins")
    };
    // The two passwords mostly agree, so some forms get past that rule.
    let form = submission(vec![
        ("email", one_of(&["ada@example.com", "<b>@x.y", "a@b"])),
        ("name", field()),
        ("password", one_of(&["a long enough password"])),
        ("password_confirm", one_of(&["a long enough password"])),
    ]);
    let mut accepted = Vec::new();
    for (n, mut fields) in draw(form, SLOW_CASES).into_iter().enumerate() {
        // A fresh email each time, so only the rules refuse.
        for (k, v) in fields.iter_mut() {
            if k == "email" && v.contains('@') {
                *v = format!("{n}{v}");
            }
        }
        let before = admin_rows();
        let response = post(&app, "/admins", &fields).await;
        assert_no_server_error(&response, &fields);
        let after = admin_rows();
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        assert_eq!(after.len(), before.len() + 1, "{fields:?}");
        let row = after.last().unwrap();
        assert_eq!(row.1, value(&fields, "email").trim().to_lowercase());
        assert_eq!(row.2, value(&fields, "name").trim());
        assert!(!row.3.contains(value(&fields, "password")));
        accepted.extend([row.1.clone(), row.2.clone()]);
    }
    assert!(!accepted.is_empty(), "no administrator was accepted");
    let list = app.get("/admins").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_escaped(&list, &accepted);

    // Change password: the current one is wrong, or right with anything new.
    let form = submission(vec![
        ("current_password", one_of(&[ADMIN_PASSWORD])),
        ("new_password", one_of(&["a brand new password"])),
        ("new_password_confirm", one_of(&["a brand new password"])),
    ]);
    let mut password = ADMIN_PASSWORD.to_owned();
    for fields in draw(form, SLOW_CASES) {
        let fields: Fields = fields
            .into_iter()
            .map(|(k, v)| {
                let v = if v == ADMIN_PASSWORD {
                    password.clone()
                } else {
                    v
                };
                (k, v)
            })
            .collect();
        let before = admin_rows();
        let response = post(&app, "/account/password", &fields).await;
        assert_no_server_error(&response, &fields);
        let after = admin_rows();
        if response.status != StatusCode::SEE_OTHER {
            assert_eq!(before, after, "{fields:?}");
            continue;
        }
        assert_eq!(value(&fields, "current_password"), password);
        password = value(&fields, "new_password").to_owned();
        assert_ne!(before[0].3, after[0].3, "the hash changed");
        // The session was renewed with a new CSRF token, as the next page shows.
        app.forget_csrf_token();
        assert!(app.is_signed_in().await, "still signed in after a change");
    }
    // Whatever happened, the password keyward holds is the last accepted one.
    app.logout().await.assert_redirects_to("/login");
    clock.advance(keyward::admins::domain::throttle::WINDOW);
    let response = app.login(ADMIN_EMAIL, &password).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
});

storage_test!(login_form, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    let form = submission(vec![
        ("email", one_of(&[ADMIN_EMAIL, " ADMIN@example.com "])),
        ("password", one_of(&[ADMIN_PASSWORD])),
        (
            "next",
            one_of(&["/roles", "//evil.example", "https://evil.example", "/\\x"]),
        ),
    ]);
    for fields in draw(form, CASES) {
        let response = post(&app, "/login", &fields).await;
        assert_no_server_error(&response, &fields);
        match response.status {
            StatusCode::SEE_OTHER => {
                assert_eq!(value(&fields, "password"), ADMIN_PASSWORD, "{fields:?}");
                let location = response.header("location");
                assert!(
                    location.starts_with('/') && !location.starts_with("//"),
                    "{location} for {fields:?}"
                );
                assert!(!location.contains('\\'), "{location}");
                app.logout().await;
            }
            StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS => {
                assert!(!app.is_signed_in().await);
                assert!(
                    !markup(value(&fields, "email"))
                        || !response.body.contains(value(&fields, "email"))
                );
            }
            status => assert!(status.is_client_error(), "{status} for {fields:?}"),
        }
        // The password is never shown back (the email, which is, may hold it).
        let password = value(&fields, "password");
        if password.chars().count() >= 6 && !value(&fields, "email").contains(password) {
            assert!(!response.body.contains(password), "{fields:?}");
        }
    }
});

storage_test!(setup_form, |app| async move {
    let token = app.setup_token();
    let form = submission(vec![
        ("token", one_of(&["not-the-token", ""])),
        ("email", one_of(&["first@example.com"])),
        ("name", field()),
        ("password", one_of(&["a long enough password"])),
        ("password_confirm", one_of(&["a long enough password"])),
    ]);
    for fields in draw(form, SLOW_CASES) {
        let response = post(&app, "/setup", &fields).await;
        assert_no_server_error(&response, &fields);
        assert!(!app.admin_exists(), "setup without the token: {fields:?}");
        assert_ne!(response.status, StatusCode::SEE_OTHER, "{fields:?}");
    }
    // With the real token the same hostile fields are judged by the rules.
    let form = submission(vec![
        ("email", one_of(&["first@example.com"])),
        ("name", field()),
        ("password", one_of(&["a long enough password"])),
        ("password_confirm", one_of(&["a long enough password"])),
    ]);
    for mut fields in draw(form, SLOW_CASES) {
        fields.push(("token".into(), token.clone()));
        let response = post(&app, "/setup", &fields).await;
        assert_no_server_error(&response, &fields);
        if response.status == StatusCode::SEE_OTHER {
            let mut conn = conn(&app);
            let (email, name): (String, String) = admins::table
                .select((admins::email, admins::name))
                .first(&mut *conn)
                .unwrap();
            assert_eq!(email, value(&fields, "email").trim().to_lowercase());
            assert_eq!(name, value(&fields, "name").trim());
            break;
        }
        assert!(!app.admin_exists(), "{fields:?}");
    }
    assert!(app.admin_exists(), "no setup form was accepted");
});

// Found by `setup_form` on PostgreSQL (a NUL in the name was a 500): the
// setup page names the same rules as the Admins page.
storage_test!(
    the_setup_name_follows_the_admin_name_rules,
    |app| async move {
        let token = app.setup_token();
        let response = app
            .post_form(
                "/setup",
                &[
                    ("token", token.as_str()),
                    ("email", "first@example.com"),
                    ("name", "a\u{0}b"),
                    ("password", "a long enough password"),
                    ("password_confirm", "a long enough password"),
                ],
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            response.body
        );
        assert!(
            response
                .body
                .contains("Name cannot contain control characters")
        );
        assert_eq!(
            response.input_value("email").as_deref(),
            Some("first@example.com")
        );
        assert!(!app.admin_exists());
    }
);
