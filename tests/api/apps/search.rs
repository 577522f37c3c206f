//! The API Keys list's search against a brute-force substring filter over
//! the stored apps: short and long, mixed case, non-ASCII, LIKE's wildcards,
//! quotes and FTS5's syntax, on every page both ways, with the status filter
//! and each sort; and the search index following creates, edits and deletes.

use chrono::Duration;
use diesel::Connection;

use super::list::{list, names, pager_link};
use super::{Seed, add_app, add_named, at};
use crate::harness::{StatusCode, TestApp, query};

/// The case rule of the search: a substring of the name or the description,
/// ignoring the case of the ASCII letters A–Z and of nothing else.
fn holds(text: &str, q: &str) -> bool {
    text.to_ascii_lowercase().contains(&q.to_ascii_lowercase())
}

/// Walks the list from its first page by Next links to the last, then back
/// by Previous links to the first, checking that each page says truly
/// whether another comes before and after it. Returns the names in order.
async fn walk(app: &TestApp, query_string: &str) -> Vec<String> {
    let mut page = list(app, query_string).await;
    assert_eq!(
        pager_link(&page, "prev"),
        None,
        "{query_string}: Previous on page 1"
    );
    let mut pages = vec![names(&page)];
    while let Some(next) = pager_link(&page, "next") {
        assert!(pages.len() < 30, "{query_string}: too many pages");
        page = app.get(&next).await;
        assert_eq!(page.status, StatusCode::OK, "{next}: {}", page.body);
        assert!(pager_link(&page, "prev").is_some(), "{next}: no Previous");
        let shown = names(&page);
        assert!(!shown.is_empty(), "{next}: an empty page after Next");
        pages.push(shown);
    }
    for expected in pages.iter().rev().skip(1) {
        let previous = pager_link(&page, "prev").expect("no Previous link");
        page = app.get(&previous).await;
        assert_eq!(page.status, StatusCode::OK, "{previous}: {}", page.body);
        assert_eq!(&names(&page), expected, "back at {previous}");
        assert!(pager_link(&page, "next").is_some(), "{previous}: no Next");
    }
    assert_eq!(
        pager_link(&page, "prev"),
        None,
        "{query_string}: back on page 1"
    );
    pages.concat()
}

/// Names and descriptions a search must tell apart: ASCII and non-ASCII
/// case, characters LIKE, FTS5 and SQL treat specially, and enough of each
/// common word to fill several pages of ten.
const APPS: &[(&str, &str)] = &[
    ("Äpfel", "Obst aus dem Alten Land"),
    ("äpfel klein", "obst, klein geschrieben"),
    ("ÄPFEL GROSS", "OBST, GROSS GESCHRIEBEN"),
    ("Straße", "mit ß"),
    ("STRASSE", "ohne Eszett"),
    ("Große Straße", "mit ẞ und ß"),
    ("🚀 launcher", "rockets 🚀🚀"),
    ("emoji 😀 only", "😀😀😀"),
    ("50% off", "percent % sign"),
    ("under_score", "a_b_c"),
    ("it's mine", "an apostrophe ' here"),
    ("say \"hi\"", "double \"quotes\""),
    ("C:\\keys\\prod", "back\\slash"),
    ("star*gate", "an * asterisk"),
    ("NEAR(a b)", "col:name ^start -minus AND OR NOT"),
    ("İstanbul", "dotted İ and dotless ı"),
    ("Kelvin K", "sign K, not the letter"),
    ("Σίσυφος", "σίσυφος ς"),
    // Every covering trigram of `sync-prod-0000` (syn, c-p, rod, -00,
    // 000), which the trigram indexes are asked for, held out of order.
    ("sync-prod-0000", "the name searched for"),
    (
        "rod-000 sync-p",
        "holds every trigram asked for, not the name",
    ),
];

