//! Changes drop only what they make stale. Creating keys and changing another
//! app or another role leave a key cached on a second instance (its cache
//! counters on `/metrics` show hits and no miss), while a change to the key's
//! own app, its role or its service is honoured there within a second. And a
//! key that comes to exist after it was presented as unknown (an import) is
//! found within a second once its writer says so. The second instance's
//! `/metrics` shows how far it has read the change log.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{FRESH, code, contacts_get, setup};
use crate::harness::{Peer, Scrape, TestApp, eventually};

/// The peer's key cache hits and misses so far.
async fn cache_counts(peer: &Peer) -> (u64, u64) {
    let scrape = Scrape::of_peer(peer).await;
    (
        scrape.value("keyward_verify_cache_hits_total", &[]) as u64,
        scrape.value("keyward_verify_cache_misses_total", &[]) as u64,
    )
}

/// Presents `body` to the peer for a few of its polls, so it is surely
/// cached there, expecting `expected` every time.
async fn cached_on(peer: &Peer, body: &Value, expected: &str) {
    let until = Instant::now() + keyward::verify::POLL_INTERVAL * 3;
    while Instant::now() < until {
        let answer = peer.verify(body).await;
        assert_eq!(code(&answer), expected, "{answer}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Asserts that the peer answers `body` with `expected` within a second of
/// `change`, which has just been made on the first instance.
async fn peer_honours(peer: &Peer, body: &Value, expected: &str, change: &str) {
    let changed = Instant::now();
    let answer = eventually(
        FRESH * 5,
        &format!("the peer to answer {expected} after {change}"),
        || async {
            let answer = peer.verify(body).await;
            (code(&answer) == expected).then_some(answer)
        },
    )
    .await;
    let took = changed.elapsed();
    assert!(
        took <= FRESH,
        "the peer answered {expected} {took:?} after {change}; the promise is one second: {answer}"
    );
}

/// Saves role `id` as "Readers" with its Active box as given.
async fn save_role(app: &TestApp, id: i32, name: &str, active: bool) {
    let mut fields = vec![("name", name), ("description", "")];
    if active {
        fields.push(("is_active", "true"));
    }
    app.post_form(&format!("/roles/{id}"), &fields)
        .await
        .assert_redirects_to(&format!("/roles/{id}"));
}

storage_test!(
    a_change_elsewhere_leaves_a_cached_key_cached,
    |app| async move {
        let s = setup(&app).await;
        let peer = app.start_peer().await;
        let body = contacts_get(&s.key);
        let writers = app.create_role("Writers").await;
        app.add_rule(writers, Some(s.db), "*", &["GET"]).await;
        let (other_id, other_key) = app.create_key("Other app", Some(writers)).await;
        let other = contacts_get(&other_key);
        cached_on(&peer, &body, "VALID").await;
        cached_on(&peer, &other, "VALID").await;

        // Changes that touch neither the key, nor its app, role or service.
        for n in 0..3 {
            app.create_key(&format!("New app {n}"), Some(s.role)).await;
        }
        save_role(&app, writers, "Writers and more", true).await;
        app.add_rule(writers, Some(s.db), "_table/*", &["POST"])
            .await;
        // Last, so that once the peer refuses the other key it has applied
        // all of them (it applies changes in the order they were made).
        app.set_key_active(other_id, false).await;
        peer_honours(&peer, &other, "INACTIVE", "deactivating another app").await;

        let (hits, misses) = cache_counts(&peer).await;
        for _ in 0..10 {
            let answer = peer.verify(&body).await;
            assert_eq!(code(&answer), "VALID", "{answer}");
        }
        let (hits_after, misses_after) = cache_counts(&peer).await;
        assert_eq!(
            (hits_after - hits, misses_after - misses),
            (10, 0),
            "new keys and changes to another app and role dropped the cached key"
        );

        // A change to its own app, its role or its service is honoured.
        app.set_key_active(s.app_id, false).await;
        peer_honours(&peer, &body, "INACTIVE", "deactivating its app").await;
        app.set_key_active(s.app_id, true).await;
        peer_honours(&peer, &body, "VALID", "activating its app again").await;
        cached_on(&peer, &body, "VALID").await;

        save_role(&app, s.role, "Readers", false).await;
        peer_honours(&peer, &body, "ROLE_INACTIVE", "deactivating its role").await;
        save_role(&app, s.role, "Readers", true).await;
        peer_honours(&peer, &body, "VALID", "activating its role again").await;
        cached_on(&peer, &body, "VALID").await;

        app.post_form(
            &format!("/services/{}", s.db),
            &[
                ("name", "db"),
                ("label", "The db service"),
                ("description", ""),
                ("kind", "api"),
            ],
        )
        .await
        .assert_redirects_to("/services");
        peer_honours(&peer, &body, "FORBIDDEN", "deactivating its service").await;
    }
);

storage_test!(
    a_rolled_key_stops_on_a_second_instance_within_a_second,
    |app| async move {
        let s = setup(&app).await;
        let peer = app.start_peer().await;
        let body = contacts_get(&s.key);
        cached_on(&peer, &body, "VALID").await;
        // No grace period: the old key stops at once.
        let rolled = app
            .post_form(&format!("/api-keys/{}/roll", s.app_id), &[("grace", "now")])
            .await;
        assert!(
            rolled.status.is_redirection(),
            "{}: {}",
            rolled.status,
            rolled.body
        );
        peer_honours(&peer, &body, "NOT_FOUND", "rolling its key").await;
    }
);

storage_test!(
    a_key_that_comes_to_exist_is_found_within_a_second,
    |app| async move {
        use keyward::apps::domain::{ApiKey, AppName, NewApp};
        let s = setup(&app).await;
        let peer = app.start_peer().await;
        // A client presents a key before it is imported: cached as unknown.
        let key = ApiKey::generate();
        let body = contacts_get(key.expose());
        cached_on(&peer, &body, "NOT_FOUND").await;
        let (hits, misses) = cache_counts(&peer).await;
        assert_eq!(code(&peer.verify(&body).await), "NOT_FOUND");
        assert_eq!(cache_counts(&peer).await, (hits + 1, misses), "cached");

        // Written as an import would write it, saying the key now exists.
        {
            use diesel::Connection;
            let mut conn = app.pool.get().unwrap();
            let actor = keyward::db::audit::Actor::local(None, "an import");
            let now = chrono::Utc::now().naive_utc();
            conn.transaction(|conn| {
                let new = NewApp {
                    role_id: Some(s.role),
                    ..NewApp::plain(AppName::parse("Imported app").unwrap(), String::new(), true)
                };
                keyward::apps::queries::write::insert(conn, &new, &key, &actor, now)
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                keyward::db::changes::key_exists(conn, &key.hash())?;
                Ok::<_, anyhow::Error>(())
            })
            .expect("the import failed");
        }
        peer_honours(&peer, &body, "VALID", "importing the key").await;
    }
);

storage_test!(
    a_peer_shows_how_far_it_has_read_the_change_log,
    |app| async move {
        let s = setup(&app).await;
        let peer = app.start_peer().await;
        let position = || async {
            Scrape::of_peer(&peer)
                .await
                .value("keyward_verify_change_log_position", &[]) as i64
        };
        let before = app.newest_change();
        eventually(
            FRESH * 5,
            "the peer to start from the log's end",
            || async { (position().await == before).then_some(()) },
        )
        .await;

        app.set_key_active(s.app_id, false).await;
        let changed = Instant::now();
        let after = app.newest_change();
        assert!(after > before, "deactivating an app wrote no change");
        eventually(FRESH * 5, "the peer to read the change", || async {
            (position().await == after).then_some(())
        })
        .await;
        let took = changed.elapsed();
        assert!(
            took <= FRESH,
            "the peer's metrics showed the change read {took:?} after it; the promise is one second"
        );
    }
);
