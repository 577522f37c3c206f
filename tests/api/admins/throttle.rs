//! Sign-in throttling as an administrator meets it: locked after repeated
//! failures for one account or from one address, with a message that says
//! when to try again, and unlocked by time (a manual clock) or a success.
//! The current password check on `/account/password` counts as a failed
//! sign-in too.

use std::sync::Arc;

use chrono::TimeDelta;
use keyward::admins::domain::throttle::{ACCOUNT_LIMIT, ADDRESS_LIMIT, LOCKOUT};
use keyward::clock::ManualClock;

use crate::harness::{
    ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode, TestApp, TestDb, TestResponse, Visitor,
};

const OTHER_EMAIL: &str = "other@example.com";
const OTHER_PASSWORD: &str = "another long password";
const WRONG: &str = "not the password at all";
const LOCKED: &str = "Too many failed sign-ins. Try again in 60 seconds.";

/// keyward on `db` with a clock the test moves and two administrators.
async fn start(db: TestDb) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| settings.clock = shared).await;
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    app.create_admin(OTHER_EMAIL, OTHER_PASSWORD);
    (app, clock)
}

fn assert_failed(response: &TestResponse) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        response.body
    );
    assert!(response.body.contains("Incorrect email or password."));
}

fn assert_locked(response: &TestResponse) {
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        response.body
    );
    assert!(response.body.contains(LOCKED), "{}", response.body);
    assert_eq!(response.header("retry-after"), "60");
}

/// Signs in and out again, so the next attempt starts signed out.
async fn assert_signs_in(app: &TestApp, email: &str, password: &str) {
    let response = app.login(email, password).await;
    assert_eq!(
        response.status,
        StatusCode::SEE_OTHER,
        "sign-in as {email} refused: {}",
        response.body
    );
    assert!(app.is_signed_in().await);
    app.logout().await.assert_redirects_to("/login");
}

each_backend!(
    an_account_is_locked_after_repeated_failures_until_the_lockout_passes,
    |db| async move {
        let (app, clock) = start(db).await;
        for _ in 0..ACCOUNT_LIMIT {
            assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
        }
        // Locked: even the right password is refused, with the message.
        assert_locked(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        assert!(!app.is_signed_in().await);
        // The email differs only in case and spaces: the same account.
        assert_locked(&app.login(" Admin@EXAMPLE.com", ADMIN_PASSWORD).await);
        // Another account from the same address is not affected.
        assert_signs_in(&app, OTHER_EMAIL, OTHER_PASSWORD).await;

        // Still locked a moment before the lockout ends, not after it.
        clock.advance(LOCKOUT - TimeDelta::seconds(2));
        let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(
            response
                .body
                .contains("Too many failed sign-ins. Try again in 2 seconds."),
            "{}",
            response.body
        );
        clock.advance(TimeDelta::seconds(2));
        assert_signs_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
);

each_backend!(a_success_resets_the_account_count, |db| async move {
    let (app, _clock) = start(db).await;
    for _ in 0..ACCOUNT_LIMIT - 1 {
        assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
    }
    assert_signs_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A fresh count: as many failures again without a lock, then the lock.
    for _ in 0..ACCOUNT_LIMIT - 1 {
        assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
    }
    assert_signs_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for _ in 0..ACCOUNT_LIMIT {
        assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
    }
    assert_locked(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
});

each_backend!(
    an_address_is_locked_after_failures_across_accounts,
    |db| async move {
        let (app, clock) = start(db).await;
        // Failures spread over made-up accounts, none reaching its own limit.
        let per_account = ACCOUNT_LIMIT - 1;
        let accounts = ADDRESS_LIMIT / per_account;
        assert_eq!(accounts * per_account, ADDRESS_LIMIT);
        for n in 0..accounts - 1 {
            let email = format!("guess{n}@example.com");
            for _ in 0..per_account {
                assert_failed(&app.login(&email, WRONG).await);
            }
        }
        // Below the address limit a real account still signs in.
        assert_signs_in(&app, OTHER_EMAIL, OTHER_PASSWORD).await;
        for _ in 0..per_account {
            assert_failed(&app.login("last-guess@example.com", WRONG).await);
        }
        // The address has reached its limit: every account is refused from it.
        assert_locked(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        assert_locked(&app.login(OTHER_EMAIL, OTHER_PASSWORD).await);
        // Refused attempts do not extend the lock.
        clock.advance(LOCKOUT);
        assert_signs_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
);

each_backend!(
    the_throttle_survives_a_restart_and_slows_further_guesses,
    |db| async move {
        let (mut app, clock) = start(db).await;
        for _ in 0..ACCOUNT_LIMIT {
            assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
        }
        app.restart().await;
        assert_locked(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        // After the lockout one more failure locks again at once: while the
        // window lasts a guesser gets one try a lockout.
        clock.advance(LOCKOUT);
        assert_failed(&app.login(ADMIN_EMAIL, WRONG).await);
        assert_locked(&app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await);
        // Never for good: past the lockout the right password works.
        clock.advance(LOCKOUT);
        assert_signs_in(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    }
);

each_backend!(the_password_is_never_echoed_back, |db| async move {
    let (app, _clock) = start(db).await;
    for _ in 0..=ACCOUNT_LIMIT {
        let response = app.login(ADMIN_EMAIL, WRONG).await;
        assert!(!response.body.contains(WRONG), "{}", response.body);
    }
});

each_backend!(
    the_current_password_check_is_throttled_like_sign_in,
    |db| async move {
        let app = TestApp::start(db, |_| {}).await;
        app.login_as_default_admin().await;
        let change = |current: &'static str| {
            let app = &app;
            async move {
                app.post_form(
                    "/account/password",
                    &[
                        ("current_password", current),
                        ("new_password", "a brand new passphrase"),
                        ("new_password_confirm", "a brand new passphrase"),
                    ],
                )
                .await
            }
        };
        for _ in 0..keyward::admins::domain::throttle::ACCOUNT_LIMIT {
            let wrong = change(WRONG).await;
            assert_eq!(
                wrong.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                wrong.body
            );
            assert!(wrong.body.contains("Current password is incorrect"));
        }
        // Locked: the right password is not even checked.
        let locked = change(ADMIN_PASSWORD).await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            locked.body
        );
        assert!(
            locked.body.contains("Try again in 60 seconds"),
            "{}",
            locked.body
        );
        assert_eq!(locked.header("retry-after"), "60");
        // The same count locks signing in to that account from another browser.
        let mut other = Visitor::default();
        let mut app = app;
        app.swap_visitor(&mut other);
        let response = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            response.body
        );
        app.swap_visitor(&mut other);
    }
);
