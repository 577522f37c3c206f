//! The API Keys page in Chromium, used as an administrator uses it: by the
//! navbar, the labels and the buttons a person sees.

use std::time::Duration;

use diesel::prelude::*;
use fantoccini::Locator;
use fantoccini::elements::Element;
use keyward::schema::roles;

use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, Browser, eventually, spawn_app};

/// How long a page may take to show what the test waits for.
const WAIT: Duration = Duration::from_secs(15);

const NO_STORAGE: &str = "No Storage Required - remote device, client, or desktop.";
const FILE_STORAGE: &str = "On a provisioned file storage service.";
const WEB_SERVER: &str = "On this web server.";
const REMOTE_URL: &str = "On a remote URL.";

/// The fields that belong to one location or another.
const LOCATION_FIELDS: [&str; 5] = [
    "Storage Service",
    "Storage Folder",
    "Launch Path",
    "Path to Application",
    "URL to Application",
];

/// The fields a location reveals.
fn fields_of(location: &str) -> Vec<&'static str> {
    match location {
        FILE_STORAGE => vec!["Storage Service", "Storage Folder", "Launch Path"],
        WEB_SERVER => vec!["Path to Application"],
        REMOTE_URL => vec!["URL to Application"],
        _ => vec![],
    }
}

/// The control a `<label for>` with this text names, shown or hidden (the
/// harness's `field_by_label` reads rendered text, so finds only shown ones).
async fn control_for(browser: &Browser, label: &str) -> Element {
    assert!(!label.contains('\''), "{label:?}");
    let xpath = format!("//label[normalize-space(.)='{label}']");
    let mut labels = browser
        .client
        .find_all(Locator::XPath(&xpath))
        .await
        .unwrap();
    assert_eq!(labels.len(), 1, "expected one label {label:?}");
    let id = labels
        .pop()
        .unwrap()
        .attr("for")
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("label {label:?} has no for"));
    browser
        .client
        .find(Locator::Id(&id))
        .await
        .unwrap_or_else(|_| panic!("label {label:?} is for #{id}, which does not exist"))
}

/// The location fields a person can see now: control and label both shown.
async fn visible_location_fields(browser: &Browser) -> Vec<&'static str> {
    let mut visible = Vec::new();
    for label in LOCATION_FIELDS {
        let control = control_for(browser, label).await;
        let xpath = format!("//label[normalize-space(.)='{label}']");
        let label_element = browser.client.find(Locator::XPath(&xpath)).await.unwrap();
        let control_shown = control.is_displayed().await.unwrap();
        let label_shown = label_element.is_displayed().await.unwrap();
        assert_eq!(
            control_shown, label_shown,
            "{label:?} and its control differ in visibility"
        );
        if control_shown {
            visible.push(label);
        }
    }
    visible
}

async fn wait_for_location_fields(browser: &Browser, location: &str) {
    let expected = fields_of(location);
    eventually(
        WAIT,
        &format!("only {expected:?} to show for {location:?}"),
        || async { (visible_location_fields(browser).await == expected).then_some(()) },
    )
    .await;
}

