//! The API Keys list at scale, over HTTP: search, sort, status filter,
//! pagination by cursor, the state kept in the URL, bad parameters falling
//! back to defaults, and the table fragment htmx swaps in as the admin types.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keyward::apps::domain::{AppLocation, AppName, NewApp};
use keyward::apps::key::ApiKey;
use keyward::schema::apps;

use crate::helpers::{StatusCode, TestApp, TestResponse, html_unescape, query};

// ---- apps written straight to the database ----

/// An app as a test wants it: when it was created and last used.
struct Seed<'a> {
    name: &'a str,
    description: &'a str,
    active: bool,
    created: NaiveDateTime,
    last_used: Option<NaiveDateTime>,
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Writes an app through keyward's own insert, as the Create form does;
/// returns its id.
fn add_app(app: &TestApp, admin_id: i32, seed: &Seed) -> i32 {
    let mut conn = app.pool.get().expect("no database connection");
    let new = NewApp {
        name: AppName::parse(seed.name).unwrap(),
        description: seed.description.to_owned(),
        is_active: seed.active,
        location: AppLocation::NoStorage,
        role_id: None,
        expires_at: None,
    };
    let id = keyward::apps::queries::insert(
        &mut conn,
        &new,
        &ApiKey::generate(),
        &keyward::audit::Actor::local(Some(admin_id), "tests/api/apps_list"),
        seed.created,
    )
    .unwrap_or_else(|e| panic!("cannot add {}: {e}", seed.name));
    diesel::update(apps::table.find(id))
        .set(apps::last_used_at.eq(seed.last_used))
        .execute(&mut *conn)
        .expect("cannot set last use");
    id
}

/// An active app named `name`, created at `created`, never used.
fn add_named(app: &TestApp, admin_id: i32, name: &str, description: &str) -> i32 {
    add_app(
        app,
        admin_id,
        &Seed {
            name,
            description,
            active: true,
            created: at("2026-01-01 00:00:00"),
            last_used: None,
        },
    )
}

// ---- reading the list ----

/// Text of an HTML fragment: tags dropped, entities decoded, white space collapsed.
fn text_of(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    html_unescape(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names of the apps the table shows, top to bottom.
fn names(page: &TestResponse) -> Vec<String> {
    page.body
        .split("<tr id=\"app-")
        .skip(1)
        .map(|row| {
            let cell = row.split("<td").nth(2).expect("a row without a name cell");
            let cell = &cell[cell.find('>').unwrap() + 1..];
            text_of(&cell[..cell.find("</td>").expect("unclosed cell")])
        })
        .collect()
}

/// The href of the pager link `rel` ("next" or "prev"), decoded.
fn pager_link(page: &TestResponse, rel: &str) -> Option<String> {
    let at = page.body.find(&format!(" rel=\"{rel}\""))?;
    let start = page.body[..at].rfind("<a ")?;
    let tag = &page.body[start..at + page.body[at..].find('>')?];
    let href = tag.split_once(" href=\"")?.1;
    Some(html_unescape(&href[..href.find('"')?]))
}

/// The opening tag of the element whose id is `id`.
fn opening_tag<'a>(page: &'a TestResponse, id: &str) -> Option<&'a str> {
    let at = page.body.find(&format!(" id=\"{id}\""))?;
    let start = page.body[..at].rfind('<')?;
    Some(&page.body[start..at + page.body[at..].find('>')? + 1])
}

/// The options of `<select id="id">`: (value, text), and the selected value.
fn select(page: &TestResponse, id: &str) -> (Vec<(String, String)>, Option<String>) {
    let tag = opening_tag(page, id).unwrap_or_else(|| panic!("no #{id}"));
    assert!(tag.starts_with("<select"), "#{id} is not a select");
    let start = page.body.find(tag).unwrap() + tag.len();
    let end = start + page.body[start..].find("</select>").unwrap();
    let mut options = Vec::new();
    let mut selected = None;
    for option in page.body[start..end].split("<option").skip(1) {
        let open = &option[..option.find('>').unwrap()];
        let value = open.split_once("value=\"").unwrap().1;
        let value = html_unescape(&value[..value.find('"').unwrap()]);
        let text = text_of(&option[open.len() + 1..option.find("</option>").unwrap()]);
        if open.split_whitespace().any(|a| a == "selected") {
            assert!(selected.is_none(), "#{id} has two selected options");
            selected = Some(value.clone());
        }
        options.push((value, text));
    }
    (options, selected)
}

