//! The API Keys page over HTTP: the Create Application form, its errors, each
//! app location, the list, and the key shown exactly once. Also the Roles page
//! that feeds "Assign a Default Role".

use diesel::prelude::*;
use keyward::apps::queries::AppRow;
use keyward::schema::{apps, roles, services};

use crate::helpers::{StatusCode, TestApp, TestResponse, html_unescape, login_next};

// ---- reading the database ----

/// Every stored app, oldest first.
fn stored_apps(app: &TestApp) -> Vec<AppRow> {
    let mut conn = app.pool.get().expect("no database connection");
    apps::table
        .select(AppRow::as_select())
        .order(apps::id.asc())
        .load(&mut *conn)
        .expect("cannot read apps")
}

fn stored_app(app: &TestApp, id: i32) -> AppRow {
    let mut conn = app.pool.get().expect("no database connection");
    keyward::apps::queries::find(&mut conn, id)
        .expect("cannot read the app")
        .unwrap_or_else(|| panic!("no app {id} stored"))
}

fn service_id(app: &TestApp, name: &str) -> i32 {
    let mut conn = app.pool.get().expect("no database connection");
    services::table
        .filter(services::name.eq(name))
        .select(services::id)
        .first(&mut *conn)
        .unwrap_or_else(|e| panic!("no service {name}: {e}"))
}

fn role_id(app: &TestApp, name: &str) -> i32 {
    let mut conn = app.pool.get().expect("no database connection");
    roles::table
        .filter(roles::name.eq(name))
        .select(roles::id)
        .first(&mut *conn)
        .unwrap_or_else(|e| panic!("no role {name}: {e}"))
}

fn stored_role_names(app: &TestApp) -> Vec<String> {
    let mut conn = app.pool.get().expect("no database connection");
    roles::table
        .select(roles::name)
        .order(roles::id.asc())
        .load(&mut *conn)
        .expect("cannot read roles")
}

// ---- reading pages ----

/// Text of an HTML fragment as a person reads it: tags dropped, entities
/// decoded, white space collapsed.
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

/// The opening tag of the element whose id is `id`.
fn opening_tag<'a>(page: &'a TestResponse, id: &str) -> Option<&'a str> {
    let body = &page.body;
    let at = body.find(&format!(" id=\"{id}\""))?;
    let start = body[..at].rfind('<')?;
    let end = at + body[at..].find('>')? + 1;
    Some(&body[start..end])
}

/// An attribute of an opening tag, decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    let end = start + tag[start..].find('"')?;
    Some(html_unescape(&tag[start..end]))
}

fn is_checked(page: &TestResponse, id: &str) -> bool {
    let tag = opening_tag(page, id).unwrap_or_else(|| panic!("no #{id} on the page"));
    tag.trim_end_matches('>')
        .split_whitespace()
        .any(|a| a == "checked")
}

