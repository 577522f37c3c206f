//! Per-key rate limits and quotas, end to end on both backends, with a clock
//! the tests move (never a sleep): set on the Edit Application page, through
//! the management API and as a role's defaults; judged by `POST
//! /api/v1/verify` (the limit state in the answer) and by forward-auth (429
//! with `Retry-After` and the IETF `RateLimit-Policy` / `RateLimit` headers,
//! 403 for a quota that never refills); the quota left on the key's page and
//! the list; what a refused request spends (nothing); bad input refused next
//! to its field.

use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use keyward::clock::ManualClock;
use serde_json::{Value, json};

use super::{
    FRESH, Setup, code, contacts_get, error_message, forward_auth, setup, with_altered_checksum,
};
use crate::harness::{
    StatusCode, TestApp, TestDb, TestResponse, api_client, eventually, field_error, text_of,
    textarea_value, verify_at,
};
use crate::management::{Api, expect, expect_error};

/// 50 seconds before the minute ends, 110 before the day and the month do.
pub(super) const START: &str = "2027-01-31 23:58:10";

fn start_time() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(START, "%Y-%m-%d %H:%M:%S").unwrap()
}

pub(super) async fn start(db: TestDb) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::at(start_time()));
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| settings.clock = shared).await;
    (app, clock)
}

pub(super) async fn verify(app: &TestApp, body: &Value) -> Value {
    verify_at(&api_client(), &app.address, body).await
}

/// Saves the Edit Application form of "Mobile app" with these limits.
pub(super) async fn save_limits(
    app: &TestApp,
    s: &Setup,
    rate_limits: &str,
    quota_total: &str,
    quota_refill: &str,
) -> TestResponse {
    let role = s.role.to_string();
    app.post_form(
        &format!("/api-keys/{}", s.app_id),
        &[
            ("name", "Mobile app"),
            ("description", "the phone app"),
            ("is_active", "true"),
            ("location", "0"),
            ("role_id", &role),
            ("rate_limits", rate_limits),
            ("quota_total", quota_total),
            ("quota_refill", quota_refill),
        ],
    )
    .await
}

async fn contacts(app: &TestApp, key: &str) -> TestResponse {
    forward_auth(
        app,
        "GET",
        "/api/v2/db/_table/contacts",
        &[("X-API-Key", key)],
    )
    .await
}

