//! Changes are honoured within a second: a deactivated key, role or service,
//! a removed rule and a deleted service or role are refused within a second
//! of the change, also by a second instance on the same PostgreSQL database.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{FRESH, code, contacts_get, named, setup};
use crate::harness::{Backend, TestApp, TestDb, eventually};

/// A client keeps using the key for a few of keyward's cache polls, so the
/// answer is surely cached when the administrator changes something.
async fn keep_using(app: &TestApp, body: &Value) {
    let until = Instant::now() + keyward::verify::POLL_INTERVAL * 3;
    while Instant::now() < until {
        let answer = app.verify(body).await;
        assert_eq!(code(&answer), "VALID", "{answer}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Asserts that `body` is answered with `expected` within a second.
async fn refused_within_a_second(app: &TestApp, body: &Value, expected: &str, change: &str) {
    let answer = eventually(
        FRESH,
        &format!("{expected} within a second of {change}"),
        || async {
            let answer = app.verify(body).await;
            (code(&answer) != "VALID").then_some(answer)
        },
    )
    .await;
    assert_eq!(code(&answer), expected, "after {change}: {answer}");
    assert_eq!(answer["valid"], json!(false), "{answer}");
}

storage_test!(
    a_deactivated_key_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        app.set_key_active(s.app_id, false).await;
        refused_within_a_second(&app, &body, "INACTIVE", "deactivating the key").await;
    }
);

storage_test!(
    a_removed_rule_is_honoured_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let rule = {
            use diesel::prelude::*;
            use keyward::schema::role_rules;
            let mut conn = app.pool.get().unwrap();
            role_rules::table
                .filter(role_rules::role_id.eq(s.role))
                .select(role_rules::id)
                .first::<i32>(&mut *conn)
                .unwrap()
        };
        let removed = app
            .post_form(&format!("/roles/{}/rules/{rule}/delete", s.role), &[])
            .await;
        removed.assert_redirects_to(&format!("/roles/{}#rules", s.role));
        refused_within_a_second(&app, &body, "FORBIDDEN", "removing the rule").await;

        // Granting again is as quick.
        app.add_rule(s.role, Some(s.db), "_table/*", &["GET"]).await;
        eventually(FRESH, "the new rule to allow GET", || async {
            (code(&app.verify(&body).await) == "VALID").then_some(())
        })
        .await;
    }
);

storage_test!(
    a_deactivated_role_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let saved = app
            .post_form(
                &format!("/roles/{}", s.role),
                &[("name", "Readers"), ("description", "")],
            )
            .await;
        saved.assert_redirects_to(&format!("/roles/{}", s.role));
        refused_within_a_second(&app, &body, "ROLE_INACTIVE", "deactivating the role").await;
    }
);

storage_test!(
    a_deactivated_service_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let saved = app
            .post_form(
                &format!("/services/{}", s.db),
                &[
                    ("name", "db"),
                    ("label", "The db service"),
                    ("description", ""),
                    ("kind", "api"),
                ],
            )
            .await;
        saved.assert_redirects_to("/services");
        refused_within_a_second(&app, &body, "FORBIDDEN", "deactivating the service").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["allowed"], json!(false), "{answer}");
        assert!(
            answer["message"].as_str().unwrap().contains("inactive"),
            "{answer}"
        );
    }
);

storage_test!(
    a_deleted_service_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let deleted = app
            .post_form(&format!("/services/{}/delete", s.db), &[])
            .await;
        deleted.assert_redirects_to("/services");
        refused_within_a_second(&app, &body, "FORBIDDEN", "deleting the service").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["allowed"], json!(false), "{answer}");
    }
);

storage_test!(
    a_deleted_role_is_refused_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let body = contacts_get(&s.key);
        keep_using(&app, &body).await;
        let deleted = app
            .post_form(&format!("/roles/{}/delete", s.role), &[])
            .await;
        deleted.assert_redirects_to("/roles");
        refused_within_a_second(&app, &body, "NO_ROLE", "deleting the role").await;
        let answer = app.verify(&body).await;
        assert_eq!(answer["role"], Value::Null, "{answer}");
        assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    }
);

#[tokio::test]
async fn a_key_deactivated_on_one_instance_is_refused_by_another_within_a_second() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let a = TestApp::start(db, |_| {}).await;
    let b = a.start_peer().await;
    let s = setup(&a).await;
    let body = contacts_get(&s.key);

    // Both instances serve the key, and B has it cached.
    let until = Instant::now() + keyward::verify::POLL_INTERVAL * 3;
    while Instant::now() < until {
        for answer in [a.verify(&body).await, b.verify(&body).await] {
            assert_eq!(code(&answer), "VALID", "{answer}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    a.set_key_active(s.app_id, false).await;
    let deactivated = Instant::now();
    let give_up = deactivated + Duration::from_secs(10);
    let (answer, took) = loop {
        let answer = b.verify(&body).await;
        if code(&answer) != "VALID" {
            break (answer, deactivated.elapsed());
        }
        assert!(
            Instant::now() < give_up,
            "instance B still accepts the key 10 s after A deactivated it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(code(&answer), "INACTIVE", "{answer}");
    assert_eq!(answer["app"], named(s.app_id, "Mobile app"));
    assert!(
        took <= Duration::from_secs(1),
        "instance B refused the key {took:?} after A deactivated it; the promise is one second"
    );
    // And B goes on refusing it.
    assert_eq!(code(&b.verify(&body).await), "INACTIVE");
}
