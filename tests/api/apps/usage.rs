//! How keys are used, on both backends and with a clock the test moves:
//! known traffic counted exactly per key, hour and outcome (the unknown key
//! toward the global row), across a graceful restart and across two
//! instances; the key page's chart and table saying what the usage API says;
//! retention rolling old hours up into their days, and a year later deleting
//! the days; counts stored by earlier versions counted once after upgrades.

use std::sync::Arc;

use chrono::{NaiveDateTime, TimeDelta};
use keyward::clock::ManualClock;
use serde_json::{Value, json};

use crate::harness::{
    Backend, StatusCode, TestApp, TestDb, api_client, eventually, text_of, verify_at,
};
use crate::management::{Api, expect, expect_error};

const START: &str = "2027-03-01 12:30:00";
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn start(db: TestDb) -> (TestApp, Arc<ManualClock>) {
    let at = NaiveDateTime::parse_from_str(START, "%Y-%m-%d %H:%M:%S").unwrap();
    let clock = Arc::new(ManualClock::at(at));
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| settings.clock = shared).await;
    (app, clock)
}

/// A service `db`, a role allowed GET on it, and a key with the role.
async fn keyed(app: &TestApp) -> (i32, String) {
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    app.create_key("Mobile app", Some(role)).await
}

/// Verifies `key` for `verb` on `db/_table/contacts`; returns the code.
async fn ask(address: &str, key: &str, verb: &str) -> String {
    let body = json!({"key": key, "service": "db", "component": "_table/contacts", "verb": verb});
    verify_at(&api_client(), address, &body).await["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The usage table's rows on the key's page, each as its text.
fn table_rows(page: &str) -> Vec<String> {
    let Some(start) = page.find("<details class=\"usage-table\"") else {
        return Vec::new();
    };
    let table = &page[start..];
    let body = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
    body.split("<tr").skip(1).map(text_of).collect()
}

each_backend!(
    known_traffic_is_counted_exactly_and_charted,
    |db| async move {
        let (mut app, clock) = start(db).await;
        let (id, key) = keyed(&app).await;
        for _ in 0..5 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        for _ in 0..2 {
            assert_eq!(ask(&app.address, &key, "POST").await, "FORBIDDEN");
        }
        // A well-formed key no app has.
        let unknown = keyward::apps::domain::ApiKey::generate()
            .expose()
            .to_owned();
        assert_eq!(ask(&app.address, &unknown, "GET").await, "NOT_FOUND");
        clock.advance(TimeDelta::hours(1));
        for _ in 0..3 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        // Stopped as SIGTERM stops it, and read at once: nothing was lost.
        app.restart().await;
        let api = Api::for_app(&app, "read").await;
        let usage = expect(
            &api.get(&format!(
                "/apps/{id}/usage?from=2027-03-01T12:00:00Z&to=2027-03-01T14:00:00Z"
            ))
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            usage,
            json!({
                "granularity": "hour",
                "from": "2027-03-01T12:00:00Z",
                "to": "2027-03-01T14:00:00Z",
                "buckets": [
                    {"start": "2027-03-01T12:00:00Z", "counts": {"FORBIDDEN": 2, "VALID": 5}},
                    {"start": "2027-03-01T13:00:00Z", "counts": {"VALID": 3}},
                ],
                "totals": {"FORBIDDEN": 2, "VALID": 8},
            })
        );
        // By day, and for everybody: the unknown key is there too.
        let daily = expect(
            &api.get(&format!(
                "/apps/{id}/usage?granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z"
            ))
            .await,
            StatusCode::OK,
        );
        assert_eq!(
            daily["buckets"],
            json!([{"start": "2027-03-01T00:00:00Z", "counts": {"FORBIDDEN": 2, "VALID": 8}}])
        );
        let overview = expect(
            &api.get("/usage?from=2027-03-01T12:00:00Z&to=2027-03-01T14:00:00Z")
                .await,
            StatusCode::OK,
        );
        assert_eq!(
            overview["totals"],
            json!({"FORBIDDEN": 2, "NOT_FOUND": 1, "VALID": 8})
        );

        // The key's page charts the same numbers: the last 24 hours by default.
        let page = app.get(&format!("/api-keys/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let text = text_of(&page.body);
        assert!(text.contains("Requests in the last 24 hours"), "{text}");
        assert!(
            text.contains("10 requests: 8 VALID, 2 FORBIDDEN."),
            "{text}"
        );
        assert_eq!(
            table_rows(&page.body),
            ["2027-03-01 13:00 3 0 3", "2027-03-01 12:00 5 2 7"],
            "the table beside the chart, latest first: hour, VALID, FORBIDDEN, total"
        );
        // One bar segment per bucket and code, each titled with its number.
        for title in [
            "03-01 12:00: 5 VALID",
            "03-01 12:00: 2 FORBIDDEN",
            "03-01 13:00: 3 VALID",
        ] {
            assert!(
                page.body.contains(&format!("<title>{title}</title>")),
                "no bar {title:?}"
            );
        }
        assert_eq!(page.body.matches("<rect x=").count(), 3);
        // A page drawn once is drawn again as soon as its numbers change.
        assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        let redrawn = eventually(
            std::time::Duration::from_secs(5),
            "the new request on the key's page",
            || async {
                let page = app.get(&format!("/api-keys/{id}")).await;
                text_of(&page.body)
                    .contains("11 requests: 9 VALID, 2 FORBIDDEN.")
                    .then_some(page.body)
            },
        )
        .await;
        assert_eq!(
            table_rows(&redrawn),
            ["2027-03-01 13:00 4 0 4", "2027-03-01 12:00 5 2 7"]
        );
        assert!(redrawn.contains("<title>03-01 13:00: 4 VALID</title>"));
        // The 30 days, by day.
        let month = app.get(&format!("/api-keys/{id}?usage=30d")).await;
        assert!(text_of(&month.body).contains("Requests in the last 30 days"));
        assert_eq!(table_rows(&month.body), ["2027-03-01 9 2 11"]);
        // A key with no requests says so.
        let (quiet, _) = app.create_key("Quiet app", None).await;
        let page = app.get(&format!("/api-keys/{quiet}?usage=7d")).await;
        assert!(text_of(&page.body).contains("No requests in the last 7 days."));

        // What the API refuses, in DreamFactory's words.
        for (query, says) in [
            ("granularity=week", "week"),
            (
                "from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z",
                "to must be later than from",
            ),
            (
                "from=2027-01-01T00:00:00Z&to=2027-03-01T00:00:00Z",
                "At most 744 buckets",
            ),
            ("from=yesterday", "from: Enter a time like"),
        ] {
            let (_, message) = expect_error(
                &api.get(&format!("/apps/{id}/usage?{query}")).await,
                StatusCode::BAD_REQUEST,
            );
            assert!(message.contains(says), "{query}: {message}");
        }
        expect_error(&api.get("/apps/999999/usage").await, StatusCode::NOT_FOUND);
    }
);

#[tokio::test]
async fn two_instances_add_up_exactly() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    let (app, _clock) = start(db).await;
    let (id, key) = keyed(&app).await;
    let peer = app.start_peer().await;
    for _ in 0..4 {
        assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        assert_eq!(ask(&peer.address, &key, "GET").await, "VALID");
        assert_eq!(ask(&peer.address, &key, "DELETE").await, "FORBIDDEN");
    }
    let api = Api::for_app(&app, "read").await;
    // Each instance writes its own counts every second.
    let totals = eventually(
        std::time::Duration::from_secs(5),
        "both instances' counts",
        || async {
            let usage = expect(&api.get(&format!("/apps/{id}/usage")).await, StatusCode::OK);
            (usage["totals"] == json!({"FORBIDDEN": 4, "VALID": 8}))
                .then_some(usage["totals"].clone())
        },
    )
    .await;
    assert_eq!(totals, json!({"FORBIDDEN": 4, "VALID": 8}));
}

each_backend!(
    old_hours_are_deleted_and_their_days_kept_a_year,
    |db| async move {
        let (mut app, clock) = start(db).await;
        let (id, key) = keyed(&app).await;
        for _ in 0..3 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        clock.advance(TimeDelta::hours(2));
        assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        app.restart().await;
        let api = Api::for_app(&app, "read").await;
        let hours = "/usage?from=2027-03-01T12:00:00Z&to=2027-03-01T15:00:00Z";
        let daily = "/usage?granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z";
        let hourly_counts = |usage: &Value| {
            usage["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["counts"]["VALID"].as_u64().unwrap_or(0))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            hourly_counts(&expect(&api.get(hours).await, StatusCode::OK)),
            [3, 0, 1]
        );

        // 91 days on, a restart runs retention at once: the hours are gone, their
        // day keeps them.
        clock.advance(TimeDelta::days(91));
        app.restart().await;
        let api = Api::new(&app.address, &api.token);
        eventually(
            std::time::Duration::from_secs(5),
            "the hours to be deleted",
            || async {
                let usage = expect(&api.get(hours).await, StatusCode::OK);
                (hourly_counts(&usage) == [0, 0, 0]).then_some(())
            },
        )
        .await;
        let day = expect(&api.get(daily).await, StatusCode::OK);
        assert_eq!(
            day["totals"],
            json!({"VALID": 4}),
            "the day keeps every request"
        );
        let app_day = expect(
            &api.get(&format!(
                "/apps/{id}/usage?granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z"
            ))
            .await,
            StatusCode::OK,
        );
        assert_eq!(app_day["totals"], json!({"VALID": 4}));

        // A year on, the day is gone too.
        clock.advance(TimeDelta::days(366));
        app.restart().await;
        let api = Api::new(&app.address, &api.token);
        eventually(
            std::time::Duration::from_secs(5),
            "the day to be deleted",
            || async {
                let usage = expect(&api.get(daily).await, StatusCode::OK);
                (usage["totals"] == json!({})).then_some(())
            },
        )
        .await;
    }
);

/// The SQLite table of counts became a clustered one (migration 000019):
/// counts written before the upgrade are all there after it.
#[tokio::test]
async fn counts_written_before_the_clustered_table_are_kept() {
    let Some(db) = TestDb::new(Backend::Sqlite) else {
        return;
    };
    let (mut app, _clock) = start(db).await;
    let (id, key) = keyed(&app).await;
    for _ in 0..3 {
        assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
    }
    assert_eq!(ask(&app.address, &key, "PUT").await, "FORBIDDEN");
    app.restart().await;
    // Back to the table as it was before the migration, counts and all.
    {
        use diesel::connection::SimpleConnection;
        let mut conn = app.pool.get().unwrap();
        conn.batch_execute(include_str!(
            "../../../migrations/sqlite/2026-12-01-000019_usage_clustered/down.sql"
        ))
        .unwrap();
        conn.batch_execute(
            "DELETE FROM __diesel_schema_migrations WHERE version = '20261201000019'",
        )
        .unwrap();
    }
    // Starting migrates it again.
    app.restart().await;
    #[derive(diesel::QueryableByName)]
    struct Sql {
        #[diesel(sql_type = diesel::sql_types::Text)]
        sql: String,
    }
    let table: Sql = {
        use diesel::RunQueryDsl;
        let mut conn = app.pool.get().unwrap();
        diesel::sql_query("SELECT sql FROM sqlite_master WHERE name = 'usage_counts'")
            .get_result(&mut *conn)
            .unwrap()
    };
    assert!(table.sql.contains("WITHOUT ROWID"), "{}", table.sql);
    let api = Api::for_app(&app, "read").await;
    let usage = expect(
        &api.get(&format!(
            "/apps/{id}/usage?from=2027-03-01T12:00:00Z&to=2027-03-01T13:00:00Z"
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(usage["totals"], json!({"FORBIDDEN": 1, "VALID": 3}));
    let daily = expect(
        &api.get(&format!(
            "/apps/{id}/usage?granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z"
        ))
        .await,
        StatusCode::OK,
    );
    assert_eq!(daily["totals"], json!({"FORBIDDEN": 1, "VALID": 3}));
}

// Hours became rolled up into their days when over (migration 000020),
// where every count went to its day at once before: after the upgrade each
// request is counted once in its day, and a day whose hours retention had
// deleted keeps them.
each_backend!(
    days_written_before_hours_were_rolled_up_count_each_request_once,
    |db| async move {
        let (mut app, clock) = start(db).await;
        let (id, key) = keyed(&app).await;
        for _ in 0..3 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        assert_eq!(ask(&app.address, &key, "PUT").await, "FORBIDDEN");
        clock.advance(TimeDelta::hours(1));
        for _ in 0..2 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        app.restart().await;
        // The rows as the version before wrote them: every day's row holding
        // all of its counts (and no roll-up); the old retention deleted the
        // first hour.
        {
            use diesel::connection::SimpleConnection;
            let down = match app.backend() {
                Backend::Sqlite => include_str!(
                    "../../../migrations/sqlite/2026-12-02-000020_usage_rollup/down.sql"
                ),
                Backend::Postgres => include_str!(
                    "../../../migrations/postgres/2026-12-02-000020_usage_rollup/down.sql"
                ),
            };
            let mut conn = app.pool.get().unwrap();
            conn.batch_execute(down).unwrap();
            conn.batch_execute(
                "DELETE FROM __diesel_schema_migrations WHERE version = '20261202000020';
                 DELETE FROM usage_counts WHERE bucket_seconds = 3600
                     AND bucket_start = 1803902400",
            )
            .unwrap();
        }
        // Starting migrates it again.
        app.restart().await;
        let api = Api::for_app(&app, "read").await;
        let day = "granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z";
        let hours = "from=2027-03-01T12:00:00Z&to=2027-03-01T14:00:00Z";
        for whose in [format!("/apps/{id}/usage"), "/usage".to_owned()] {
            let daily = expect(&api.get(&format!("{whose}?{day}")).await, StatusCode::OK);
            assert_eq!(
                daily["totals"],
                json!({"FORBIDDEN": 1, "VALID": 5}),
                "{whose}: each request once"
            );
            let hourly = expect(&api.get(&format!("{whose}?{hours}")).await, StatusCode::OK);
            assert_eq!(
                hourly["totals"],
                json!({"VALID": 2}),
                "{whose}: the hour kept"
            );
        }
    }
);

// Finished hours are rolled up into their days as keyward goes; counts that
// come late for an hour already rolled up (kept through an outage, say)
// reach its day too, and no roll-up counts anything twice.
each_backend!(
    hours_rolled_up_into_days_count_each_request_once,
    |db| async move {
        let (app, clock) = start(db).await;
        let (id, key) = keyed(&app).await;
        for _ in 0..3 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        clock.advance(TimeDelta::hours(1));
        for _ in 0..2 {
            assert_eq!(ask(&app.address, &key, "GET").await, "VALID");
        }
        let rolled_past = |hour: &'static str| {
            let pool = app.pool.clone();
            async move {
                use diesel::prelude::*;
                use keyward::schema::usage_rollup;
                let hour = chrono::DateTime::parse_from_rfc3339(hour)
                    .unwrap()
                    .timestamp();
                let mut conn = pool.get().ok()?;
                let rolled: i64 = usage_rollup::table
                    .select(usage_rollup::hour)
                    .first(&mut *conn)
                    .ok()?;
                (rolled > hour).then_some(())
            }
        };
        eventually(WAIT, "12:00 to be rolled up", || {
            rolled_past("2027-03-01T12:00:00Z")
        })
        .await;
        let api = Api::for_app(&app, "read").await;
        let day = "granularity=day&from=2027-03-01T00:00:00Z&to=2027-03-02T00:00:00Z";
        let noon = "from=2027-03-01T12:00:00Z&to=2027-03-01T13:00:00Z";
        let totals = |path: String| {
            let api = &api;
            async move { expect(&api.get(&path).await, StatusCode::OK)["totals"].clone() }
        };
        // The rolled hour and the current one (its counts written within a
        // second).
        for whose in [format!("/apps/{id}/usage"), "/usage".to_owned()] {
            eventually(WAIT, "the day's five requests", || async {
                (totals(format!("{whose}?{day}")).await == json!({"VALID": 5})).then_some(())
            })
            .await;
        }

        // Four counts of noon come late, as an instance that kept them
        // through an outage writes them.
        {
            let mut conn = app.pool.get().unwrap();
            let noon = 1_803_902_400;
            keyward::usage::queries::add(
                &mut conn,
                &[
                    ((id, noon, "VALID"), 4),
                    ((keyward::usage::ALL, noon, "VALID"), 4),
                ],
            )
            .unwrap();
        }
        // Past midnight the day's other hour is rolled up too.
        clock.advance(TimeDelta::hours(11));
        eventually(WAIT, "13:00 to be rolled up", || {
            rolled_past("2027-03-01T13:00:00Z")
        })
        .await;
        for whose in [format!("/apps/{id}/usage"), "/usage".to_owned()] {
            assert_eq!(
                totals(format!("{whose}?{noon}")).await,
                json!({"VALID": 7}),
                "{whose}: noon's hour"
            );
            assert_eq!(
                totals(format!("{whose}?{day}")).await,
                json!({"VALID": 9}),
                "{whose}: each request once in its day"
            );
        }
    }
);
