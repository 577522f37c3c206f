//! Rolling a key: the old key keeps working for the chosen grace period, or
//! stops within a second when rolled at once; the new key is shown once.

use std::time::Duration;

use chrono::TimeDelta;
use serde_json::json;

use super::{code, eventually_code, start};
use crate::harness::{StatusCode, eventually, shown_api_key};

each_backend!(
    rolling_keeps_the_old_key_for_the_chosen_grace_period,
    |db| async move {
        let (app, clock, role) = start(db).await;
        for (grace, period) in [
            ("1h", TimeDelta::hours(1)),
            ("24h", TimeDelta::hours(24)),
            ("7d", TimeDelta::days(7)),
        ] {
            let (id, old) = app.create_key(&format!("Rolled {grace}"), Some(role)).await;
            assert_eq!(code(&app, &old).await, "VALID");
            let confirm = app.get(&format!("/api-keys/{id}/roll")).await;
            assert!(
                confirm
                    .body
                    .contains(&format!("Roll the key of “Rolled {grace}”?"))
            );
            let rolled = app
                .post_form(&format!("/api-keys/{id}/roll"), &[("grace", grace)])
                .await;
            rolled.assert_redirects_to(&format!("/api-keys/{id}/key"));
            let shown = app.get(&format!("/api-keys/{id}/key")).await;
            let new = shown_api_key(&shown).expect("the new key is shown once");
            assert_ne!(new, old);
            assert!(
                shown_api_key(&app.get(&format!("/api-keys/{id}/key")).await).is_none(),
                "only once"
            );

            eventually_code(&app, &new, "VALID").await;
            assert_eq!(
                code(&app, &old).await,
                "VALID",
                "the old key works during the grace period ({grace})"
            );
            let edit = app.get(&format!("/api-keys/{id}")).await;
            assert!(
                edit.body.contains("The previous key keeps working until"),
                "{grace}"
            );

            clock.advance(period - TimeDelta::minutes(1));
            assert_eq!(code(&app, &old).await, "VALID", "still within {grace}");
            clock.advance(TimeDelta::minutes(2));
            // The roll reaches the verification cache within a second.
            let answer = eventually(
                Duration::from_millis(1500),
                "the old key to be refused",
                || async {
                    let answer = app.verify(&json!({ "key": old })).await;
                    (answer["code"] == "EXPIRED").then_some(answer)
                },
            )
            .await;
            assert!(
                answer["message"]
                    .as_str()
                    .unwrap()
                    .contains("replaced by a new one"),
                "{answer}"
            );
            assert_eq!(code(&app, &new).await, "VALID");
            assert!(
                !app.get(&format!("/api-keys/{id}"))
                    .await
                    .body
                    .contains("The previous key keeps working")
            );
        }
    }
);

each_backend!(
    rolling_at_once_stops_the_old_key_within_a_second,
    |db| async move {
        let (app, _clock, role) = start(db).await;
        let (id, old) = app.create_key("Leaked", Some(role)).await;
        assert_eq!(code(&app, &old).await, "VALID");
        let refused = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "2d")])
            .await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            refused
                .body
                .contains("Choose when the old key stops working")
        );
        assert_eq!(
            code(&app, &old).await,
            "VALID",
            "a refused roll changes nothing"
        );

        let rolled = app
            .post_form(&format!("/api-keys/{id}/roll"), &[("grace", "now")])
            .await;
        let new =
            shown_api_key(&app.get(rolled.location()).await).expect("the new key is shown once");
        eventually_code(&app, &old, "NOT_FOUND").await;
        assert_eq!(code(&app, &new).await, "VALID");
    }
);