/// The value a form control holds now.
async fn value_of(browser: &Browser, label: &str) -> String {
    browser
        .field_by_label(label)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_admin_creates_a_key_in_the_browser_and_sees_it_once() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);
    browser.login(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // A role first, on the Roles page, so that there is one to assign.
    browser.click_link("Roles").await;
    browser.wait_for_path("/roles").await;
    browser.click_link("Create role").await;
    browser.wait_for_path("/roles/new").await;
    browser.fill_by_label("Name", "Readers").await;
    browser
        .fill_by_label("Description", "Read-only access")
        .await;
    browser.click_button("Save").await;
    browser.wait_for_path("/roles").await;
    browser.wait_for_text("Role “Readers” created.").await;

    // The API Keys page, empty, from the navbar.
    browser.click_link("API Keys").await;
    browser.wait_for_path("/api-keys").await;
    browser.wait_for_text("No API keys yet").await;
    browser.click_link("Create API key").await;
    browser.wait_for_path("/api-keys/new").await;
    assert_eq!(browser.title().await, "Create Application · keyward");

    browser
        .fill_by_label("Application Name", "Mobile app")
        .await;
    browser
        .fill_by_label("Description", "Phones and tablets")
        .await;
    let active = browser.field_by_label("Active").await;
    assert!(
        active.is_selected().await.unwrap(),
        "a new key starts active"
    );

    // The first location is chosen, and it has no fields of its own.
    assert!(
        browser
            .field_by_label(NO_STORAGE)
            .await
            .is_selected()
            .await
            .unwrap()
    );
    wait_for_location_fields(&browser, NO_STORAGE).await;

    // Each option shows its own fields and hides the others'.
    browser.click_label(FILE_STORAGE).await;
    wait_for_location_fields(&browser, FILE_STORAGE).await;
    assert_eq!(value_of(&browser, "Storage Folder").await, "applications");
    browser
        .select_by_label("Storage Service", "Local Log Storage (logs)")
        .await;

    browser.click_label(WEB_SERVER).await;
    wait_for_location_fields(&browser, WEB_SERVER).await;
    browser
        .fill_by_label("Path to Application", "/srv/not-kept/index.html")
        .await;

    browser.click_label(NO_STORAGE).await;
    wait_for_location_fields(&browser, NO_STORAGE).await;

    browser.click_label(REMOTE_URL).await;
    wait_for_location_fields(&browser, REMOTE_URL).await;
    for option in [NO_STORAGE, FILE_STORAGE, WEB_SERVER] {
        let radio = browser.field_by_label(option).await;
        assert!(!radio.is_selected().await.unwrap(), "{option} still chosen");
    }
    browser
        .fill_by_label("URL to Application", "https://app.example.com/")
        .await;
    browser
        .select_by_label("Assign a Default Role", "Readers")
        .await;
    browser.screenshot("api-keys-form").await;

    browser.click_button("Save").await;
    browser.wait_for_text("API key created").await;
    let key_page = browser.path().await;
    let app_id: i32 = key_page
        .strip_prefix("/api-keys/")
        .and_then(|rest| rest.strip_suffix("/key"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("saving led to {key_page}, not a key page"));

    let key = value_of(&browser, "API key").await;
    assert_eq!(key.len(), 52, "key {key:?}");
    assert!(
        key.starts_with("kw_") && key[3..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "key {key:?}"
    );
    assert!(!key_page.contains(&key[3..]), "the key is in the URL");
    browser.wait_for_text("It will not be shown again.").await;

    // Copy: into the clipboard, or (when the browser refuses) selected for
    // Ctrl+C. Either way the admin is told, and the key stays in its field.
    browser.click_button("Copy").await;
    let status = eventually(WAIT, "the copy status to be announced", || async {
        let text = browser
            .client
            .find(Locator::Id("copy-status"))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        (!text.trim().is_empty()).then_some(text)
    })
    .await;
    assert!(
        status.contains("Copied") || status.contains("Selected"),
        "copy status {status:?}"
    );
    assert_eq!(value_of(&browser, "API key").await, key);
    browser.screenshot("api-key-created").await;

    // A reload does not show it again.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("was shown once").await;
    assert!(
        !browser.text().await.contains(&key[3..]),
        "shown after reload"
    );
    assert!(
        browser.client.find(Locator::Id("api-key")).await.is_err(),
        "a key field after reload"
    );
    assert!(browser.text().await.contains(&format!("{}…", &key[..9])));

    // Nor does going back to the form and forward again.
    browser.client.back().await.unwrap();
    browser.wait_for_path("/api-keys/new").await;
    browser.client.forward().await.unwrap();
    browser.wait_for_path(&key_page).await;
    browser.wait_for_text("was shown once").await;
    assert!(
        !browser.text().await.contains(&key[3..]),
        "shown after forward"
    );

    // One app, kept with the remote URL only and the chosen role.
    let rows = app.stored_apps();
    let readers: i32 = {
        let mut conn = app.pool.get().unwrap();
        roles::table
            .filter(roles::name.eq("Readers"))
            .select(roles::id)
            .first(&mut *conn)
            .unwrap()
    };
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row.id, app_id);
    assert_eq!(
        (
            row.name.as_str(),
            row.description.as_str(),
            row.is_active,
            row.location,
            row.role_id
        ),
        ("Mobile app", "Phones and tablets", true, 2, Some(readers))
    );
    assert_eq!(
        (
            row.storage_service_id,
            row.storage_container.as_deref(),
            row.path.as_deref(),
            row.url.as_deref()
        ),
        (None, None, None, Some("https://app.example.com/"))
    );

    // The list shows it, with its role and the start of its key.
    browser.click_link("Back to API Keys").await;
    browser.wait_for_path("/api-keys").await;
    let row_text = browser
        .client
        .find(Locator::Css(&format!("#app-{app_id}")))
        .await
        .expect("no row for the new key")
        .text()
        .await
        .unwrap();
    for shown in [
        "Active",
        "Mobile app",
        "Readers",
        &format!("{}…", &key[..9]),
        "Phones and tablets",
        "Never",
    ] {
        assert!(
            row_text.contains(shown),
            "row {row_text:?} without {shown:?}"
        );
    }
    assert!(
        !browser.text().await.contains(&key[3..]),
        "the list shows the key"
    );
    browser.screenshot("api-keys-list").await;
}