/// The text of the `<label for="id">`.
fn label_text(page: &TestResponse, id: &str) -> Option<String> {
    let marker = format!("<label for=\"{id}\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find("</label>")?;
    Some(text_of(&page.body[start..end]))
}

/// What the `<textarea id="id">` holds.
fn textarea_value(page: &TestResponse, id: &str) -> Option<String> {
    let tag = opening_tag(page, id)?;
    assert!(tag.starts_with("<textarea"), "#{id} is not a textarea");
    let start = page.body.find(tag)? + tag.len();
    let end = start + page.body[start..].find("</textarea>")?;
    Some(html_unescape(&page.body[start..end]))
}

/// The options of the `<select id="id">`: (value, text, marked selected).
fn select_options(page: &TestResponse, id: &str) -> Vec<(String, String, bool)> {
    let tag = opening_tag(page, id).unwrap_or_else(|| panic!("no #{id} on the page"));
    assert!(tag.starts_with("<select"), "#{id} is not a select");
    let start = page.body.find(tag).unwrap() + tag.len();
    let end = start
        + page.body[start..]
            .find("</select>")
            .expect("unclosed select");
    page.body[start..end]
        .split("<option")
        .skip(1)
        .map(|option| {
            let tag_end = option.find('>').expect("broken option");
            let open = &option[..tag_end];
            let text_end = option.find("</option>").expect("unclosed option");
            (
                attr(open, "value").unwrap_or_default(),
                text_of(&option[tag_end + 1..text_end]),
                open.split_whitespace().any(|a| a == "selected"),
            )
        })
        .collect()
}

/// The value of the option a browser shows as chosen: the one marked
/// selected, else the first.
fn chosen_option(page: &TestResponse, id: &str) -> String {
    let options = select_options(page, id);
    let marked: Vec<_> = options
        .iter()
        .filter(|(_, _, selected)| *selected)
        .collect();
    assert!(marked.len() <= 1, "#{id} has several selected options");
    match marked.first() {
        Some((value, _, _)) => value.clone(),
        None => options.first().map(|o| o.0.clone()).unwrap_or_default(),
    }
}

/// Values of the App Location radios, in page order, and the checked one.
fn location_radios(page: &TestResponse) -> (Vec<String>, Option<String>) {
    let mut values = Vec::new();
    let mut checked = None;
    let mut rest = page.body.as_str();
    while let Some(at) = rest.find("name=\"location\"") {
        let start = rest[..at].rfind('<').unwrap();
        let end = at + rest[at..].find('>').unwrap();
        let tag = &rest[start..end];
        assert!(tag.contains("type=\"radio\""), "{tag}");
        let value = attr(tag, "value").unwrap_or_default();
        if tag.split_whitespace().any(|a| a == "checked") {
            assert!(checked.is_none(), "two locations checked");
            checked = Some(value.clone());
        }
        values.push(value);
        rest = &rest[end..];
    }
    (values, checked)
}

/// The error shown next to `field`, as it is announced.
fn field_error(page: &TestResponse, field: &str) -> Option<String> {
    let marker = format!("<small class=\"field-error\" id=\"{field}-error\" role=\"alert\">");
    let start = page.body.find(&marker)? + marker.len();
    let end = start + page.body[start..].find("</small>")?;
    Some(text_of(&page.body[start..end]))
}

/// Every error the page shows next to a field: (field, message).
fn field_errors(page: &TestResponse) -> Vec<(String, String)> {
    let marker = "<small class=\"field-error\" id=\"";
    page.body
        .match_indices(marker)
        .map(|(at, _)| {
            let rest = &page.body[at + marker.len()..];
            let field = &rest[..rest.find("-error\"").unwrap()];
            (
                field.to_owned(),
                field_error(page, field).expect("malformed field error"),
            )
        })
        .collect()
}

/// The list's table: the text of each cell of each body row.
fn table_rows(page: &TestResponse) -> Vec<Vec<String>> {
    let Some(start) = page.body.find("<tbody>") else {
        return Vec::new();
    };
    let end = start + page.body[start..].find("</tbody>").expect("unclosed tbody");
    page.body[start..end]
        .split("<tr")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').unwrap() + 1..];
                    text_of(cell.split("</td>").next().unwrap())
                })
                .collect()
        })
        .collect()
}

fn table_headers(page: &TestResponse) -> Vec<String> {
    let start = page.body.find("<thead>").expect("no table head");
    let end = start + page.body[start..].find("</thead>").unwrap();
    page.body[start..end]
        .split("<th ")
        .skip(1)
        .map(|cell| text_of(&cell[cell.find('>').unwrap() + 1..]))
        .collect()
}

