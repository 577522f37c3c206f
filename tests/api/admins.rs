//! Administrators: the list, creating, deactivating, activating and deleting
//! them, the last active administrator's protection (also against two
//! deactivations at once), and changing one's own password, which signs out
//! one's other sessions.

use diesel::prelude::*;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Browser, StatusCode, TestApp, TestResponse, login_next,
};

const OTHER_EMAIL: &str = "grace@example.com";
const OTHER_PASSWORD: &str = "grace's long password";
const LAST_ACTIVE: &str = "keyward needs at least one active administrator.";

/// The list row of one administrator.
fn row(page: &TestResponse, id: i32) -> String {
    let start = page
        .body
        .find(&format!("<tr id=\"admin-{id}\""))
        .unwrap_or_else(|| panic!("no row for administrator {id}: {}", page.body));
    let end = start + page.body[start..].find("</tr>").expect("unclosed row");
    page.body[start..end].to_owned()
}

fn shows_active(row: &str) -> bool {
    row.contains("<span class=\"badge on\">Active</span>")
}

/// The id of the administrator with `email`.
fn admin_id(app: &TestApp, email: &str) -> Option<i32> {
    use keyward::schema::admins;
    let mut conn = app.pool.get().expect("no database connection");
    admins::table
        .filter(admins::email.eq(email))
        .select(admins::id)
        .first(&mut *conn)
        .optional()
        .expect("cannot read admins")
}

/// Session rows signed in as `admin_id`.
fn sessions_of(app: &TestApp, admin_id: i32) -> usize {
    app.session_rows()
        .into_iter()
        .filter(|(_, state)| state.get("admin_id") == Some(&serde_json::json!(admin_id)))
        .count()
}

/// Whether `browser` is still signed in.
async fn signed_in(app: &mut TestApp, browser: &mut Browser) -> bool {
    app.swap_browser(browser);
    let signed_in = app.is_signed_in().await;
    app.swap_browser(browser);
    signed_in
}

/// Signs in from a fresh browser and answers what the login form says.
async fn try_login(app: &mut TestApp, email: &str, password: &str) -> StatusCode {
    let mut browser = Browser::default();
    app.swap_browser(&mut browser);
    let status = app.login(email, password).await.status;
    app.swap_browser(&mut browser);
    status
}

async fn set_active(app: &TestApp, id: i32, active: bool) -> TestResponse {
    app.post_form(
        &format!("/admins/{id}/active"),
        &[("active", if active { "true" } else { "false" })],
    )
    .await
}

