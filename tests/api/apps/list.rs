//! The API Keys list over HTTP: each app with its role, key prefix and
//! times, labelled controls that work without JavaScript, search, the status
//! filter, the table fragment htmx swaps in as the admin types, and the empty
//! states.

use super::{Seed, add_app, add_named, at, create_app, every_field, list_row, role_id, with};
use crate::harness::{
    StatusCode, TestApp, TestResponse, attr, create_role, html_unescape, opening_tag,
    opening_tag_with, query, table_headers, table_rows, text_of,
};

// ---- reading the list ----

/// The names of the apps the table shows, top to bottom.
pub(super) fn names(page: &TestResponse) -> Vec<String> {
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
pub(super) fn pager_link(page: &TestResponse, rel: &str) -> Option<String> {
    let at = page.body.find(&format!(" rel=\"{rel}\""))?;
    let start = page.body[..at].rfind("<a ")?;
    let tag = &page.body[start..at + page.body[at..].find('>')?];
    let href = tag.split_once(" href=\"")?.1;
    Some(html_unescape(&href[..href.find('"')?]))
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
pub(super) fn form_state(page: &TestResponse) -> [String; 5] {
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
pub(super) async fn list(app: &TestApp, query_string: &str) -> TestResponse {
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

// ---- the tests ----

storage_test!(
    the_list_shows_each_app_with_its_role_and_prefix,
    |app| async move {
        app.login_as_default_admin().await;
        let empty = app.get("/api-keys").await;
        assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
        assert!(
            empty.body.contains("<h2>No API keys yet</h2>"),
            "{}",
            empty.body
        );
        assert!(table_rows(&empty).is_empty());
        let plus = opening_tag_with(&empty, "aria-label=\"Create API key\"");
        assert_eq!(attr(plus, "href").as_deref(), Some("/api-keys/new"));

        create_role(&app, "Readers", true).await;
        let readers = role_id(&app, "Readers").to_string();
        app.get("/api-keys/new").await;
        let mobile = with(
            &with(&every_field("Mobile app", "2", ""), "role_id", &readers),
            "description",
            "Phones <b>and</b> tablets",
        );
        let mobile_id = create_app(&app, &mobile).await;
        let first = app.get(&format!("/api-keys/{mobile_id}/key")).await;
        let mobile_key = attr(opening_tag(&first, "api-key").unwrap(), "value").unwrap();
        create_app(
            &app,
            &with(&every_field("Kiosk", "0", ""), "description", ""),
        )
        .await;

        let list = app.get("/api-keys").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.body.contains("No API keys yet"));
        assert_eq!(
            table_headers(&list),
            [
                "Active",
                "Name",
                "Role",
                "Key",
                "Description",
                "Created",
                "Last used"
            ]
        );
        let row = list_row(&list, "Mobile app");
        assert_eq!(
            row[..5],
            [
                "Active".to_owned(),
                "Mobile app".to_owned(),
                "Readers".to_owned(),
                format!("{}…", &mobile_key[..9]),
                "Phones <b>and</b> tablets".to_owned()
            ]
        );
        assert!(
            !list.body.contains("<b>and</b>"),
            "the description is not escaped"
        );
        let created = row[5]
            .strip_suffix(" UTC")
            .expect("created time without UTC");
        let created = chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M")
            .unwrap_or_else(|e| panic!("created {created:?}: {e}"));
        let age = chrono::Utc::now().naive_utc() - created;
        assert!(
            age >= chrono::Duration::minutes(-1) && age <= chrono::Duration::minutes(5),
            "created {created}, now {}",
            chrono::Utc::now()
        );
        assert_eq!(row[6], "Never");

        let kiosk = list_row(&list, "Kiosk");
        assert_eq!(kiosk[2], "No role");
        assert_eq!(kiosk[4], "");
        assert!(kiosk[3].starts_with("kw_") && kiosk[3].ends_with('…'));
        assert_eq!(table_rows(&list).len(), 2);
    }
);

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