/// The list row of the app named `name`.
fn list_row(page: &TestResponse, name: &str) -> Vec<String> {
    table_rows(page)
        .into_iter()
        .find(|cells| cells.get(1).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no row for {name:?} in {:?}", table_rows(page)))
}

// ---- keys ----

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The documented checksum: CRC32 of the random part in base62, six digits.
fn expected_checksum(random: &str) -> String {
    let mut value = u64::from(crc32fast::hash(random.as_bytes()));
    let mut digits = Vec::new();
    while value > 0 {
        digits.push(BASE62[(value % 62) as usize] as char);
        value /= 62;
    }
    while digits.len() < 6 {
        digits.push('0');
    }
    digits.iter().rev().collect()
}

/// The documented format: `^kw_[0-9A-Za-z]{49}$`, the last six a checksum.
fn assert_key_format(key: &str) {
    assert_eq!(key.len(), 52, "key {key:?} is not 52 characters");
    assert!(key.starts_with("kw_"), "key {key:?} lacks the kw_ prefix");
    assert!(
        key[3..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "key {key:?} is not base62"
    );
    let (random, checksum) = key[3..].split_at(43);
    assert_eq!(
        checksum,
        expected_checksum(random),
        "checksum of key {key:?}"
    );
}

/// Whole keys (`kw_` and 49 base62 characters) that appear in `text`.
fn whole_keys_in(text: &str) -> Vec<String> {
    text.match_indices("kw_")
        .filter_map(|(at, _)| {
            let run: String = text[at + 3..]
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            (run.len() >= 49).then(|| format!("kw_{run}"))
        })
        .collect()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

// ---- posting the form ----

/// A form's fields as sent: (name, value).
type Fields<'a> = Vec<(&'a str, &'a str)>;

/// The stored location columns: storage_service_id, storage_container, path, url.
type LocationColumns<'a> = (
    Option<i32>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// Every field filled in, as a browser without JavaScript sends them all;
/// `location` chooses which of them should be kept.
fn every_field<'a>(name: &'a str, location: &'a str, storage_service_id: &'a str) -> Fields<'a> {
    vec![
        ("name", name),
        ("description", "Used by the mobile team"),
        ("is_active", "true"),
        ("location", location),
        ("storage_service_id", storage_service_id),
        ("storage_container", "mobile-builds"),
        ("launch_path", "index.html"),
        ("web_path", "/srv/www/mobile/index.html"),
        ("url", "https://mobile.example.com/start?from=keyward"),
        ("role_id", ""),
    ]
}

/// `fields` with `field` set to `value` (added when missing).
fn with<'a>(fields: &[(&'a str, &'a str)], field: &'a str, value: &'a str) -> Fields<'a> {
    let mut fields = fields.to_vec();
    match fields.iter_mut().find(|(k, _)| *k == field) {
        Some(pair) => pair.1 = value,
        None => fields.push((field, value)),
    }
    fields
}

fn without<'a>(fields: &[(&'a str, &'a str)], field: &str) -> Fields<'a> {
    fields
        .iter()
        .copied()
        .filter(|(k, _)| *k != field)
        .collect()
}

/// The app id of a `/api-keys/{id}/key` redirect; panics on anything else.
fn created_app_id(response: &TestResponse) -> i32 {
    let location = response.location();
    location
        .strip_prefix("/api-keys/")
        .and_then(|rest| rest.strip_suffix("/key"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a key page: {location}"))
}

/// Signs in and opens the form, as an administrator starts.
async fn signed_in_at_the_form(app: &TestApp) -> TestResponse {
    app.login_as_default_admin().await;
    let form = app.get("/api-keys/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    form
}

/// Creates an app and returns its id; the key page is left unvisited.
async fn create_app(app: &TestApp, fields: &[(&str, &str)]) -> i32 {
    let response = app.post_form("/api-keys", fields).await;
    created_app_id(&response)
}

async fn create_role(app: &TestApp, name: &str, active: bool) {
    let mut fields = vec![("name", name), ("description", "")];
    if active {
        fields.push(("is_active", "true"));
    }
    let response = app.post_form("/roles", &fields).await;
    response.assert_redirects_to("/roles");
}

/// A refused submission: 422, the form again with these errors next to their
/// fields and every value as it was typed.
fn assert_refused(page: &TestResponse, sent: &[(&str, &str)], errors: &[(&str, &str)]) {
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "sent {sent:?}: {}",
        page.body
    );
    assert!(
        page.body.contains("<h1>Create Application</h1>"),
        "not the form: {}",
        page.body
    );
    assert!(
        page.body.contains("The key was not created."),
        "no summary for {sent:?}"
    );
    let shown = field_errors(page);
    let expected: Vec<(String, String)> = errors
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let mut shown_sorted = shown.clone();
    shown_sorted.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(shown_sorted, expected_sorted, "errors for {sent:?}");
    for (field, _) in errors {
        // The control (for the location, its fieldset) points at its error.
        let tag = if *field == "location" {
            let at = page.body.find("<fieldset").expect("no fieldset");
            &page.body[at..at + page.body[at..].find('>').unwrap()]
        } else {
            let tag = opening_tag(page, field).unwrap_or_else(|| panic!("no #{field}"));
            assert_eq!(attr(tag, "aria-invalid").as_deref(), Some("true"), "{tag}");
            tag
        };
        assert_eq!(
            attr(tag, "aria-describedby"),
            Some(format!("{field}-error")),
            "{tag}"
        );
    }

    let sent_value = |field: &str| {
        sent.iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    };
    for field in [
        "name",
        "storage_container",
        "launch_path",
        "web_path",
        "url",
    ] {
        assert_eq!(
            page.input_value(field).as_deref(),
            Some(sent_value(field)),
            "{field} as typed, after sending {sent:?}"
        );
    }
    assert_eq!(
        textarea_value(page, "description").as_deref(),
        Some(sent_value("description")),
        "description as typed"
    );
    assert_eq!(
        is_checked(page, "is_active"),
        sent.iter().any(|(k, _)| *k == "is_active"),
        "Active as sent"
    );
    let location = sent_value("location");
    if ["0", "1", "2", "3"].contains(&location) {
        assert_eq!(location_radios(page).1.as_deref(), Some(location));
    }
    for select in ["storage_service_id", "role_id"] {
        let value = sent_value(select);
        let offered = select_options(page, select)
            .iter()
            .any(|(v, _, _)| v == value);
        if offered {
            assert_eq!(chosen_option(page, select), value, "{select} as chosen");
        }
    }
}

// ---- signed out ----

storage_test!(api_keys_pages_need_a_signed_in_admin, |app| async move {
    app.create_admin(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD);
    for path in ["/api-keys", "/api-keys/new", "/api-keys/1/key"] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}: {}", page.body);
        assert_eq!(
            login_next(page.header("location")).as_deref(),
            Some(path),
            "{path}"
        );
    }
    let refused = app
        .post_form("/api-keys", &every_field("Sneaky", "0", ""))
        .await;
    // Sent to the login page, not to a new key.
    assert!(
        login_next(refused.location()).is_some(),
        "a signed-out post went to {}",
        refused.location()
    );
    assert!(stored_apps(&app).is_empty());
});

storage_test!(
    creating_without_the_csrf_token_creates_nothing,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let refused = app
            .post_form_raw("/api-keys", &every_field("No token", "0", ""))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        let mut wrong = every_field("Wrong token", "0", "");
        wrong.push(("csrf_token", "not-the-token"));
        let refused = app.post_form_raw("/api-keys", &wrong).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(stored_apps(&app).is_empty());
    }
);

