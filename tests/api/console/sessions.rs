//! Sessions: none before sign-in (a signed-out visitor writes nothing),
//! a new one at each sign-in, deleted at sign-out, kept alive by activity
//! and ended by idleness or an absolute lifetime, and kept across a restart.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use keyward::clock::ManualClock;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, Visitor, login_next};

storage_test!(
    a_visitor_who_has_not_signed_in_writes_nothing,
    |app| async move {
        app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
        // Many visitors, each with a fresh browser, as `wrk` on /login was.
        for _ in 0..50 {
            let mut visitor = Visitor::default();
            app.swap_visitor(&mut visitor);
            let page = app.get("/login").await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(page.csrf_token().is_some(), "the form has no CSRF token");
            assert!(app.session_cookie().is_none(), "a session cookie was set");
            app.swap_visitor(&mut visitor);
        }
        assert!(
            app.session_rows().is_empty(),
            "signed-out page views stored sessions"
        );
        // The form still signs in, and only then is a session stored.
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .assert_redirects_to("/");
        assert_eq!(app.session_rows().len(), 1);
    }
);

storage_test!(sign_in_starts_a_new_session, |app| async move {
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    app.get("/login").await;
    assert!(
        app.session_cookie().is_none(),
        "the login page started a session before anyone signed in"
    );
    // The email is matched whatever its case and surrounding spaces.
    app.login(" Admin@Example.COM ", ADMIN_PASSWORD)
        .await
        .assert_redirects_to("/");
    let first = app
        .session_cookie()
        .expect("signed in without a session cookie");
    assert!(app.is_signed_in().await);
    app.logout().await.assert_redirects_to("/login");
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .assert_redirects_to("/");
    let second = app
        .session_cookie()
        .expect("signed in without a session cookie");
    assert_ne!(first, second, "signing in again reused the session id");
    // Whoever kept the cookie of the earlier sign-in is not signed in with it.
    let replayed = app.get_with_session_cookie("/", &first).await;
    assert_eq!(login_next(replayed.location()).as_deref(), Some("/"));
});

storage_test!(sign_out_deletes_the_session, |app| async move {
    app.login_as_default_admin().await;
    let cookie = app.session_cookie().unwrap();
    let signed_in = app.signed_in_session_ids();
    assert_eq!(signed_in.len(), 1);
    app.logout().await.assert_redirects_to("/login");

    let rows: Vec<String> = app.session_rows().into_iter().map(|(id, _)| id).collect();
    assert!(
        !rows.contains(&signed_in[0]),
        "the session row is still there"
    );
    assert!(!app.is_signed_in().await);
    // A copy of the cookie taken before signing out opens nothing.
    let replayed = app.get_with_session_cookie("/", &cookie).await;
    assert_eq!(login_next(replayed.location()).as_deref(), Some("/"));
});

/// When the signed-in session row expires.
fn session_expiry(app: &TestApp, id: &str) -> chrono::NaiveDateTime {
    use diesel::prelude::*;
    use keyward::schema::sessions;
    let mut conn = app.pool.get().expect("no database connection");
    sessions::table
        .find(id)
        .select(sessions::expires_at)
        .first(&mut *conn)
        .expect("no session row")
}

fn set_session_expiry(app: &TestApp, id: &str, at: chrono::NaiveDateTime) {
    use diesel::prelude::*;
    use keyward::schema::sessions;
    let mut conn = app.pool.get().expect("no database connection");
    diesel::update(sessions::table.find(id))
        .set(sessions::expires_at.eq(at))
        .execute(&mut *conn)
        .expect("cannot move the session expiry");
}

storage_test!(
    activity_keeps_a_session_and_idleness_ends_it,
    |app| async move {
        app.login_as_default_admin().await;
        let id = app
            .signed_in_session_ids()
            .pop()
            .expect("no signed-in session");
        let now = || chrono::Utc::now().naive_utc();
        let minutes = chrono::Duration::minutes;

        // Idle for 25 of the 30 minutes: a page view gives it 30 minutes again.
        set_session_expiry(&app, &id, now() + minutes(5));
        assert_eq!(app.get("/api-keys").await.status, StatusCode::OK);
        let extended = session_expiry(&app, &id);
        assert!(extended > now() + minutes(29), "not extended: {extended}");
        // Another view within the minute writes nothing.
        assert_eq!(app.get("/api-keys").await.status, StatusCode::OK);
        assert_eq!(session_expiry(&app, &id), extended);

        // Idle past its expiry: the next page asks to sign in again.
        set_session_expiry(&app, &id, now() - chrono::Duration::seconds(1));
        let page = app.get("/api-keys").await;
        assert_eq!(login_next(page.location()).as_deref(), Some("/api-keys"));
    }
);

storage_test!(a_session_survives_a_server_restart, |app| async move {
    app.login_as_default_admin().await;
    let token = app.csrf_token().await;
    app.restart().await;
    assert!(
        app.is_signed_in().await,
        "the restart signed the administrator out"
    );
    // A form shown before the restart still posts.
    app.post_form_raw("/logout", &[("csrf_token", &token)])
        .await
        .assert_redirects_to("/login");
    assert!(!app.is_signed_in().await);
});

each_backend!(
    a_sign_in_ends_after_its_lifetime_however_active,
    |db| async move {
        let clock = Arc::new(ManualClock::default());
        let shared = clock.clone();
        let app = TestApp::start(db, move |settings| {
            settings.clock = shared;
            settings.session_lifetime = Duration::from_secs(12 * 3600);
        })
        .await;
        app.login_as_default_admin().await;
        // Busy all day: a page every couple of hours keeps it going...
        for _ in 0..5 {
            clock.advance(TimeDelta::hours(2));
            assert!(app.is_signed_in().await);
        }
        clock.advance(TimeDelta::hours(2) - TimeDelta::minutes(1));
        assert!(app.is_signed_in().await, "signed out before 12 hours");
        // ... until 12 hours after signing in.
        clock.advance(TimeDelta::minutes(2));
        assert!(!app.is_signed_in().await, "still signed in after 12 hours");
        assert!(
            app.signed_in_session_ids().is_empty(),
            "the session is kept"
        );
        // Signing in again starts a new lifetime.
        app.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            .await
            .assert_redirects_to("/");
        assert!(app.is_signed_in().await);
    }
);