/// What the form shows: search, status, sort, order, per page.
fn form_state(page: &TestResponse) -> [String; 5] {
    let chosen = |id| {
        let (options, selected) = select(page, id);
        selected.unwrap_or_else(|| options[0].0.clone())
    };
    [
        page.input_value("q").expect("no search box"),
        chosen("status"),
        chosen("sort"),
        chosen("dir"),
        chosen("per_page"),
    ]
}

/// `GET /api-keys?{query}`, which must answer 200.
async fn list(app: &TestApp, query_string: &str) -> TestResponse {
    let path = if query_string.is_empty() {
        "/api-keys".to_owned()
    } else {
        format!("/api-keys?{query_string}")
    };
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
    page
}

/// The same request as htmx sends it when it swaps in the table.
async fn list_fragment(app: &TestApp, query_string: &str) -> TestResponse {
    let request = app
        .client
        .get(app.url(&format!("/api-keys?{query_string}")))
        .header("HX-Request", "true")
        .header("HX-Request-Type", "partial")
        .header("HX-Target", "div#apps-table");
    let page = app.send(request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page
}

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

// ---- the tests ----

storage_test!(
    the_form_has_labelled_controls_and_works_without_javascript,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        add_named(&app, admin, "kiosk", "");
        let page = list(&app, "").await;
        for (id, label) in [
            ("q", "Search"),
            ("status", "Status"),
            ("sort", "Sort by"),
            ("dir", "Order"),
            ("per_page", "Per page"),
        ] {
            assert!(
                page.body
                    .contains(&format!("<label for=\"{id}\">{label}</label>")),
                "no label {label:?} for #{id}"
            );
        }
        let form_start = page.body.find("<form method=\"get\" action=\"/api-keys\"");
        let form_start = form_start.expect("no GET form to /api-keys");
        let form = &page.body[form_start..];
        let form = &form[..form.find("</form>").unwrap()];
        assert!(
            form.contains("<button type=\"submit\">"),
            "no submit button"
        );
        assert!(form.contains("hx-get=\"/api-keys\""), "{form}");
        assert!(form.contains("hx-push-url=\"true\""), "{form}");
        assert!(form.contains("delay:300ms"), "{form}");
        let (status, _) = select(&page, "status");
        assert_eq!(
            status,
            [
                ("all".into(), "All".into()),
                ("active".into(), "Active".into()),
                ("inactive".into(), "Inactive".into()),
                ("expired".into(), "Expired".into())
            ]
        );
        let (per_page, _) = select(&page, "per_page");
        let per_page: Vec<_> = per_page.into_iter().map(|(value, _)| value).collect();
        assert_eq!(per_page, ["10", "50", "100"]);
        assert_eq!(form_state(&page), ["", "all", "name", "asc", "50"]);
    }
);

storage_test!(
    search_matches_names_and_descriptions_ignoring_case,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        add_named(&app, admin, "mobile app", "Phones and tablets");
        add_named(&app, admin, "billing export", "Used by the MOBILE team");
        add_named(&app, admin, "kiosk", "Lobby screens");
        add_named(&app, admin, "50% off_sale", "Seasonal campaign");
        add_named(&app, admin, "5000 offers", "Plain");

        let search = |q: &'static str| {
            let app = &app;
            async move { names(&list(app, &query(&[("q", q)])).await) }
        };
        assert_eq!(search("mobile").await, ["billing export", "mobile app"]);
        assert_eq!(search("MoBiLe").await, ["billing export", "mobile app"]);
        assert_eq!(search("  lobby ").await, ["kiosk"]);
        // LIKE's wildcards are searched for as themselves.
        assert_eq!(search("%").await, ["50% off_sale"]);
        assert_eq!(search("0_").await, Vec::<String>::new());
        assert_eq!(search("f_s").await, ["50% off_sale"]);
        assert_eq!(search("").await.len(), 5);

        let none = list(&app, &query(&[("q", "nothing like it")])).await;
        assert!(names(&none).is_empty());
        assert!(
            none.body.contains("<h2>No API keys match</h2>"),
            "{}",
            none.body
        );
        assert!(!none.body.contains("No API keys yet"));
        assert!(
            none.body
                .contains("<a href=\"/api-keys\">Clear the filters</a>"),
            "{}",
            none.body
        );
        // The search stays in the box, to be corrected.
        assert_eq!(none.input_value("q").as_deref(), Some("nothing like it"));
    }
);