// ---- the form ----

storage_test!(the_form_offers_every_field_by_its_label, |app| async move {
    let form = signed_in_at_the_form(&app).await;
    assert!(
        form.body.contains("<title>Create Application"),
        "{}",
        form.body
    );
    for (id, label) in [
        ("name", "Application Name"),
        ("description", "Description"),
        ("is_active", "Active"),
        ("storage_service_id", "Storage Service"),
        ("storage_container", "Storage Folder"),
        ("launch_path", "Launch Path"),
        ("web_path", "Path to Application"),
        ("url", "URL to Application"),
        ("role_id", "Assign a Default Role"),
        (
            "location-0",
            "No Storage Required - remote device, client, or desktop.",
        ),
        ("location-1", "On a provisioned file storage service."),
        ("location-3", "On this web server."),
        ("location-2", "On a remote URL."),
    ] {
        assert_eq!(
            label_text(&form, id).as_deref(),
            Some(label),
            "label of #{id}"
        );
        assert!(opening_tag(&form, id).is_some(), "no control #{id}");
    }

    // The four locations, in DreamFactory's order, in a fieldset with a legend;
    // the first is chosen.
    let fieldset = form.body.find("<fieldset").expect("no fieldset");
    let legend = &form.body[fieldset..];
    assert!(
        text_of(&legend[..legend.find("</legend>").unwrap()]).ends_with("App Location"),
        "no App Location legend"
    );
    let (values, checked) = location_radios(&form);
    assert_eq!(values, ["0", "1", "3", "2"]);
    assert_eq!(checked.as_deref(), Some("0"));
    let location_fields =
        &form.body[fieldset..fieldset + form.body[fieldset..].find("</fieldset>").unwrap()];
    for id in [
        "storage_service_id",
        "storage_container",
        "launch_path",
        "web_path",
        "url",
    ] {
        assert!(
            location_fields.contains(&format!(" id=\"{id}\"")),
            "#{id} is outside the App Location fieldset"
        );
    }

    // A new key is active, stores in `applications`, and has no role yet.
    assert!(is_checked(&form, "is_active"));
    assert_eq!(
        form.input_value("storage_container").as_deref(),
        Some("applications")
    );
    assert_eq!(form.input_value("name").as_deref(), Some(""));
    let files = service_id(&app, "files").to_string();
    let logs = service_id(&app, "logs").to_string();
    assert_eq!(
        select_options(&form, "storage_service_id"),
        [
            ("".to_owned(), "Choose a storage service".to_owned(), false),
            (files, "Local File Storage (files)".to_owned(), false),
            (logs, "Local Log Storage (logs)".to_owned(), false),
        ]
    );
    assert_eq!(
        select_options(&form, "role_id"),
        [("".to_owned(), "No role".to_owned(), false)]
    );
});

// ---- creating ----

