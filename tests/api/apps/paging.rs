//! The API Keys list at scale: every column sorts both ways and pages by
//! cursor, the URL holds the whole state of the list, clearing the filters
//! keeps sort and page size, and bad parameters fall back to the defaults.

use chrono::NaiveDateTime;

use super::list::{form_state, list, names, pager_link};
use super::{Seed, add_app, add_named, at};
use crate::harness::{StatusCode, TestApp, html_unescape};

/// Walks the list from its first page by Next links, then back by Previous;
/// returns the names of each page going forward, and checks the way back
/// shows the same pages.
async fn walk_pages(app: &TestApp, query_string: &str) -> Vec<Vec<String>> {
    let mut pages = vec![];
    let mut page = list(app, query_string).await;
    assert_eq!(
        pager_link(&page, "prev"),
        None,
        "a first page with Previous"
    );
    loop {
        pages.push(names(&page));
        let Some(next) = pager_link(&page, "next") else {
            break;
        };
        assert!(pages.len() <= 10, "too many pages for {query_string}");
        page = app.get(&next).await;
        assert_eq!(page.status, StatusCode::OK, "{next}: {}", page.body);
        assert!(pager_link(&page, "prev").is_some(), "no Previous on {next}");
    }
    for expected in pages.iter().rev().skip(1) {
        let previous = pager_link(&page, "prev").expect("no Previous link");
        page = app.get(&previous).await;
        assert_eq!(page.status, StatusCode::OK, "{previous}: {}", page.body);
        assert_eq!(&names(&page), expected, "back at {previous}");
    }
    assert_eq!(
        pager_link(&page, "prev"),
        None,
        "Previous on the first page again"
    );
    pages
}

/// An app `add_25` wrote.
#[derive(Debug, Clone)]
struct Added {
    id: i32,
    name: String,
    active: bool,
    created: NaiveDateTime,
    last_used: Option<NaiveDateTime>,
}

/// 25 apps whose names, creation times and last uses each give another
/// order, with ties in creation and last use (keys imported at once), keys
/// never used and some inactive.
fn add_25(app: &TestApp, admin: i32) -> Vec<Added> {
    let mut added = Vec::new();
    for i in 0..25usize {
        let name = format!("app-{:02}", (i * 7) % 25);
        // Five at a time share a creation time, the later ids created earlier.
        let created = at("2026-03-01 12:00:00.250001") - chrono::Duration::hours((i / 5) as i64);
        let last_used = match i % 5 {
            0 | 3 => None,
            1 => Some(at("2026-04-01 08:30:00.5")),
            _ => Some(at("2026-04-02 00:00:00") + chrono::Duration::minutes((i * 11 % 13) as i64)),
        };
        let active = i % 4 != 3;
        let id = add_app(
            app,
            admin,
            &Seed {
                name: &name,
                description: "Bulk import",
                active,
                created,
                last_used,
            },
        );
        added.push(Added {
            id,
            name,
            active,
            created,
            last_used,
        });
    }
    added
}

storage_test!(
    each_column_sorts_both_ways_and_pages_by_ten,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        let added = add_25(&app, admin);

        let mut by_name = added.clone();
        by_name.sort_by(|a, b| a.name.cmp(&b.name));
        let mut by_created = added.clone();
        by_created.sort_by_key(|a| (a.created, a.id));
        // Never used counts as used before any that were.
        let mut by_last_used = added.clone();
        by_last_used.sort_by_key(|a| (a.last_used, a.id));

        for (sort, ordered) in [
            ("name", by_name),
            ("created", by_created.clone()),
            ("last_used", by_last_used),
        ] {
            for dir in ["asc", "desc"] {
                let mut expected: Vec<String> = ordered.iter().map(|a| a.name.clone()).collect();
                if dir == "desc" {
                    expected.reverse();
                }
                let query_string = format!("sort={sort}&dir={dir}&per_page=10");
                let pages = walk_pages(&app, &query_string).await;
                assert_eq!(
                    pages.iter().map(Vec::len).collect::<Vec<_>>(),
                    [10, 10, 5],
                    "{query_string}"
                );
                assert_eq!(pages.concat(), expected, "{query_string}");

                // All on one page, in the same order; the header says which.
                let page = list(&app, &format!("sort={sort}&dir={dir}")).await;
                assert_eq!(names(&page), expected, "sort={sort}&dir={dir}");
                let direction = if dir == "asc" {
                    "ascending"
                } else {
                    "descending"
                };
                assert_eq!(
                    page.body
                        .matches(&format!("aria-sort=\"{direction}\""))
                        .count(),
                    1,
                    "sort={sort}&dir={dir}"
                );
                assert_eq!(form_state(&page)[2..4], [sort.to_owned(), dir.to_owned()]);
            }
        }

        // A filtered list pages the same way.
        let active: Vec<String> = by_created
            .iter()
            .rev()
            .filter(|a| a.active)
            .map(|a| a.name.clone())
            .collect();
        let pages = walk_pages(&app, "status=active&sort=created&dir=desc&per_page=10").await;
        assert_eq!(pages.concat(), active);
        assert_eq!(pages[0].len(), 10);
    }
);

