//! Administrators through the management API, on SQLite and PostgreSQL:
//! listed and read (never a password or hash), created (the password rules of
//! the Admins page), deactivated and reactivated; the last active
//! administrator stays; a deactivated administrator's tokens stop at once.

use serde_json::{Value, json};

use super::{Api, expect, expect_error};
use crate::harness::{ADMIN_EMAIL, StatusCode};

fn emails(list: &Value) -> Vec<String> {
    list["admins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap().to_owned())
        .collect()
}

storage_test!(
    administrators_are_listed_created_and_deactivated,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let listed = api.get("/admins").await;
        let body = expect(&listed, StatusCode::OK);
        assert_eq!(emails(&body), [ADMIN_EMAIL]);
        assert!(
            !listed.body.contains("argon2") && !listed.body.contains("password"),
            "{}",
            listed.body
        );

        let password = "a long enough password";
        let created = api
            .post(
                "/admins",
                &json!({"email": "Ops@Example.com", "name": "Ops", "password": password}),
            )
            .await;
        let created_json = expect(&created, StatusCode::CREATED);
        assert!(!created.body.contains(password), "{}", created.body);
        assert_eq!(created_json["email"], "ops@example.com");
        assert_eq!(created_json["is_active"], true);
        let id = created_json["id"].as_i64().unwrap();
        // The new administrator can sign in with that password.
        let mut visitor = app.signed_in_visitor("ops@example.com", password).await;

        let off = expect(
            &api.put(&format!("/admins/{id}/active"), &json!({"active": false}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(off["is_active"], false);
        app.swap_visitor(&mut visitor);
        assert!(!app.is_signed_in().await, "deactivating signs them out");
        app.swap_visitor(&mut visitor);
        let on = expect(
            &api.put(&format!("/admins/{id}/active"), &json!({"active": true}))
                .await,
            StatusCode::OK,
        );
        assert_eq!(on["is_active"], true);
        assert_eq!(
            expect(&api.get(&format!("/admins/{id}")).await, StatusCode::OK)["name"],
            "Ops"
        );

        let events = expect(
            &api.get(&format!("/audit-events?object=admin&id={id}"))
                .await,
            StatusCode::OK,
        );
        let actions: Vec<&str> = events["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["updated", "updated", "created"]);
        assert!(!events.to_string().contains(password));
    }
);

storage_test!(bad_administrators_name_their_fields, |app| async move {
    let api = Api::for_app(&app, "write").await;
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"email": "not an email", "password": "a long enough password"}),
            "email",
        ),
        (
            json!({"email": ADMIN_EMAIL, "password": "a long enough password"}),
            "email",
        ),
        (
            json!({"email": "new@example.com", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "new@example.com", "name": "n".repeat(65), "password": "a long enough password"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let answer = api.post("/admins", &body).await;
        let (context, _) = expect_error(&answer, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(context[field].is_array(), "{body}: {context}");
        assert!(
            !answer.body.contains("a long enough password"),
            "{}",
            answer.body
        );
    }
    expect_error(
        &api.post("/admins", &json!({"email": "x@example.com"}))
            .await,
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(
        emails(&expect(&api.get("/admins").await, StatusCode::OK)),
        [ADMIN_EMAIL]
    );
});

storage_test!(
    the_last_active_administrator_stays_and_tokens_follow_their_admin,
    |app| async move {
        let api = Api::for_app(&app, "write").await;
        let me = expect(&api.get("/admins").await, StatusCode::OK)["admins"][0]["id"]
            .as_i64()
            .unwrap();
        let (_, message) = expect_error(
            &api.put(&format!("/admins/{me}/active"), &json!({"active": false}))
                .await,
            StatusCode::CONFLICT,
        );
        assert!(
            message.contains("at least one active administrator"),
            "{message}"
        );
        for id in ["999", "z"] {
            expect_error(
                &api.get(&format!("/admins/{id}")).await,
                StatusCode::NOT_FOUND,
            );
            expect_error(
                &api.put(&format!("/admins/{id}/active"), &json!({"active": false}))
                    .await,
                StatusCode::NOT_FOUND,
            );
        }

        // A second administrator's token stops when they are deactivated, and
        // works again when they are reactivated.
        let password = "second admin password";
        let other = expect(
            &api.post(
                "/admins",
                &json!({"email": "second@example.com", "password": password}),
            )
            .await,
            StatusCode::CREATED,
        )["id"]
            .as_i64()
            .unwrap();
        let mut visitor = app.signed_in_visitor("second@example.com", password).await;
        app.swap_visitor(&mut visitor);
        let (_, token) = app.create_token("second's", "write").await;
        app.swap_visitor(&mut visitor);
        let theirs = Api::new(&app.address, &token);
        expect(&theirs.get("/apps").await, StatusCode::OK);
        expect(
            &api.put(
                &format!("/admins/{other}/active"),
                &json!({"active": false}),
            )
            .await,
            StatusCode::OK,
        );
        let (_, message) = expect_error(&theirs.get("/apps").await, StatusCode::UNAUTHORIZED);
        assert!(message.contains("inactive"), "{message}");
        expect(
            &api.put(&format!("/admins/{other}/active"), &json!({"active": true}))
                .await,
            StatusCode::OK,
        );
        expect(&theirs.get("/apps").await, StatusCode::OK);

        // A read-only token cannot create or deactivate anyone.
        let reader = Api::for_app(&app, "read").await;
        expect(&reader.get("/admins").await, StatusCode::OK);
        expect_error(
            &reader
                .post(
                    "/admins",
                    &json!({"email": "r@example.com", "password": "a long enough password"}),
                )
                .await,
            StatusCode::FORBIDDEN,
        );
        expect_error(
            &reader
                .put(
                    &format!("/admins/{other}/active"),
                    &json!({"active": false}),
                )
                .await,
            StatusCode::FORBIDDEN,
        );
        assert_eq!(
            expect(&api.get(&format!("/admins/{other}")).await, StatusCode::OK)["is_active"],
            true
        );
    }
);