storage_test!(each_location_keeps_only_its_own_fields, |app| async move {
    signed_in_at_the_form(&app).await;
    let logs = service_id(&app, "logs");
    let logs_id = logs.to_string();
    // (location, name, the location columns it keeps)
    let cases: [(&str, &str, LocationColumns); 4] = [
        ("0", "Desktop client", (None, None, None, None)),
        (
            "1",
            "Stored build",
            (Some(logs), Some("mobile-builds"), Some("index.html"), None),
        ),
        (
            "3",
            "Hosted here",
            (None, None, Some("/srv/www/mobile/index.html"), None),
        ),
        (
            "2",
            "Somewhere else",
            (
                None,
                None,
                None,
                Some("https://mobile.example.com/start?from=keyward"),
            ),
        ),
    ];
    for (location, name, kept) in cases {
        let id = create_app(&app, &every_field(name, location, &logs_id)).await;
        let row = stored_app(&app, id);
        assert_eq!(row.name, name);
        assert_eq!(row.description, "Used by the mobile team");
        assert!(row.is_active, "{name} is inactive");
        assert_eq!(row.role_id, None);
        assert_eq!(row.location.to_string(), location, "{name}");
        assert_eq!(
            (
                row.storage_service_id,
                row.storage_container.as_deref(),
                row.path.as_deref(),
                row.url.as_deref()
            ),
            kept,
            "location {location} keeps exactly its own fields"
        );
    }

    // File storage with a blank folder and launch path: the default folder, no path.
    let files = service_id(&app, "files");
    let files_id = files.to_string();
    let blank = with(
        &with(
            &every_field("Default folder", "1", &files_id),
            "storage_container",
            "  ",
        ),
        "launch_path",
        "",
    );
    let row = stored_app(&app, create_app(&app, &blank).await);
    assert_eq!(
        (
            row.storage_service_id,
            row.storage_container.as_deref(),
            row.path.as_deref(),
            row.url
        ),
        (Some(files), Some("applications"), None, None)
    );

    // No location sent at all is the first option, "No Storage Required".
    let row = stored_app(
        &app,
        create_app(
            &app,
            &without(&every_field("No location", "", &logs_id), "location"),
        )
        .await,
    );
    assert_eq!(row.location, 0);
    assert_eq!(
        (
            row.storage_service_id,
            row.storage_container,
            row.path,
            row.url
        ),
        (None, None, None, None)
    );

    // The name is trimmed; 64 characters and 255 of description are allowed,
    // counted as characters, not bytes.
    let long_name = "ü".repeat(64);
    let padded = format!("  {long_name}  ");
    let long_description = "é".repeat(255);
    let fields = with(
        &every_field(&padded, "0", ""),
        "description",
        &long_description,
    );
    let row = stored_app(&app, create_app(&app, &fields).await);
    assert_eq!(row.name, long_name);
    assert_eq!(row.description, long_description);

    assert_eq!(stored_apps(&app).len(), 7);
});

storage_test!(
    every_rule_is_shown_next_to_its_field_with_the_typed_values_kept,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let logs = service_id(&app, "logs").to_string();
        let base = every_field("Mobile app", "0", &logs);
        let long_name = "x".repeat(65);
        let long_description = "d".repeat(256);
        let odd_name = "Ada's \"app\" & <co>";
        let cases: Vec<(Fields, Fields)> = vec![
            (
                with(
                    &with(
                        &with(
                            &with(&base, "name", "   "),
                            "description",
                            &long_description,
                        ),
                        "location",
                        "2",
                    ),
                    "url",
                    "",
                ),
                vec![
                    ("name", "Application name required"),
                    ("description", "Description must be at most 255 characters"),
                    ("url", "URL to application required"),
                ],
            ),
            (
                with(&base, "name", ""),
                vec![("name", "Application name required")],
            ),
            (
                with(&base, "name", &long_name),
                vec![("name", "Application name must be at most 64 characters")],
            ),
            (
                with(
                    &with(&with(&base, "name", odd_name), "location", "1"),
                    "storage_service_id",
                    "",
                ),
                vec![("storage_service_id", "Choose a storage service")],
            ),
            (
                with(&with(&base, "location", "3"), "web_path", "   "),
                vec![("web_path", "Path to application required")],
            ),
            (
                with(
                    &with(&base, "location", "2"),
                    "url",
                    "ftp://files.example.com/app",
                ),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&with(&base, "location", "2"), "url", "mobile.example.com"),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&with(&base, "location", "2"), "url", "javascript:alert(1)"),
                vec![(
                    "url",
                    "Enter an http:// or https:// URL, like https://app.example.com/",
                )],
            ),
            (
                with(&base, "location", "7"),
                vec![("location", "Choose one of the four app locations")],
            ),
            (
                without(&with(&base, "name", ""), "is_active"),
                vec![("name", "Application name required")],
            ),
        ];
        for (sent, errors) in &cases {
            let page = app.post_form("/api-keys", sent).await;
            assert_refused(&page, sent, errors);
            // What was typed is shown as text, never as markup.
            assert!(!page.body.contains("<co>"), "unescaped input");
        }
        assert!(stored_apps(&app).is_empty(), "a refused form stored an app");

        // Only the chosen location's fields are checked: a bad URL does not
        // stop an app that lives on this web server.
        let id = create_app(
            &app,
            &with(&with(&base, "location", "3"), "url", "not a url"),
        )
        .await;
        assert_eq!(stored_app(&app, id).url, None);
    }
);