storage_test!(
    the_status_filter_shows_active_or_inactive_keys,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        let mut ids = Vec::new();
        for (name, active) in [("alpha", true), ("bravo", false), ("charlie", true)] {
            ids.push(add_app(
                &app,
                admin,
                &Seed {
                    name,
                    description: "",
                    active,
                    created: at("2026-01-01 00:00:00"),
                    last_used: None,
                },
            ));
        }
        assert_eq!(
            names(&list(&app, "status=all").await),
            ["alpha", "bravo", "charlie"]
        );
        assert_eq!(
            names(&list(&app, "status=active").await),
            ["alpha", "charlie"]
        );
        let inactive = list(&app, "status=inactive").await;
        assert_eq!(names(&inactive), ["bravo"]);
        assert_eq!(form_state(&inactive)[1], "inactive");
        assert_eq!(
            names(&list(&app, "status=inactive&q=alpha").await),
            Vec::<String>::new()
        );
        // A key turned off from the list leaves the active ones.
        app.set_key_active(ids[0], false).await;
        assert_eq!(names(&list(&app, "status=active").await), ["charlie"]);
        assert_eq!(
            names(&list(&app, "status=inactive").await),
            ["alpha", "bravo"]
        );
    }
);

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

storage_test!(
    htmx_gets_only_the_table_and_history_gets_the_page,
    |app| async move {
        let admin = app.login_as_default_admin().await;
        add_named(&app, admin, "mobile app", "");
        add_named(&app, admin, "kiosk", "");

        let fragment = list_fragment(&app, "q=mob").await;
        assert!(
            fragment
                .body
                .trim_start()
                .starts_with("<div id=\"apps-table\""),
            "{}",
            fragment.body
        );
        assert!(fragment.body.trim_end().ends_with("</div>"));
        assert!(!fragment.body.contains("<html"), "{}", fragment.body);
        assert!(!fragment.body.contains("<form method=\"get\""));
        assert!(!fragment.body.contains("<nav aria-label=\"Main\""));
        assert_eq!(names(&fragment), ["mobile app"]);
        assert!(fragment.header("vary").contains("HX-Request"));
        // The rows keep their Active toggles, with the CSRF token.
        assert!(fragment.body.contains("name=\"csrf_token\""));

        let empty = list_fragment(&app, "q=nothing").await;
        assert!(empty.body.contains("<h2>No API keys match</h2>"));
        assert!(names(&empty).is_empty());

        // The back button after htmx pushed a URL: htmx asks for the whole page.
        let restored = app
            .send(
                app.client
                    .get(app.url("/api-keys?q=mob"))
                    .header("HX-Request", "true")
                    .header("HX-History-Restore-Request", "true")
                    .header("HX-Request-Type", "full"),
            )
            .await;
        assert!(restored.body.contains("<html"), "{}", restored.body);
        assert_eq!(restored.input_value("q").as_deref(), Some("mob"));
        assert_eq!(names(&restored), ["mobile app"]);

        // Without htmx: the page.
        let page = list(&app, "q=mob").await;
        assert!(page.body.contains("<html"));
        assert!(page.body.contains("<div id=\"apps-table\""));
    }
);

