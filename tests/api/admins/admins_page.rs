//! The Admins page: the list with each administrator's last sign-in,
//! creating an administrator (every field checked), and deleting one (asked
//! first; what they made stays).

use super::{
    OTHER_EMAIL, OTHER_PASSWORD, admin_id, row, sessions_of, shows_active, signed_in, try_login,
};
use crate::harness::{ADMIN_EMAIL, StatusCode};

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
        let _visitor = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
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
    deleting_an_administrator_asks_first_and_keeps_what_they_made,
    |app| async move {
        app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        let mut theirs = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
        // They create a role, so rows refer to them.
        app.swap_visitor(&mut theirs);
        app.create_role("Grace readers").await;
        app.swap_visitor(&mut theirs);

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