storage_test!(
    an_unchecked_active_box_saves_an_inactive_app,
    |app| async move {
        let form = signed_in_at_the_form(&app).await;
        assert!(is_checked(&form, "is_active"), "a new key starts active");

        let inactive =
            create_app(&app, &without(&every_field("Kiosk", "0", ""), "is_active")).await;
        assert!(!stored_app(&app, inactive).is_active);
        let active = create_app(&app, &every_field("Mobile", "0", "")).await;
        assert!(stored_app(&app, active).is_active);

        let list = app.get("/api-keys").await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(list_row(&list, "Kiosk")[0], "Inactive");
        assert_eq!(list_row(&list, "Mobile")[0], "Active");
        let toggle = list
            .body
            .match_indices("aria-label=\"Active: Kiosk\"")
            .map(|(at, _)| {
                let start = list.body[..at].rfind('<').unwrap();
                &list.body[start..at + list.body[at..].find('>').unwrap() + 1]
            })
            .next()
            .expect("no Active toggle for Kiosk");
        assert!(toggle.starts_with("<button"), "{toggle}");
        assert_eq!(attr(toggle, "role").as_deref(), Some("switch"));
        assert_eq!(attr(toggle, "aria-checked").as_deref(), Some("false"));
    }
);

storage_test!(a_duplicate_name_is_a_form_error, |app| async move {
    signed_in_at_the_form(&app).await;
    let first = create_app(&app, &every_field("Mobile app", "0", "")).await;
    let first_row = stored_app(&app, first);

    // Trimmed first, so surrounding spaces do not make it a new name.
    let sent = with(
        &every_field("  Mobile app ", "2", ""),
        "description",
        "a second try",
    );
    let page = app.post_form("/api-keys", &sent).await;
    assert_refused(
        &page,
        &sent,
        &[("name", "An application with this name already exists")],
    );
    let rows = stored_apps(&app);
    assert_eq!(rows, [first_row], "the first app is unchanged and alone");
});

storage_test!(
    simultaneous_duplicate_names_store_one_app_and_never_fail,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let fields = every_field("Race", "0", "");
        let responses =
            futures_util::future::join_all((0..8).map(|_| app.post_form("/api-keys", &fields)))
                .await;
        let mut created = 0;
        for response in &responses {
            assert!(
                !response.status.is_server_error(),
                "{}: {}",
                response.status,
                response.body
            );
            if response.status == StatusCode::SEE_OTHER {
                created_app_id(response);
                created += 1;
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{}",
                    response.body
                );
                assert_eq!(
                    field_error(response, "name").as_deref(),
                    Some("An application with this name already exists")
                );
            }
        }
        assert_eq!(created, 1, "exactly one of the simultaneous posts wins");
        let rows = stored_apps(&app);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "Race");

        // Different names at once all succeed, none is lost or refused.
        let names: Vec<String> = (0..8).map(|i| format!("Parallel {i}")).collect();
        let app_ref = &app;
        let responses = futures_util::future::join_all(names.iter().map(|name| {
            let fields = every_field(name, "0", "");
            async move { app_ref.post_form("/api-keys", &fields).await }
        }))
        .await;
        for response in &responses {
            assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
            created_app_id(response);
        }
        assert_eq!(stored_apps(&app).len(), 9);
    }
);

storage_test!(
    unknown_roles_and_storage_services_are_form_errors,
    |app| async move {
        signed_in_at_the_form(&app).await;
        // An API service exists but is not file storage.
        let service = app
            .post_form(
                "/services",
                &[
                    ("name", "db"),
                    ("label", "Database"),
                    ("description", ""),
                    ("kind", "api"),
                    ("is_active", "true"),
                ],
            )
            .await;
        assert_eq!(service.status, StatusCode::SEE_OTHER, "{}", service.body);
        let api_service = service_id(&app, "db").to_string();

        let base = every_field("Mobile app", "0", "");
        for role in ["99999", "abc", "1.5", "-1"] {
            let sent = with(&base, "role_id", role);
            let page = app.post_form("/api-keys", &sent).await;
            assert_refused(&page, &sent, &[("role_id", "Unknown role")]);
        }
        for service in ["99999", "x", api_service.as_str()] {
            let sent = with(&with(&base, "location", "1"), "storage_service_id", service);
            let page = app.post_form("/api-keys", &sent).await;
            assert_refused(
                &page,
                &sent,
                &[("storage_service_id", "Unknown storage service")],
            );
        }
        // The API service is not offered as storage either.
        let form = app.get("/api-keys/new").await;
        assert!(
            !select_options(&form, "storage_service_id")
                .iter()
                .any(|(v, _, _)| *v == api_service),
            "an API service is offered as file storage"
        );
        assert!(stored_apps(&app).is_empty());
    }
);

// ---- the key ----