storage_test!(
    an_empty_installation_still_invites_the_first_key,
    |app| async move {
        app.login_as_default_admin().await;
        let page = list(&app, "").await;
        assert!(page.body.contains("<h2>No API keys yet</h2>"));
        assert!(!page.body.contains("No API keys match"));
        // Searching an empty installation is a search that matches nothing.
        let page = list(&app, "q=x").await;
        assert!(page.body.contains("<h2>No API keys match</h2>"));
    }
);

// ---- in a browser ----

/// The names the table in the browser shows, top to bottom.
async fn shown_names(browser: &crate::browser::Browser) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('#apps-table tbody tr'))\
                  .map(row => row.cells[1].textContent.trim());";
    let value = browser.client.execute(script, vec![]).await.unwrap();
    serde_json::from_value(value).unwrap()
}

/// True while the page is the one the marker was set on (no full reload).
async fn same_page(browser: &crate::browser::Browser) -> bool {
    let value = browser
        .client
        .execute("return window.keywardListMarker === 'still here';", vec![])
        .await
        .unwrap();
    value == serde_json::Value::Bool(true)
}

/// Waits until the table shows `expected`.
async fn wait_for_names(browser: &crate::browser::Browser, expected: &[&str]) {
    crate::helpers::eventually(
        std::time::Duration::from_secs(15),
        &format!("the table to show {expected:?}"),
        || async { (shown_names(browser).await == expected).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_admin_searches_the_list_as_they_type_and_goes_back() {
    let Some(browser) = crate::browser::Browser::new().await else {
        return;
    };
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .unwrap();
    let admin = app.create_admin(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD);
    for (name, description) in [
        ("billing export", "Used by the mobile team"),
        ("kiosk", "Lobby screens"),
        ("mobile app", "Phones and tablets"),
        ("mobile web", "Browsers on phones"),
    ] {
        add_named(&app, admin, name, description);
    }
    browser
        .login(
            &app,
            crate::helpers::ADMIN_EMAIL,
            crate::helpers::ADMIN_PASSWORD,
        )
        .await;
    browser.goto(&app.url("/api-keys")).await;
    wait_for_names(
        &browser,
        &["billing export", "kiosk", "mobile app", "mobile web"],
    )
    .await;
    browser
        .client
        .execute("window.keywardListMarker = 'still here';", vec![])
        .await
        .unwrap();

    // Typing narrows the table in place, and the URL follows.
    let search = browser.field_by_label("Search").await;
    search.send_keys("mob").await.unwrap();
    wait_for_names(&browser, &["billing export", "mobile app", "mobile web"]).await;
    search.send_keys("ile w").await.unwrap();
    wait_for_names(&browser, &["mobile web"]).await;
    assert!(same_page(&browser).await, "the page was reloaded");
    crate::helpers::eventually(
        std::time::Duration::from_secs(15),
        "the URL to carry the search",
        || async {
            let path = browser.path().await;
            path.contains("q=mobile+w").then_some(path)
        },
    )
    .await;
    let status = browser
        .client
        .execute(
            "return document.getElementById('apps-status').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, serde_json::json!("1 API key shown"));

    // A search that finds nothing says so and offers the way out.
    search.send_keys("xyz").await.unwrap();
    browser.wait_for_text("No API keys match").await;
    assert!(same_page(&browser).await, "the page was reloaded");

    // Back: the previous search, its table and its box.
    browser.client.back().await.unwrap();
    wait_for_names(&browser, &["mobile web"]).await;
    crate::helpers::eventually(
        std::time::Duration::from_secs(15),
        "the search box to show the previous search",
        || async {
            let value = browser
                .field_by_label("Search")
                .await
                .prop("value")
                .await
                .unwrap();
            (value.as_deref() == Some("mobile w")).then_some(())
        },
    )
    .await;

    // A select applies at once.
    browser.fill_by_label("Search", "").await;
    browser.select_by_label("Order", "Descending").await;
    wait_for_names(
        &browser,
        &["mobile web", "mobile app", "kiosk", "billing export"],
    )
    .await;
    browser.screenshot("apps-list-search").await;
}
