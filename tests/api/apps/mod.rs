//! API Keys (`src/apps/`): the Create Application form and what it stores
//! for each app location, the key shown exactly once, the list (search, sort,
//! filters, pages), a key's life after it is created (edit, expiry, roll,
//! duplicate, delete), and all of it in Chromium. What the tests share is
//! here: filling in the form, and apps written straight to the database.

mod browser;
mod create;
mod form;
mod key;
mod lifecycle;
mod list;
mod paging;
mod search;
mod usage;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keyward::apps::domain::{ApiKey, AppName, NewApp};
use keyward::schema::apps;

use crate::harness::{
    StatusCode, StoredApp, TestApp, TestResponse, attr, chosen_option, field_errors, is_checked,
    opening_tag, select_options, table_rows, textarea_value,
};

// ---- reading the database ----

/// Every stored app, oldest first.
fn stored_apps(app: &TestApp) -> Vec<StoredApp> {
    app.stored_apps()
}

fn stored_app(app: &TestApp, id: i32) -> StoredApp {
    app.stored_app(id)
}

/// The id of the service named `name`.
fn service_id(app: &TestApp, name: &str) -> i32 {
    app.service_id(name)
}

/// The id of the role named `name`.
fn role_id(app: &TestApp, name: &str) -> i32 {
    app.role_id(name)
}

// ---- reading the form and the list ----

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

/// The list row of the app named `name`.
fn list_row(page: &TestResponse, name: &str) -> Vec<String> {
    table_rows(page)
        .into_iter()
        .find(|cells| cells.get(1).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no row for {name:?} in {:?}", table_rows(page)))
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
    let new = NewApp::plain(
        AppName::parse(seed.name).unwrap(),
        seed.description.to_owned(),
        seed.active,
    );
    let id = keyward::apps::queries::write::insert(
        &mut conn,
        &new,
        &ApiKey::generate(),
        &keyward::db::audit::Actor::local(Some(admin_id), "tests/api/apps_list"),
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