storage_test!(
    the_key_is_shown_once_and_only_its_hash_is_stored,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let created = app
            .post_form("/api-keys", &every_field("Mobile app", "0", ""))
            .await;
        let id = created_app_id(&created);
        let key_page_path = created.location().to_owned();

        // The cookies a browser would send to the result page, kept for a replay.
        let key_page_url = reqwest::Url::parse(&app.url(&key_page_path)).unwrap();
        let replayed_cookies = {
            use reqwest::cookie::CookieStore;
            app.jar
                .cookies(&key_page_url)
                .expect("no cookies for the result page")
                .to_str()
                .unwrap()
                .to_owned()
        };

        let first = app.get(&key_page_path).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        assert!(
            first.body.contains("<h1>API key created</h1>"),
            "{}",
            first.body
        );
        assert!(first.body.contains("It will not be shown again."));
        assert!(first.body.contains(">Copy</button>"), "no Copy button");
        assert_eq!(label_text(&first, "api-key").as_deref(), Some("API key"));
        let key_input = opening_tag(&first, "api-key").expect("no key field");
        assert!(key_input.contains(" readonly"), "{key_input}");
        let key = attr(key_input, "value").expect("the key field is empty");
        assert_key_format(&key);
        assert_eq!(whole_keys_in(&first.body), std::slice::from_ref(&key));
        assert!(
            first.header("cache-control").contains("no-store"),
            "the key page may be cached: {}",
            first.header("cache-control")
        );

        // Never in a URL, a header or the redirect.
        assert!(!key_page_path.contains(&key[3..]));
        for (name, value) in created.headers.iter().chain(first.headers.iter()) {
            assert!(
                !value.to_str().unwrap_or_default().contains(&key[3..]),
                "the key is in the {name} header"
            );
        }

        let second = app.get(&key_page_path).await;
        assert_eq!(second.status, StatusCode::OK, "{}", second.body);
        assert_eq!(
            whole_keys_in(&second.body),
            Vec::<String>::new(),
            "shown twice"
        );
        assert!(
            opening_tag(&second, "api-key").is_none(),
            "a key field is shown again"
        );
        assert!(
            text_of(&second.body).contains("was shown once"),
            "{}",
            second.body
        );
        assert!(second.body.contains(&format!("{}…", &key[..9])));

        // Replaying the cookies the first visit had does not bring it back.
        let replay = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(app.url(&key_page_path))
            .header("cookie", replayed_cookies)
            .send()
            .await
            .unwrap();
        let replay = TestResponse::read(replay).await;
        assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
        assert_eq!(
            whole_keys_in(&replay.body),
            Vec::<String>::new(),
            "shown on replay"
        );
        assert!(text_of(&replay.body).contains("was shown once"));

        // Reloading created nothing; the database has the hash and prefix only.
        let rows = stored_apps(&app);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.id, id);
        assert_eq!(row.key_hash, sha256_hex(&key));
        assert_eq!(row.key_prefix, &key[..9]);
        // Every text column of the row: name, description, location fields, hash, prefix.
        let stored = format!("{rows:?}");
        assert!(!stored.contains(&key[3..46]), "the key is stored: {stored}");
        let sessions = app.session_rows();
        assert!(!sessions.is_empty(), "no session rows to look at");
        for (session, state) in sessions {
            let state = serde_json::Value::Object(state).to_string();
            assert!(
                !state.contains(&key[3..46]),
                "session {session} holds the key"
            );
        }
        // On SQLite the files themselves (database and write-ahead log) never hold it.
        if let Some(dir) = std::path::Path::new(&app.db.url)
            .parent()
            .filter(|_| !app.db.url.contains("://"))
        {
            let mut hash_found = false;
            for file in std::fs::read_dir(dir).unwrap() {
                let path = file.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(43).any(|w| w == &key.as_bytes()[3..46]),
                    "{} holds the key",
                    path.display()
                );
                hash_found |= bytes.windows(64).any(|w| w == row.key_hash.as_bytes());
            }
            // The files were read: the hash is in them.
            assert!(
                hash_found,
                "the SQLite files in {} were not read",
                dir.display()
            );
        }

        // The list shows the prefix, not the key.
        let list = app.get("/api-keys").await;
        assert_eq!(whole_keys_in(&list.body), Vec::<String>::new());
        assert_eq!(list_row(&list, "Mobile app")[3], format!("{}…", &key[..9]));
    }
);

storage_test!(
    every_new_key_is_different_and_well_formed,
    |app| async move {
        signed_in_at_the_form(&app).await;
        let mut keys = Vec::new();
        for name in ["One", "Two", "Three"] {
            let id = create_app(&app, &every_field(name, "0", "")).await;
            let page = app.get(&format!("/api-keys/{id}/key")).await;
            let key = attr(
                opening_tag(&page, "api-key").expect("no key shown"),
                "value",
            )
            .unwrap();
            assert_key_format(&key);
            assert_eq!(stored_app(&app, id).key_hash, sha256_hex(&key));
            keys.push(key);
        }
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 3, "two apps got the same key");
    }
);