storage_test!(
    search_finds_what_a_substring_filter_finds_on_every_page,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        let mut seeds: Vec<(String, String)> = APPS
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect();
        for i in 0..24 {
            let team = ["Mobile", "MOBILE", "mobile", "billing"][i % 4];
            seeds.push((
                format!("key-{i:02} {team}"),
                format!("Used by the {team} team, batch {}", i % 3),
            ));
        }
        for (i, (name, description)) in seeds.iter().enumerate() {
            let created = at("2026-02-01 00:00:00") + Duration::minutes((i * 7 % 11) as i64);
            let last_used =
                (i % 3 != 0).then(|| at("2026-03-01 00:00:00") + Duration::hours((i % 5) as i64));
            add_app(
                &app,
                admin,
                &Seed {
                    name,
                    description,
                    active: i % 4 != 1,
                    created,
                    last_used,
                },
            );
        }
        let stored = app.stored_apps();
        let long = "Used by the mobile team, batch 1";
        let too_long = "a".repeat(300);
        let queries = [
            "a",
            "Ä",
            "ä",
            "ß",
            "ẞ",
            "😀",
            "%",
            "_",
            "'",
            "\"",
            "\\",
            "*",
            "K",
            "St",
            "Äpf",
            "äpf",
            "ÄPFEL",
            "apfel",
            "straße",
            "STRASSE",
            "Straße",
            "GROSS",
            "🚀 la",
            "😀😀",
            "50%",
            "0% o",
            "r_s",
            "_b_",
            "it's",
            "' h",
            "\"hi\"",
            "\"quotes\"",
            "C:\\k",
            "\\pr",
            "k\\s",
            "r*g",
            "NEAR(",
            "col:name",
            "^start",
            "-minus",
            "AND OR",
            "İst",
            "ist",
            "ı a",
            "vin K",
            "ΣΊΣ",
            "σίσ",
            "sync-prod-0000",
            "SYNC-prod-000",
            "mobile",
            "MoBiLe",
            "team",
            "batch 2",
            long,
            "no such thing",
            &too_long,
        ];
        // Each sort and direction with a status filter: the whole list in the
        // database's order, which the brute-force filter then keeps from.
        let orders = [
            ("name", "asc", "all"),
            ("name", "desc", "active"),
            ("created", "desc", "inactive"),
            ("last_used", "asc", "all"),
            ("last_used", "desc", "active"),
        ];
        let mut in_order = Vec::new();
        for (sort, dir, status) in orders {
            let all = names(&list(&app, &format!("sort={sort}&dir={dir}&per_page=100")).await);
            assert_eq!(all.len(), stored.len());
            let shown: Vec<String> = all
                .into_iter()
                .filter(|name| {
                    let app = stored.iter().find(|a| a.name == *name).unwrap();
                    status == "all" || app.is_active == (status == "active")
                })
                .collect();
            in_order.push((format!("sort={sort}&dir={dir}&status={status}"), shown));
        }
        for q in queries {
            let matching = |name: &String| {
                let app = stored.iter().find(|a| a.name == *name).unwrap();
                holds(&app.name, q) || holds(&app.description, q)
            };
            for (order, shown) in &in_order {
                let want: Vec<String> = shown.iter().filter(|n| matching(n)).cloned().collect();
                let query_string = format!("{}&{order}&per_page=10", query(&[("q", q)]));
                assert_eq!(walk(&app, &query_string).await, want, "{query_string}");
            }
        }
    }
);

