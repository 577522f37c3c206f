//! Deactivating and activating administrators: a deactivated one is signed
//! out everywhere until activated again, and the last active administrator
//! can be neither deactivated nor deleted, not even by two deactivations at
//! once.

use super::{
    LAST_ACTIVE, OTHER_EMAIL, OTHER_PASSWORD, row, sessions_of, set_active, shows_active,
    signed_in, try_login,
};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestResponse, login_next};

storage_test!(
    deactivating_signs_an_administrator_out_until_activated_again,
    |app| async move {
        app.login_as_default_admin().await;
        let other = app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
        let mut theirs = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
        let mut again = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
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
        let mut theirs = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
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
            let mut theirs = app.signed_in_visitor(OTHER_EMAIL, OTHER_PASSWORD).await;
            app.swap_visitor(&mut theirs);
            let their_token = app.csrf_token().await;
            app.swap_visitor(&mut theirs);
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
                app.swap_visitor(&mut theirs);
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
                app.swap_visitor(&mut theirs);
                app.forget_csrf_token();
                let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
                assert_eq!(response.status, StatusCode::SEE_OTHER);
            }
        }
    }
);