/// The page's text, for what it says in words.
async fn page_text(app: &TestApp, path: &str) -> String {
    let page = app.get(path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    text_of(&page.body)
}

each_backend!(
    a_rate_limit_admits_its_number_in_each_window,
    |db| async move {
        let (app, clock) = start(db).await;
        let s = setup(&app).await;
        let saved = save_limits(&app, &s, "3/minute\n1,000/day", "", "never").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let page = app.get(&format!("/api-keys/{}", s.app_id)).await;
        assert_eq!(
            textarea_value(&page, "rate_limits").as_deref(),
            Some("3/minute\n1000/day"),
            "the edit page shows the limits as saved"
        );
        for n in 1..=3u64 {
            let answer = verify(&app, &contacts_get(&s.key)).await;
            assert_eq!(code(&answer), "VALID", "request {n}: {answer}");
            assert_eq!(
                answer["rate_limits"],
                json!([
                    {"limit": 3, "window_seconds": 60, "remaining": 3 - n, "reset": 50},
                    {"limit": 1000, "window_seconds": 86400, "remaining": 1000 - n, "reset": 110},
                ]),
                "request {n}"
            );
            assert!(answer.get("quota").is_none(), "no quota: {answer}");
        }
        let answer = verify(&app, &contacts_get(&s.key)).await;
        assert_eq!(
            code(&answer),
            "RATE_LIMITED",
            "the fourth in the minute: {answer}"
        );
        assert_eq!(answer["valid"], json!(false));
        assert_eq!(answer["allowed"], json!(false));
        assert_eq!(
            answer["message"],
            json!("The app “Mobile app” has made its 3 requests per minute: retry in 50 seconds.")
        );
        assert_eq!(answer["rate_limits"][0]["remaining"], json!(0));
        assert_eq!(
            answer["rate_limits"][1]["remaining"],
            json!(997),
            "a refused request spends nothing"
        );

        // Forward-auth: 429, when to retry, and the limits in the IETF headers.
        let refused = contacts(&app, &s.key).await;
        let message = error_message(&refused, StatusCode::TOO_MANY_REQUESTS);
        assert!(message.contains("retry in 50 seconds"), "{message}");
        assert_eq!(refused.header("retry-after"), "50");
        assert_eq!(
            refused.header("ratelimit-policy"),
            r#""minute";q=3;w=60, "day";q=1000;w=86400"#
        );
        assert_eq!(
            refused.header("ratelimit"),
            r#""minute";r=0;t=50, "day";r=997;t=110"#
        );

        // The next minute admits three more; a pass carries the headers too.
        clock.advance(TimeDelta::seconds(50));
        let passed = contacts(&app, &s.key).await;
        assert_eq!(passed.status, StatusCode::OK, "{}", passed.body);
        assert!(!passed.headers.contains_key("retry-after"));
        assert_eq!(
            passed.header("ratelimit"),
            r#""minute";r=2;t=60, "day";r=996;t=60"#
        );
        // A key without limits says nothing of them.
        let (_, plain) = app.create_key("Plain app", Some(s.role)).await;
        let answer = verify(&app, &contacts_get(&plain)).await;
        assert_eq!(code(&answer), "VALID");
        assert!(answer.get("rate_limits").is_none(), "{answer}");
        let passed = contacts(&app, &plain).await;
        assert!(!passed.headers.contains_key("ratelimit"), "{passed:?}");
    }
);

each_backend!(a_quota_is_spent_shown_and_refilled, |db| async move {
    let (app, clock) = start(db).await;
    let s = setup(&app).await;
    let api = Api::for_app(&app, "write").await;
    let updated = expect(
        &api.patch(
            &format!("/apps/{}", s.app_id),
            &json!({"quota": {"total": 5, "refill": "monthly"}}),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(
        updated["quota"],
        json!({"total": 5, "refill": "monthly", "used": 0, "remaining": 5,
               "refills_at": "2027-02-01T00:00:00Z"})
    );
    for n in 1..=5u64 {
        let answer = verify(&app, &contacts_get(&s.key)).await;
        assert_eq!(code(&answer), "VALID", "request {n}: {answer}");
        assert_eq!(
            answer["quota"],
            json!({"total": 5, "remaining": 5 - n, "refill": "monthly", "reset": 110})
        );
    }
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "USAGE_EXCEEDED", "{answer}");
    assert_eq!(
        answer["message"],
        json!(
            "The app “Mobile app” has used its quota of 5 requests a month: it refills in 110 seconds."
        )
    );
    let refused = contacts(&app, &s.key).await;
    let message = error_message(&refused, StatusCode::TOO_MANY_REQUESTS);
    assert!(message.contains("refills in 110 seconds"), "{message}");
    assert_eq!(refused.header("retry-after"), "110");
    assert_eq!(refused.header("ratelimit-policy"), r#""quota";q=5"#);
    assert_eq!(refused.header("ratelimit"), r#""quota";r=0;t=110"#);

    // What is left, on the key's page, the list and the API, once the counts
    // are written (four times a second).
    let path = format!("/api-keys/{}", s.app_id);
    eventually(FRESH, "the page to show the quota spent", || async {
        page_text(&app, &path)
            .await
            .contains("Quota: 0 of 5 requests left this month")
            .then_some(())
    })
    .await;
    assert!(
        page_text(&app, "/api-keys")
            .await
            .contains("Quota: 0 of 5 left"),
        "the list shows the quota left"
    );
    let read = expect(
        &api.get(&format!("/apps/{}", s.app_id)).await,
        StatusCode::OK,
    );
    assert_eq!(read["quota"]["used"], json!(5));
    assert_eq!(read["quota"]["remaining"], json!(0));
    let listed = expect(&api.get("/apps").await, StatusCode::OK);
    assert_eq!(listed["apps"][0]["quota_remaining"], json!(0), "{listed}");

    // February: the whole quota again.
    clock.advance(TimeDelta::seconds(110));
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "VALID", "{answer}");
    assert_eq!(answer["quota"]["remaining"], json!(4));
    assert_eq!(
        answer["quota"]["reset"],
        json!(28 * 86_400),
        "until 1 March"
    );

    // A quota never refilled: spent is spent, and forward-auth says 403.
    expect(
        &api.patch(
            &format!("/apps/{}", s.app_id),
            &json!({"quota": {"total": 2}}),
        )
        .await,
        StatusCode::OK,
    );
    // Honoured within a second: the first answer under the new quota spends one of two.
    let first = eventually(FRESH, "the new quota", || async {
        let answer = verify(&app, &contacts_get(&s.key)).await;
        (answer["quota"]["total"] == json!(2)).then_some(answer)
    })
    .await;
    assert_eq!(code(&first), "VALID", "{first}");
    assert_eq!(first["quota"]["remaining"], json!(1));
    assert!(first["quota"].get("reset").is_none(), "{first}");
    let second = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&second), "VALID", "{second}");
    let third = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&third), "USAGE_EXCEEDED", "{third}");
    let refused = contacts(&app, &s.key).await;
    let message = error_message(&refused, StatusCode::FORBIDDEN);
    assert!(message.contains("which is not refilled"), "{message}");
    assert!(
        !refused.headers.contains_key("retry-after"),
        "waiting does not help"
    );
    // Removed: no limit at all.
    let cleared = expect(
        &api.patch(&format!("/apps/{}", s.app_id), &json!({"quota": null}))
            .await,
        StatusCode::OK,
    );
    assert_eq!(cleared["quota"], Value::Null);
    let answer = eventually(FRESH, "the quota to be gone", || async {
        let answer = verify(&app, &contacts_get(&s.key)).await;
        (code(&answer) == "VALID").then_some(answer)
    })
    .await;
    assert!(answer.get("quota").is_none(), "{answer}");
});