storage_test!(
    the_search_follows_creates_edits_and_deletes,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        let search = |q: &'static str| {
            let app = &app;
            async move { names(&list(app, &query(&[("q", q)])).await) }
        };
        let (id, _) = app.create_key("Kiosk lobby", None).await;
        assert_eq!(search("lobby").await, ["Kiosk lobby"]);
        assert_eq!(search("osk lo").await, ["Kiosk lobby"]);

        let edit = |name: &'static str, description: &'static str| {
            let app = &app;
            async move {
                let saved = app
                    .post_form(
                        &format!("/api-keys/{id}"),
                        &[
                            ("name", name),
                            ("description", description),
                            ("is_active", "true"),
                            ("location", "0"),
                            ("role_id", ""),
                        ],
                    )
                    .await;
                saved.assert_redirects_to(&format!("/api-keys/{id}"));
            }
        };
        edit("Kiosk foyer", "").await;
        assert_eq!(search("lobby").await, Vec::<String>::new());
        assert_eq!(search("foyer").await, ["Kiosk foyer"]);

        edit("Kiosk foyer", "Stands at the north gate").await;
        assert_eq!(search("north gate").await, ["Kiosk foyer"]);
        edit("Kiosk foyer", "Stands at the south door").await;
        assert_eq!(search("north gate").await, Vec::<String>::new());
        assert_eq!(search("south").await, ["Kiosk foyer"]);

        // Changes that leave the name and description alone leave the search.
        app.set_key_active(id, false).await;
        app.post_form(&format!("/api-keys/{id}/roll"), &[("grace", "1h")])
            .await
            .assert_redirects_to(&format!("/api-keys/{id}/key"));
        assert_eq!(search("foyer").await, ["Kiosk foyer"]);

        add_named(&app, admin, "Foyer screen", "");
        assert_eq!(search("foyer").await, ["Foyer screen", "Kiosk foyer"]);
        let deleted = app.post_form(&format!("/api-keys/{id}/delete"), &[]).await;
        deleted.assert_redirects_to("/api-keys");
        assert_eq!(search("foyer").await, ["Foyer screen"]);
        assert_eq!(search("south").await, Vec::<String>::new());
    }
);

storage_test!(
    a_search_too_many_apps_may_match_walks_and_pages_alike,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        // More apps than the trigram index hands out as candidates (1,000).
        let mut conn = app.pool.get().expect("no database connection");
        conn.transaction(|conn| {
            for i in 0..1_030 {
                let new = keyward::apps::domain::NewApp::plain(
                    keyward::apps::domain::AppName::parse(&format!("bulk-{i:04}")).unwrap(),
                    format!("Imported in batch {}", i % 7),
                    true,
                );
                keyward::apps::queries::write::insert(
                    conn,
                    &new,
                    &keyward::apps::domain::ApiKey::generate(),
                    &keyward::db::audit::Actor::local(Some(admin), "tests/api/apps/search"),
                    at("2026-01-01 00:00:00") + Duration::seconds(i),
                )
                .map(drop)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Ok::<_, anyhow::Error>(())
        })
        .expect("cannot add the apps");
        // Told apart by a sample of the apps: a search nearly every app
        // holds goes to PostgreSQL's planner whole, one held by a few asks
        // the index for its covering trigrams.
        let stats = keyward::apps::queries::search::SearchStats::default();
        let rare = |conn: &mut keyward::db::DbConn, q| {
            keyward::apps::queries::search::rare_trigrams(conn, &stats, q).unwrap()
        };
        assert_eq!(rare(&mut conn, "BULK"), None);
        assert_eq!(
            rare(&mut conn, "batch 3"),
            Some(vec!["bat".into(), "ch ".into(), "h 3".into()])
        );
        drop(conn);
        let all: Vec<String> = (0..1_030).map(|i| format!("bulk-{i:04}")).collect();
        for (q, per_page) in [
            ("BULK", "100"),
            ("batch 3", "50"),
            ("ulk-09", "10"),
            ("k-1", "10"),
        ] {
            let want: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(i, name)| {
                    holds(name, q) || holds(&format!("Imported in batch {}", i % 7), q)
                })
                .map(|(_, name)| name.clone())
                .collect();
            let query_string = format!("{}&per_page={per_page}", query(&[("q", q)]));
            assert_eq!(walk(&app, &query_string).await, want, "{query_string}");
        }
    }
);
