//! A key after it is created: editing, expiry, rolling with a grace period,
//! deleting and duplicating — on SQLite and PostgreSQL, with time moved by a
//! manual clock instead of waited for.
//! What the tests of each step share is here.

mod delete;
mod duplicate;
mod edit;
mod roll;

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use keyward::clock::{Clock, ManualClock};
use serde_json::json;

use crate::harness::{TestApp, TestDb, eventually};

/// keyward on `db` with a clock the test moves; signed in, with an active
/// role `Readers`.
async fn start(db: TestDb) -> (TestApp, Arc<ManualClock>, i32) {
    let clock = Arc::new(ManualClock::default());
    let shared = clock.clone();
    let app = TestApp::start(db, move |settings| {
        settings.clock = shared;
        // The clock moves by days here; the administrator stays signed in.
        settings.session_lifetime = std::time::Duration::from_secs(30 * 24 * 3600);
    })
    .await;
    app.login_as_default_admin().await;
    let role = app.create_role("Readers").await;
    (app, clock, role)
}

async fn code(app: &TestApp, key: &str) -> String {
    app.verify(&json!({ "key": key })).await["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Polls until `key` verifies as `expected` (a change takes up to a second).
async fn eventually_code(app: &TestApp, key: &str, expected: &str) {
    eventually(
        Duration::from_millis(1500),
        &format!("the key to be {expected}"),
        || async { (code(app, key).await == expected).then_some(()) },
    )
    .await;
}

fn expiry_field(clock: &ManualClock, from_now: TimeDelta) -> String {
    (clock.now() + from_now)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}