// ---- the list ----

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

/// The opening tag that carries `attribute` (e.g. `aria-label="..."`); exactly one.
fn opening_tag_with<'a>(page: &'a TestResponse, attribute: &str) -> &'a str {
    let found: Vec<&str> = page
        .body
        .match_indices(attribute)
        .map(|(at, _)| {
            let start = page.body[..at].rfind('<').unwrap();
            &page.body[start..at + page.body[at..].find('>').unwrap() + 1]
        })
        .collect();
    assert_eq!(found.len(), 1, "{attribute} on {} elements", found.len());
    found[0]
}

// ---- roles ----

storage_test!(
    the_role_select_offers_no_role_then_roles_by_name,
    |app| async move {
        app.login_as_default_admin().await;
        for (name, active) in [("Viewers", true), ("Admins", true), ("Editors", false)] {
            create_role(&app, name, active).await;
        }
        let form = app.get("/api-keys/new").await;
        let options: Vec<(String, String)> = select_options(&form, "role_id")
            .into_iter()
            .map(|(value, text, _)| (value, text))
            .collect();
        assert_eq!(
            options,
            [
                ("".to_owned(), "No role".to_owned()),
                (role_id(&app, "Admins").to_string(), "Admins".to_owned()),
                (
                    role_id(&app, "Editors").to_string(),
                    "Editors (inactive)".to_owned()
                ),
                (role_id(&app, "Viewers").to_string(), "Viewers".to_owned()),
            ]
        );
        assert_eq!(chosen_option(&form, "role_id"), "");

        // The chosen role is stored with the app, and kept when the form is refused.
        let editors = role_id(&app, "Editors").to_string();
        let sent = with(
            &with(&every_field("", "0", ""), "role_id", &editors),
            "name",
            "",
        );
        let refused = app.post_form("/api-keys", &sent).await;
        assert_refused(&refused, &sent, &[("name", "Application name required")]);
        assert_eq!(chosen_option(&refused, "role_id"), editors);
        let id = create_app(&app, &with(&sent, "name", "Editor tool")).await;
        assert_eq!(stored_app(&app, id).role_id, Some(role_id(&app, "Editors")));
    }
);

storage_test!(the_roles_page_lists_and_creates_roles, |app| async move {
    app.login_as_default_admin().await;
    let empty = app.get("/roles").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("No roles yet"), "{}", empty.body);
    let form = app.get("/roles/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(label_text(&form, "name").as_deref(), Some("Name"));
    assert_eq!(
        label_text(&form, "description").as_deref(),
        Some("Description")
    );
    assert_eq!(label_text(&form, "is_active").as_deref(), Some("Active"));
    assert!(is_checked(&form, "is_active"), "a new role starts active");

    let created = app
        .post_form(
            "/roles",
            &[
                ("name", "  Readers "),
                ("description", "Read-only access"),
                ("is_active", "true"),
            ],
        )
        .await;
    created.assert_redirects_to("/roles");
    let list = app.follow(created).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("Role “Readers” created."),
        "{}",
        list.body
    );
    let rows = table_rows(&list);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][..3], ["Active", "Readers", "Read-only access"]);
    // The flash is shown once.
    assert!(!app.get("/roles").await.body.contains("created."));

    create_role(&app, "Paused", false).await;
    let list = app.get("/roles").await;
    let paused = table_rows(&list)
        .into_iter()
        .find(|cells| cells[1] == "Paused")
        .expect("no Paused row");
    assert_eq!(paused[0], "Inactive");
    assert_eq!(stored_role_names(&app), ["Readers", "Paused"]);
});

storage_test!(
    role_errors_are_shown_with_the_typed_values,
    |app| async move {
        app.login_as_default_admin().await;
        create_role(&app, "Readers", true).await;
        app.get("/roles/new").await;

        for (name, description, field, message) in [
            ("   ", "Nobody yet", "name", "Role name required"),
            (
                " Readers",
                "Again",
                "name",
                "A role with this name already exists",
            ),
        ] {
            let page = app
                .post_form("/roles", &[("name", name), ("description", description)])
                .await;
            assert_eq!(
                page.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{name:?}: {}",
                page.body
            );
            assert_eq!(
                field_error(&page, field).as_deref(),
                Some(message),
                "{name:?}"
            );
            assert_eq!(page.input_value("name").as_deref(), Some(name));
            assert_eq!(
                textarea_value(&page, "description").as_deref(),
                Some(description)
            );
            assert!(!is_checked(&page, "is_active"), "Active was not sent");
        }
        assert_eq!(stored_role_names(&app), ["Readers"]);
    }
);
