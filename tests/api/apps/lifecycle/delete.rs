//! Deleting a key: asked first, then the row is gone and the key stops
//! working within a second.

use super::{code, eventually_code, start};
use crate::harness::StatusCode;

each_backend!(
    deleting_asks_first_and_the_key_stops_working,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let (id, key) = app.create_key("Doomed", Some(role)).await;
        assert_eq!(code(&app, &key).await, "VALID");
        let confirm = app.get(&format!("/api-keys/{id}/delete")).await;
        assert_eq!(confirm.status, StatusCode::OK);
        assert!(confirm.body.contains("Delete the API key “Doomed”?"));
        assert!(
            app.get("/api-keys").await.body.contains("Doomed"),
            "asking deletes nothing"
        );

        let deleted = app.post_form(&format!("/api-keys/{id}/delete"), &[]).await;
        deleted.assert_redirects_to("/api-keys");
        let list = app.get("/api-keys").await;
        assert!(list.body.contains("API key “Doomed” deleted."));
        assert!(
            !list.body.contains(&format!("id=\"app-{id}\"")),
            "the row is gone"
        );
        eventually_code(&app, &key, "NOT_FOUND").await;
        assert_eq!(
            app.get(&format!("/api-keys/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.post_form(&format!("/api-keys/{id}/delete"), &[])
                .await
                .status,
            StatusCode::NOT_FOUND
        );
    }
);