storage_test!(
    the_list_shows_administrators_and_their_last_login,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);

        let page = app.get("/admins").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("<h1>Administrators</h1>"));
        assert!(
            page.body
                .contains(r#"<a href="/admins" aria-current="page">Admins</a>"#),
            "{}",
            page.body
        );
        assert!(page.body.contains(
            r#"href="/admins/new" role="button" class="add" aria-label="Create administrator""#
        ));
        assert!(page.body.contains(r#"href="/account/password""#));

        let mine = row(&page, me);
        assert!(
            mine.contains(ADMIN_EMAIL) && mine.contains("(you)"),
            "{mine}"
        );
        assert!(shows_active(&mine));
        assert!(!mine.contains("Never"), "signed in, yet: {mine}");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert!(mine.contains(&today), "{mine}");

        let theirs = row(&page, other);
        assert!(theirs.contains(OTHER_EMAIL) && theirs.contains("Test Admin"));
        assert!(!theirs.contains("(you)"));
        assert!(theirs.contains("Never"), "{theirs}");

        // Once they sign in, the list shows when.
        let _browser = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
        let page = app.get("/admins").await;
        let theirs = row(&page, other);
        assert!(
            !theirs.contains("Never") && theirs.contains(&today),
            "{theirs}"
        );
    }
);

storage_test!(
    creating_an_administrator_checks_every_field,
    |app| async move {
        app.login_as_default_admin().await;
        let form = app.get("/admins/new").await;
        assert_eq!(form.status, StatusCode::OK);
        for label in [
            r#"<label for="email">"#,
            r#"<label for="name">"#,
            r#"<label for="password">"#,
            r#"<label for="password_confirm">"#,
        ] {
            assert!(form.body.contains(label), "{label}");
        }

        let long_name = "n".repeat(65);
        let bad = app
            .post_form(
                "/admins",
                &[
                    ("email", "ada at example"),
                    ("name", &long_name),
                    ("password", "short pw 1"),
                    ("password_confirm", "short pw 1"),
                ],
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        for message in [
            "Enter an email address like name@example.com",
            "Name must be at most 64 characters",
            "Password must be at least 12 characters",
        ] {
            assert!(bad.body.contains(message), "{message}: {}", bad.body);
        }
        assert_eq!(bad.input_value("email").as_deref(), Some("ada at example"));
        assert_eq!(bad.input_value("name"), Some(long_name));
        assert!(!bad.body.contains("short pw 1"), "a password is echoed");

        let mismatch = app
            .post_form(
                "/admins",
                &[
                    ("email", "ada@example.com"),
                    ("name", "<b>Ada</b>"),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse batterz"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body.contains("The passwords do not match"));
        assert_eq!(mismatch.input_value("name").as_deref(), Some("<b>Ada</b>"));
        assert!(
            !mismatch.body.contains("<b>Ada</b>"),
            "the name is not escaped"
        );
        assert!(!mismatch.body.contains("correct horse batter"));

        // The same email in another case is the same administrator.
        let taken = app
            .post_form(
                "/admins",
                &[
                    ("email", " Admin@Example.COM "),
                    ("name", ""),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse battery"),
                ],
            )
            .await;
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            taken
                .body
                .contains("An administrator with this email already exists"),
            "{}",
            taken.body
        );
        assert_eq!(
            taken.input_value("email").as_deref(),
            Some(" Admin@Example.COM ")
        );
        assert!(!taken.body.contains("correct horse battery"));
        assert_eq!(admin_id(&app, "ada@example.com"), None, "created anyway");

        let created = app
            .post_form(
                "/admins",
                &[
                    ("email", "Ada@Example.com"),
                    ("name", " Ada Lovelace "),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse battery"),
                ],
            )
            .await;
        created.assert_redirects_to("/admins");
        let list = app.follow(created).await;
        assert!(
            list.body
                .contains("Administrator “ada@example.com” created."),
            "{}",
            list.body
        );
        let id = admin_id(&app, "ada@example.com").expect("not created");
        let ada = row(&list, id);
        assert!(ada.contains("Ada Lovelace") && shows_active(&ada), "{ada}");
        assert!(ada.contains("Never"));

        // The new administrator signs in with that password.
        assert_eq!(
            try_login(&mut app, "ada@example.com", "correct horse battery").await,
            StatusCode::SEE_OTHER
        );
    }
);

storage_test!(
    deactivating_signs_an_administrator_out_until_activated_again,
    |app| async move {
        app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        let mut theirs = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
        let mut again = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
        assert_eq!(sessions_of(&app, other), 2);

        let response = set_active(&app, other, false).await;
        response.assert_redirects_to("/admins");
        let list = app.follow(response).await;
        assert!(
            list.body.contains(&format!(
                "“{OTHER_EMAIL}” is now inactive and was signed out everywhere."
            )),
            "{}",
            list.body
        );
        let theirs_row = row(&list, other);
        assert!(!shows_active(&theirs_row), "{theirs_row}");
        assert!(theirs_row.contains(&format!("Activate {OTHER_EMAIL}")));

        // Both of their browsers are signed out, and their session rows gone.
        assert!(!signed_in(&mut app, &mut theirs).await);
        assert!(!signed_in(&mut app, &mut again).await);
        assert_eq!(sessions_of(&app, other), 0);
        assert_eq!(
            try_login(&mut app, OTHER_EMAIL, OTHER_PASSWORD).await,
            StatusCode::UNAUTHORIZED
        );
        assert!(
            app.is_signed_in().await,
            "the one who deactivated was signed out"
        );

        let response = set_active(&app, other, true).await;
        response.assert_redirects_to("/admins");
        let list = app.follow(response).await;
        assert!(
            list.body
                .contains(&format!("“{OTHER_EMAIL}” is now active."))
        );
        assert!(shows_active(&row(&list, other)));
        let mut theirs = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
        assert!(signed_in(&mut app, &mut theirs).await);

        // Unknown administrators and odd values change nothing.
        assert_eq!(
            set_active(&app, 999_999, false).await.status,
            StatusCode::NOT_FOUND
        );
        let odd = app
            .post_form(&format!("/admins/{other}/active"), &[("active", "maybe")])
            .await;
        assert_eq!(odd.status, StatusCode::BAD_REQUEST);
        assert!(signed_in(&mut app, &mut theirs).await);
    }
);

storage_test!(
    deleting_an_administrator_asks_first_and_keeps_what_they_made,
    |app| async move {
        app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        let mut theirs = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
        // They create a role, so rows refer to them.
        app.swap_browser(&mut theirs);
        app.create_role("Grace readers").await;
        app.swap_browser(&mut theirs);

        let confirm = app.get(&format!("/admins/{other}/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
        assert!(
            confirm
                .body
                .contains("Delete the administrator “Test Admin”?"),
            "{}",
            confirm.body
        );
        assert!(confirm.body.contains(OTHER_EMAIL));
        assert!(confirm.body.contains("Delete administrator</button>"));
        // Only the confirmation deletes.
        assert!(admin_id(&app, OTHER_EMAIL).is_some());

        let response = app.post_form(&format!("/admins/{other}/delete"), &[]).await;
        response.assert_redirects_to("/admins");
        let list = app.follow(response).await;
        assert!(
            list.body
                .contains(&format!("Administrator “{OTHER_EMAIL}” deleted.")),
            "{}",
            list.body
        );
        assert!(!list.body.contains(&format!("<tr id=\"admin-{other}\"")));
        assert!(!list.body.contains(&format!("{OTHER_EMAIL}</td>")));

        assert!(!signed_in(&mut app, &mut theirs).await);
        assert_eq!(sessions_of(&app, other), 0);
        assert_eq!(
            try_login(&mut app, OTHER_EMAIL, OTHER_PASSWORD).await,
            StatusCode::UNAUTHORIZED
        );
        let roles = app.get("/roles").await;
        assert!(roles.body.contains("Grace readers"), "{}", roles.body);
        assert_eq!(
            app.get(&format!("/admins/{other}/delete")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post_form(&format!("/admins/{other}/delete"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);

storage_test!(
    the_last_active_administrator_can_be_neither_deactivated_nor_deleted,
    |app| async move {
        let me = app.login_as_default_admin().await;
        // An inactive administrator does not count.
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        set_active(&app, other, false)
            .await
            .assert_redirects_to("/admins");

        let refused = set_active(&app, me, false).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert!(refused.body.contains(LAST_ACTIVE), "{}", refused.body);
        assert!(shows_active(&row(&refused, me)), "the list shows a change");

        let confirm = app.get(&format!("/admins/{me}/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains(LAST_ACTIVE), "{}", confirm.body);
        assert!(!confirm.body.contains("Delete administrator</button>"));
        let refused = app.post_form(&format!("/admins/{me}/delete"), &[]).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert!(refused.body.contains(LAST_ACTIVE));

        // Nothing changed: still active, still signed in, still able to sign in.
        assert!(app.is_signed_in().await);
        assert_eq!(sessions_of(&app, me), 1);
        let list = app.get("/admins").await;
        assert!(shows_active(&row(&list, me)));
        assert!(!shows_active(&row(&list, other)));
        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            StatusCode::SEE_OTHER
        );

        // With another active administrator, one may deactivate oneself,
        // which signs one out.
        set_active(&app, other, true)
            .await
            .assert_redirects_to("/admins");
        set_active(&app, me, false)
            .await
            .assert_redirects_to("/login");
        assert!(!app.is_signed_in().await);
        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            StatusCode::UNAUTHORIZED
        );
    }
);

async fn send(request: reqwest::RequestBuilder) -> TestResponse {
    TestResponse::read(request.send().await.expect("request failed")).await
}

storage_test!(
    two_deactivations_at_once_leave_one_active_administrator,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        // A few rounds, each with both administrators active and signed in.
        for round in 0..3 {
            let mut theirs = app.signed_in_browser(OTHER_EMAIL, OTHER_PASSWORD).await;
            app.swap_browser(&mut theirs);
            let their_token = app.csrf_token().await;
            app.swap_browser(&mut theirs);
            let my_token = app.csrf_token().await;

            // I deactivate them while they deactivate me.
            let mine = app
                .client
                .post(app.url(&format!("/admins/{other}/active")))
                .form(&[("active", "false"), ("csrf_token", &my_token)]);
            let their = theirs
                .client
                .post(app.url(&format!("/admins/{me}/active")))
                .form(&[("active", "false"), ("csrf_token", &their_token)]);
            let (mine, their) = tokio::join!(send(mine), send(their));

            let done: Vec<&TestResponse> = [&mine, &their]
                .into_iter()
                .filter(|r| r.status == StatusCode::SEE_OTHER && r.header("location") == "/admins")
                .collect();
            assert_eq!(done.len(), 1, "round {round}: {mine:#?} {their:#?}");
            // The other was refused; or, when the first one had already ended
            // its session, it was sent to sign in (403 for the form, or a
            // redirect to the login page).
            for response in [&mine, &their] {
                match response.status {
                    StatusCode::CONFLICT => assert!(response.body.contains(LAST_ACTIVE)),
                    StatusCode::FORBIDDEN => {}
                    _ if response.header("location") == "/admins" => {}
                    _ => assert!(
                        login_next(response.header("location")).is_some(),
                        "{response:#?}"
                    ),
                }
            }

            let survivor_is_me =
                mine.status == StatusCode::SEE_OTHER && mine.header("location") == "/admins";
            if !survivor_is_me {
                app.swap_browser(&mut theirs);
            }
            let list = app.get("/admins").await;
            assert_eq!(list.status, StatusCode::OK, "round {round}: {}", list.body);
            assert_eq!(shows_active(&row(&list, me)), survivor_is_me);
            assert_eq!(shows_active(&row(&list, other)), !survivor_is_me);
            let deactivated = if survivor_is_me { other } else { me };
            assert_eq!(sessions_of(&app, deactivated), 0);
            // The survivor brings the other back for the next round.
            set_active(&app, deactivated, true)
                .await
                .assert_redirects_to("/admins");
            if !survivor_is_me {
                app.swap_browser(&mut theirs);
                app.forget_csrf_token();
                let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
                assert_eq!(response.status, StatusCode::SEE_OTHER);
            }
        }
    }
);

storage_test!(
    changing_the_password_signs_out_the_other_sessions,
    |app| async move {
        let me = app.login_as_default_admin().await;
        let mut elsewhere = app.signed_in_browser(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let new_password = "a brand new password";

        let form = app.get("/account/password").await;
        assert_eq!(form.status, StatusCode::OK);
        for label in [
            r#"<label for="current_password">"#,
            r#"<label for="new_password">"#,
            r#"<label for="new_password_confirm">"#,
        ] {
            assert!(form.body.contains(label), "{label}");
        }
        // Linked from the Admins page.
        assert!(
            app.get("/admins")
                .await
                .body
                .contains(r#"href="/account/password""#)
        );

        let wrong = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", "not my password"),
                    ("new_password", new_password),
                    ("new_password_confirm", new_password),
                ],
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            wrong.body.contains("Current password is incorrect"),
            "{}",
            wrong.body
        );
        assert!(!wrong.body.contains("not my password") && !wrong.body.contains(new_password));

        let mismatch = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", new_password),
                    ("new_password_confirm", "a brand new passworD"),
                ],
            )
            .await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.body.contains("The passwords do not match"));
        let short = app
            .post_form(
                "/account/password",
                &[
                    ("current_password", ADMIN_PASSWORD),
                    ("new_password", "too short"),
                    ("new_password_confirm", "too short"),
                ],
            )
            .await;
        assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            short
                .body
                .contains("Password must be at least 12 characters")
        );

        // Refusals changed nothing: the other session still works.
        assert!(signed_in(&mut app, &mut elsewhere).await);
        assert_eq!(sessions_of(&app, me), 2);

        let cookie_before = app.session_cookie();
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
        changed.assert_redirects_to("/admins");
        assert_ne!(
            app.session_cookie(),
            cookie_before,
            "the session was not renewed"
        );
        let list = app.follow(changed).await;
        assert_eq!(list.status, StatusCode::OK, "signed out: {}", list.body);
        assert!(
            list.body
                .contains("Password changed. Your other sessions were signed out."),
            "{}",
            list.body
        );
        assert!(app.is_signed_in().await);
        assert!(!signed_in(&mut app, &mut elsewhere).await);
        assert_eq!(sessions_of(&app, me), 1);
        // This browser's forms keep working.
        let role = app.create_role("After the change").await;
        assert!(role > 0);

        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, ADMIN_PASSWORD).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            try_login(&mut app, ADMIN_EMAIL, new_password).await,
            StatusCode::SEE_OTHER
        );
    }
);
