//! What an import leaves working: the DreamFactory keys clients send, in
//! every place DreamFactory reads them, judged by the imported rules; the
//! seeded apps' public keys refused; a legacy key rolled to a `kw_` key;
//! administrators signing in with their DreamFactory passwords.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    DF_ADMIN_PASSWORD, MOBILE_KEY, SEEDED_ADMIN_KEY, SHOP_KEY, app_named, import, package,
    succeeded, write_package,
};
use crate::harness::{StatusCode, TempDir, TestApp, eventually, shown_api_key};
use crate::verify::forward_auth;

async fn imported(app: &TestApp, args: &[&str]) {
    let dir = TempDir::new("keyward-import");
    let path = write_package(&dir.0, "package.zip", &package(None));
    succeeded(&import(app, &path, args));
}

async fn code(app: &TestApp, body: Value) -> String {
    app.verify(&body).await["code"].as_str().unwrap().to_owned()
}

storage_test!(
    imported_keys_verify_wherever_dreamfactory_clients_send_them,
    |app| async move {
        // Asked before the import: unknown (and cached as such).
        let shop = json!({"key": SHOP_KEY, "service": "db", "component": "_table/contacts", "verb": "GET"});
        assert_eq!(code(&app, shop.clone()).await, "NOT_FOUND");
        imported(&app, &[]).await;
        // The import tells the caches the key exists now.
        eventually(
            Duration::from_millis(1500),
            "the imported key to verify",
            || async { (code(&app, shop.clone()).await == "VALID").then_some(()) },
        )
        .await;
        let answer = app.verify(&shop).await;
        assert_eq!(answer["app"]["name"], "shop");
        assert_eq!(answer["role"]["name"], "Readers");
        // A client-supplied key of mixed case, on the role's other kept rule.
        let mobile = json!({"key": MOBILE_KEY, "service": "files", "component": "pictures/cat.png", "verb": "POST"});
        assert_eq!(code(&app, mobile).await, "VALID");
        // Forward-auth, as nginx asks, with the key where DreamFactory clients put it.
        let uri = "/api/v2/db/_table/contacts";
        for (what, headers, query) in [
            (
                "X-DreamFactory-API-Key",
                vec![("X-DreamFactory-API-Key", SHOP_KEY)],
                "",
            ),
            ("api_key", vec![], "?api_key="),
        ] {
            let uri = if query.is_empty() {
                uri.to_owned()
            } else {
                format!("{uri}{query}{SHOP_KEY}")
            };
            let allowed = forward_auth(&app, "GET", &uri, &headers).await;
            assert_eq!(allowed.status, StatusCode::OK, "{what}: {}", allowed.body);
            assert_eq!(allowed.header("x-keyward-app"), "shop", "{what}");
            // The role allows GET on tables; DELETE is another verb.
            let refused = forward_auth(&app, "DELETE", &uri, &headers).await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{what}: {}",
                refused.body
            );
        }
        // The filtered rule on _table/secrets was left out: only `_table/*`'s GET applies.
        let secrets = forward_auth(
            &app,
            "PUT",
            "/api/v2/db/_table/secrets",
            &[("X-DreamFactory-API-Key", SHOP_KEY)],
        )
        .await;
        assert_eq!(secrets.status, StatusCode::FORBIDDEN, "{}", secrets.body);
        // A key one character off is unknown, not half-matched.
        let mut wrong = SHOP_KEY.to_owned();
        wrong.replace_range(0..1, "7");
        assert_eq!(
            code(&app, json!({"key": wrong, "service": "db", "component": "_table/contacts", "verb": "GET"})).await,
            "NOT_FOUND"
        );
    }
);

storage_test!(
    the_seeded_apps_public_keys_are_refused_unless_kept,
    |app| async move {
        imported(&app, &[]).await;
        let seeded = json!({"key": SEEDED_ADMIN_KEY});
        assert_eq!(code(&app, seeded.clone()).await, "INACTIVE");
        let refused = forward_auth(
            &app,
            "GET",
            "/api/v2/system/app",
            &[("X-DreamFactory-API-Key", SEEDED_ADMIN_KEY)],
        )
        .await;
        assert_ne!(refused.status, StatusCode::OK);
        assert!(!app_named(&app, "admin").is_active);
    }
);

storage_test!(
    keep_public_keys_keeps_the_seeded_app_active,
    |app| async move {
        imported(&app, &["--keep-public-keys"]).await;
        assert!(app_named(&app, "admin").is_active);
    }
);

storage_test!(
    a_legacy_key_rolls_to_a_keyward_key_with_a_grace_period,
    |app| async move {
        imported(&app, &[]).await;
        app.login_as_default_admin().await;
        let id = app_named(&app, "shop").id;
        let page = app.get(&format!("/api-keys/{id}")).await;
        let text = crate::harness::text_of(&page.body);
        assert!(
            text.contains("Key 6498a8ad… (imported from DreamFactory"),
            "{text}"
        );
        let rolled = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "1h")])
            .await;
        rolled.assert_redirects_to(&format!("/api-keys/{id}/key"));
        let new = shown_api_key(&app.get(&format!("/api-keys/{id}/key")).await)
            .expect("the new key is shown once");
        assert!(new.starts_with("kw_"));
        let body = |key: &str| json!({"key": key, "service": "db", "component": "_table/contacts", "verb": "GET"});
        eventually(
            Duration::from_millis(1500),
            "the new key to verify",
            || async { (code(&app, body(&new)).await == "VALID").then_some(()) },
        )
        .await;
        assert_eq!(
            code(&app, body(SHOP_KEY)).await,
            "VALID",
            "the DreamFactory key works for the grace period"
        );
        let stored = app_named(&app, "shop");
        assert!(stored.key_prefix.starts_with("kw_"));
        let legacy: bool = {
            use diesel::prelude::*;
            let mut conn = app.pool.get().unwrap();
            keyward::schema::apps::table
                .find(id)
                .select(keyward::schema::apps::legacy_key)
                .first(&mut *conn)
                .unwrap()
        };
        assert!(!legacy, "after the roll the key is keyward's");
    }
);

storage_test!(
    imported_administrators_sign_in_with_their_dreamfactory_password,
    |app| async move {
        imported(&app, &["--with-admins"]).await;
        let stored_hash = || {
            use diesel::prelude::*;
            use keyward::schema::admins;
            let mut conn = app.pool.get().unwrap();
            admins::table
                .filter(admins::email.eq("ops@example.com"))
                .select(admins::password_hash)
                .first::<String>(&mut *conn)
                .unwrap()
        };
        assert!(stored_hash().starts_with("$2y$"));
        let wrong = app.login("ops@example.com", "df-pass-2").await;
        assert_ne!(wrong.status, StatusCode::SEE_OTHER);
        // Shorter than keyward's rule for new passwords: an old password still signs in.
        let signed_in = app.login("ops@example.com", DF_ADMIN_PASSWORD).await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.body
        );
        assert!(app.is_signed_in().await);
        assert!(
            stored_hash().starts_with("$argon2id$"),
            "rehashed at the first sign-in"
        );
        app.logout().await;
        let again = app.login("ops@example.com", DF_ADMIN_PASSWORD).await;
        assert_eq!(
            again.status,
            StatusCode::SEE_OTHER,
            "the rehashed password still signs in"
        );
    }
);
