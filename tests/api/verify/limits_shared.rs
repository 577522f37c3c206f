//! Limits counted by more than one keyward, or by one that stops: two
//! instances on one PostgreSQL sharing a key's rate limit within the bound
//! the limiter documents (and never refusing under the limit), a quota that
//! survives a graceful restart exactly and a SIGKILL of the real binary
//! within a batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use keyward::schema::limit_counters;
use keyward::verify::verifier::limiter::batch;

use super::limits::{save_limits, start, verify};
use super::{FRESH, code, contacts_get, setup};
use crate::harness::{
    Backend, KeywardProcess, StatusCode, TestApp, TestDb, api_client, eventually, verify_at,
};

/// Sends `count` verifications of `key` from `clients` clients at once, each
/// request to the next of `addresses`; returns how many were VALID. Any
/// answer but VALID or RATE_LIMITED fails the test.
async fn hammer(addresses: &[String], key: &str, count: usize, clients: usize) -> usize {
    let sent = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (sent, addresses, key) = (sent.clone(), addresses.to_vec(), key.to_owned());
        tasks.spawn(async move {
            let client = api_client();
            let mut valid = 0;
            loop {
                let n = sent.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return valid;
                }
                let address = &addresses[n % addresses.len()];
                let answer = verify_at(&client, address, &contacts_get(&key)).await;
                match code(&answer) {
                    "VALID" => valid += 1,
                    "RATE_LIMITED" => {}
                    other => panic!("unexpected {other}: {answer}"),
                }
            }
        });
    }
    let mut valid = 0;
    while let Some(done) = tasks.join_next().await {
        valid += done.expect("a client failed");
    }
    valid
}

/// What the database holds for the key's quota (never refilled).
fn stored_quota_count(app: &TestApp, app_id: i32) -> i64 {
    let mut conn = app.pool.get().expect("no connection");
    limit_counters::table
        .find((app_id, 0, 0i64))
        .select(limit_counters::count)
        .first(&mut conn)
        .optional()
        .expect("cannot read the counts")
        .unwrap_or(0)
}

#[tokio::test]
async fn two_instances_on_postgresql_share_a_limit_within_the_documented_bound() {
    let Some(db) = TestDb::new(Backend::Postgres) else {
        return;
    };
    // Both instances share the test's clock: one window throughout.
    let (app, _clock) = start(db).await;
    let s = setup(&app).await;
    let saved = save_limits(&app, &s, "200/minute", "", "never").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let peer = app.start_peer().await;
    let addresses = [app.address.clone(), peer.address.clone()];
    // Under the limit nothing is refused, with both instances counting at once.
    let under = hammer(&addresses, &s.key, 199, 8).await;
    assert_eq!(under, 199, "refused while under the limit");
    // Far past it: the overshoot stays within what the limiter documents,
    // N + (instances − 1) × batch, and within the 10% plus a batch promised.
    let over = hammer(&addresses, &s.key, 800, 8).await;
    let admitted = under + over;
    eprintln!("two instances admitted {admitted} of 999 in a window of 200");
    let documented = 200 + batch(200) as usize;
    assert!(
        (200..=documented).contains(&admitted),
        "{admitted} admitted in a window of 200 (documented bound {documented})"
    );
    assert!(admitted <= 200 * 11 / 10 + batch(200) as usize);
    // Each instance, asked again, knows the window is full.
    for address in &addresses {
        let answer = verify_at(&api_client(), address, &contacts_get(&s.key)).await;
        assert_eq!(code(&answer), "RATE_LIMITED", "{address}: {answer}");
    }
}

each_backend!(a_graceful_restart_loses_no_count, |db| async move {
    let (mut app, _clock) = start(db).await;
    let s = setup(&app).await;
    let saved = save_limits(&app, &s, "", "5", "never").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    for _ in 0..3 {
        assert_eq!(code(&verify(&app, &contacts_get(&s.key)).await), "VALID");
    }
    // Stopped at once, as SIGTERM stops it: what was counted is written first.
    app.restart().await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(code(&verify(&app, &contacts_get(&s.key)).await).to_owned());
    }
    assert_eq!(codes, ["VALID", "VALID", "USAGE_EXCEEDED"]);
});

each_backend!(a_quota_survives_a_sigkill_within_a_batch, |db| async move {
    let app = TestApp::start(db, |_| {}).await;
    let s = setup(&app).await;
    let saved = save_limits(&app, &s, "", "50", "never").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let client = api_client();
    let spend = |process: &KeywardProcess| {
        let (client, address, key) = (client.clone(), process.address.clone(), s.key.clone());
        async move { verify_at(&client, &address, &contacts_get(&key)).await }
    };
    // Twenty spent and written (four times a second), then a SIGKILL: the
    // next process goes on from twenty exactly.
    let mut first = KeywardProcess::start(&app.db.url, &[]).await;
    for _ in 0..20 {
        assert_eq!(code(&spend(&first).await), "VALID");
    }
    eventually(FRESH, "the counts to be written", || async {
        (stored_quota_count(&app, s.app_id) == 20).then_some(())
    })
    .await;
    first.kill();
    let mut second = KeywardProcess::start(&app.db.url, &[]).await;
    let answer = spend(&second).await;
    assert_eq!(
        answer["quota"]["remaining"],
        serde_json::json!(29),
        "{answer}"
    );
    // Nine more, and killed at once: at most the unwritten part of a batch
    // is lost, so at most 50 + a batch are ever admitted, and never fewer
    // than 50.
    for _ in 0..9 {
        assert_eq!(code(&spend(&second).await), "VALID");
    }
    second.kill();
    let third = KeywardProcess::start(&app.db.url, &[]).await;
    let mut after = 0;
    loop {
        let answer = spend(&third).await;
        match code(&answer) {
            "VALID" => after += 1,
            "USAGE_EXCEEDED" => break,
            other => panic!("unexpected {other}: {answer}"),
        }
        assert!(after <= 50, "the quota is not held");
    }
    let admitted = 30 + after;
    assert!(
        (50..=50 + batch(50) as usize).contains(&admitted),
        "{admitted} admitted on a quota of 50 across a SIGKILL"
    );
});