storage_test!(
    the_url_holds_the_whole_state_of_the_list,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        add_25(&app, admin);
        let first = list(
            &app,
            "q=APP-&status=active&sort=created&dir=desc&per_page=10",
        )
        .await;
        assert_eq!(
            form_state(&first),
            ["APP-", "active", "created", "desc", "10"]
        );
        assert_eq!(names(&first).len(), 10);

        // Next carries every setting and a cursor; the page it opens shows the same settings.
        let next = pager_link(&first, "next").expect("no Next link");
        let (path, params) = next.split_once('?').unwrap();
        assert_eq!(path, "/api-keys");
        let params: Vec<(String, String)> = params
            .split('&')
            .map(|pair| {
                let (name, value) = pair.split_once('=').unwrap();
                (name.to_owned(), value.to_owned())
            })
            .collect();
        let names_only: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names_only,
            ["q", "status", "sort", "dir", "per_page", "after"]
        );
        let second = app.get(&next).await;
        assert_eq!(form_state(&second), form_state(&first));
        let second_names = names(&second);
        assert!(!second_names.is_empty());
        assert!(second_names.iter().all(|n| !names(&first).contains(n)));

        // The state is in the URL, not the session: another browser tab
        // opened on it shows the same page.
        let session = app.session_cookie().expect("not signed in");
        let shared = app.get_with_session_cookie(&next, &session).await;
        assert_eq!(shared.status, StatusCode::OK);
        assert_eq!(names(&shared), second_names);
        assert_eq!(form_state(&shared), form_state(&first));

        // Previous from there is the first page again.
        let previous = pager_link(&second, "prev").expect("no Previous link");
        assert_eq!(names(&app.get(&previous).await), names(&first));
    }
);

storage_test!(
    clearing_the_filters_keeps_sort_and_page_size,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        add_named(&app, admin, "kiosk", "");
        let none = list(
            &app,
            "q=zzz&status=inactive&sort=created&dir=desc&per_page=10",
        )
        .await;
        assert!(names(&none).is_empty());
        let clear = none
            .body
            .split("<h2>No API keys match</h2>")
            .nth(1)
            .unwrap();
        let href = clear.split_once("<a href=\"").unwrap().1;
        let href = html_unescape(&href[..href.find('"').unwrap()]);
        assert_eq!(href, "/api-keys?sort=created&dir=desc&per_page=10");
        let cleared = app.get(&href).await;
        assert_eq!(names(&cleared), ["kiosk"]);
        assert_eq!(form_state(&cleared), ["", "all", "created", "desc", "10"]);
    }
);

storage_test!(
    invalid_parameters_fall_back_to_the_defaults,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        for name in ["bravo", "alpha", "charlie"] {
            add_named(&app, admin, name, "");
        }
        let long = "x".repeat(10_000);
        let bad = [
            "status=ACTIVE".to_owned(),
            "sort=key_hash".to_owned(),
            "sort=name%3B%20DROP%20TABLE%20apps".to_owned(),
            "dir=sideways".to_owned(),
            "per_page=7".to_owned(),
            "per_page=-50".to_owned(),
            "per_page=99999999999999999999".to_owned(),
            "per_page=".to_owned(),
            "after=garbage".to_owned(),
            "after=alpha~notanid".to_owned(),
            "after=~1".to_owned(),
            "before=%00~1".to_owned(),
            "before=alpha~99999999999".to_owned(),
            "q=%00".to_owned(),
            "%FF=1&=2&&&q".to_owned(),
            "sort=name&sort=created".to_owned(),
        ];
        for query_string in &bad {
            let page = list(&app, query_string).await;
            assert_eq!(
                names(&page),
                ["alpha", "bravo", "charlie"],
                "{query_string}"
            );
            assert_eq!(
                form_state(&page)[1..],
                ["all", "name", "asc", "50"],
                "{query_string}"
            );
        }
        // A cursor that does not fit the sort is dropped: the sort's first page.
        for (sort, cursor) in [
            ("created", "after=alpha~1"),
            ("last_used", "before=yesterday~3"),
        ] {
            let first = names(&list(&app, &format!("sort={sort}")).await);
            let page = list(&app, &format!("sort={sort}&{cursor}")).await;
            assert_eq!(names(&page), first, "sort={sort}&{cursor}");
            assert_eq!(pager_link(&page, "prev"), None);
        }
        // Bytes that are not UTF-8 are searched for as U+FFFD.
        assert!(names(&list(&app, "q=%FF%FE").await).is_empty());
        // A search that is too long is cut, and still answered.
        let page = list(&app, &format!("q={long}")).await;
        assert!(names(&page).is_empty());
        assert_eq!(page.input_value("q").unwrap().len(), 255);
        // A cursor of a deleted or unknown app still pages from where it points.
        assert_eq!(
            names(&list(&app, "after=b~999").await),
            ["bravo", "charlie"]
        );
        assert_eq!(
            names(&list(&app, "before=c~999").await),
            ["alpha", "bravo", "charlie"]
        );
    }
);