each_backend!(a_refused_request_spends_no_quota, |db| async move {
    let (app, clock) = start(db).await;
    let s = setup(&app).await;
    let saved = save_limits(&app, &s, "1/minute", "2", "never").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    // The role allows GET only: refused POSTs are no use of the quota.
    for _ in 0..4 {
        let post = forward_auth(
            &app,
            "POST",
            "/api/v2/db/_table/contacts",
            &[("X-API-Key", &s.key)],
        )
        .await;
        assert_eq!(post.status, StatusCode::FORBIDDEN, "{}", post.body);
        assert!(
            !post.headers.contains_key("ratelimit"),
            "not counted, not told"
        );
    }
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "VALID", "{answer}");
    assert_eq!(answer["quota"]["remaining"], json!(1));
    // Rate limited: the quota is not touched either.
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "RATE_LIMITED", "{answer}");
    assert_eq!(answer["quota"]["remaining"], json!(1), "{answer}");
    clock.advance(TimeDelta::seconds(60));
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "VALID", "{answer}");
    assert_eq!(answer["quota"]["remaining"], json!(0));
    clock.advance(TimeDelta::seconds(60));
    let answer = verify(&app, &contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "USAGE_EXCEEDED", "{answer}");
    // An unknown key spends nothing of anybody's.
    let unknown = verify(&app, &json!({"key": with_altered_checksum(&s.key)})).await;
    assert_ne!(code(&unknown), "VALID");
});

each_backend!(
    keys_without_limits_of_their_own_have_their_roles,
    |db| async move {
        let (app, _clock) = start(db).await;
        let s = setup(&app).await;
        let api = Api::for_app(&app, "write").await;
        let role = expect(
            &api.patch(
                &format!("/roles/{}", s.role),
                &json!({"rate_limits": [{"limit": 2, "window_seconds": 60}]}),
            )
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            role["rate_limits"],
            json!([{"limit": 2, "window_seconds": 60}])
        );
        let page = page_text(&app, &format!("/api-keys/{}", s.app_id)).await;
        assert!(
            page.contains("leave empty for the role's: 2 per minute"),
            "the key's page says which limits it inherits: {page}"
        );
        // The role's page shows its defaults in its form.
        let role_page = app.get(&format!("/roles/{}", s.role)).await;
        assert_eq!(
            textarea_value(&role_page, "rate_limits").as_deref(),
            Some("2/minute")
        );
        let (own_id, own) = app.create_key("Own limits", Some(s.role)).await;
        expect(
            &api.patch(
                &format!("/apps/{own_id}"),
                &json!({"rate_limits": [{"limit": 5, "window_seconds": 60}]}),
            )
            .await,
            StatusCode::OK,
        );
        let mut inherited = Vec::new();
        let mut kept_own = Vec::new();
        for _ in 0..4 {
            inherited.push(code(&verify(&app, &contacts_get(&s.key)).await).to_owned());
            kept_own.push(code(&verify(&app, &contacts_get(&own)).await).to_owned());
        }
        assert_eq!(
            inherited,
            ["VALID", "VALID", "RATE_LIMITED", "RATE_LIMITED"]
        );
        assert_eq!(kept_own, ["VALID"; 4], "its own 5/minute, not the role's 2");
        // The role's change is in the audit log in the console's words.
        let events = expect(
            &api.get(&format!("/audit-events?object=role&id={}", s.role))
                .await,
            StatusCode::OK,
        );
        assert!(
            events.to_string().contains("Default rate limits"),
            "{events}"
        );
        // A role page with a bad limit keeps what was typed and says why.
        let page = app
            .post_form(
                &format!("/roles/{}", s.role),
                &[
                    ("name", "Readers"),
                    ("description", "kept"),
                    ("is_active", "true"),
                    ("rate_limits", "2/minute\n5/fortnight"),
                ],
            )
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        let error = field_error(&page, "rate_limits").expect("no error next to the field");
        assert!(error.contains("“5/fortnight”"), "{error}");
        assert_eq!(
            textarea_value(&page, "rate_limits").as_deref(),
            Some("2/minute\n5/fortnight")
        );
        assert_eq!(
            textarea_value(&page, "description").as_deref(),
            Some("kept")
        );
    }
);

storage_test!(
    bad_limits_are_refused_next_to_their_fields_and_nothing_is_saved,
    |app| async move {
        let s = setup(&app).await;
        let page = save_limits(&app, &s, "100/minute\n100/fortnight", "lots", "never").await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        let error = field_error(&page, "rate_limits").expect("no error next to the rate limits");
        assert!(
            error.contains("“100/fortnight”: the window must be"),
            "{error}"
        );
        let error = field_error(&page, "quota_total").expect("no error next to the quota");
        assert!(error.contains("whole number"), "{error}");
        assert_eq!(
            textarea_value(&page, "rate_limits").as_deref(),
            Some("100/minute\n100/fortnight"),
            "what was typed is shown again"
        );
        assert_eq!(page.input_value("quota_total").as_deref(), Some("lots"));
        assert_eq!(
            textarea_value(&page, "description").as_deref(),
            Some("the phone app")
        );
        let page = save_limits(&app, &s, "1/minute\n2/60s", "5", "never").await;
        let error = field_error(&page, "rate_limits").expect("no error for two limits of a window");
        assert!(error.contains("Two limits for the same window"), "{error}");
        assert_eq!(
            app.stored_app(s.app_id).description,
            "",
            "nothing was saved"
        );

        let api = Api::for_app(&app, "write").await;
        for (body, field, says) in [
            (
                json!({"rate_limits": [{"limit": 0, "window_seconds": 60}]}),
                "rate_limits",
                "A limit is 1 to 1,000,000,000 requests",
            ),
            (
                json!({"rate_limits": [{"limit": 5, "window_seconds": 9_999_999}]}),
                "rate_limits",
                "A window is 1 second to 31 days",
            ),
            (
                json!({"rate_limits": [{"limit": 5, "window_seconds": 60}, {"limit": 6, "window_seconds": 60}]}),
                "rate_limits",
                "Two limits for the same window",
            ),
            (
                json!({"quota": {"total": -3}}),
                "quota.total",
                "A quota is 1 to",
            ),
        ] {
            let (context, _) = expect_error(
                &api.patch(&format!("/apps/{}", s.app_id), &body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
            let message = context[field][0].as_str().unwrap_or_default();
            assert!(message.contains(says), "{body}: {context}");
        }
        let (_, message) = expect_error(
            &api.patch(
                &format!("/apps/{}", s.app_id),
                &json!({"quota": {"total": 5, "refill": "weekly"}}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        );
        assert!(message.contains("weekly"), "{message}");
        let unchanged = expect(
            &api.get(&format!("/apps/{}", s.app_id)).await,
            StatusCode::OK,
        );
        assert_eq!(unchanged["rate_limits"], json!([]));
        assert_eq!(unchanged["quota"], Value::Null);
        let answer = verify(&app, &contacts_get(&s.key)).await;
        assert_eq!(code(&answer), "VALID", "{answer}");
    }
);

storage_test!(
    limits_set_on_the_page_and_the_api_are_audited,
    |app| async move {
        let s = setup(&app).await;
        let saved = save_limits(&app, &s, "100/minute", "10,000", "monthly").await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        let api = Api::for_app(&app, "write").await;
        let created = expect(
            &api.post(
                "/apps",
                &json!({"name": "Batch job", "role_id": s.role,
                    "rate_limits": [{"limit": 10000, "window_seconds": 86400},
                                    {"limit": 100, "window_seconds": 60}],
                    "quota": {"total": 50000, "refill": "daily"}}),
            )
            .await,
            StatusCode::CREATED,
        );
        assert_eq!(
            created["rate_limits"],
            json!([{"limit": 100, "window_seconds": 60}, {"limit": 10000, "window_seconds": 86400}]),
            "in window order"
        );
        assert_eq!(created["quota"]["total"], json!(50000));
        assert_eq!(created["quota"]["refill"], json!("daily"));
        let audit = page_text(&app, &format!("/audit?object=app&id={}", s.app_id)).await;
        for said in [
            "Rate limits",
            "100 per minute",
            "Quota",
            "10,000 requests a month",
        ] {
            assert!(
                audit.contains(said),
                "the audit page says {said:?}: {audit}"
            );
        }
        let page = app.get(&format!("/api-keys/{}", s.app_id)).await;
        assert!(text_of(&page.body).contains("Quota: 10,000 of 10,000 requests left this month"));
    }
);
