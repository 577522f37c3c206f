//! Packages built here from DreamFactory's documented format, read and
//! planned as keyward would.

use std::io::Write;

use serde_json::{Value, json};

use super::package::{Package, PackageError};
use super::plan::{Action, Existing, Options, PUBLIC_KEY_APPS, plan};
use super::report::{Kind, Outcome};

const KEY: &str = "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d";

/// A package's ZIP, every entry encrypted with `password` when given.
fn zip(entries: &[(&str, Value)], password: Option<&str>) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, value) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let options = match password {
            Some(password) => options
                .with_deprecated_encryption(password.as_bytes())
                .unwrap(),
            None => options,
        };
        writer.start_file(*name, options).unwrap();
        writer.write_all(value.to_string().as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn manifest(secured: bool) -> Value {
    json!({"version": "0.1", "df_version": "4.12.0", "secured": secured, "created_date": "2026-11-30 10:00:00",
           "service": {"system": {"service": ["db"], "role": ["reader"], "app": ["shop"]}}})
}

fn package_entries() -> Vec<(&'static str, Value)> {
    vec![
        ("package.json", manifest(false)),
        (
            "system/service.json",
            json!([{"id": 5, "name": "db", "label": "Database", "description": "", "is_active": true, "type": "mysql",
                    "config": {"password": "never read"}},
                   {"id": 3, "name": "files", "label": "Local File Storage", "is_active": 1, "type": "local_file"}]),
        ),
        (
            "system/role.json",
            json!([{"id": 2, "name": "reader", "description": "reads", "is_active": true,
            "role_service_access_by_role_id": [
                {"id": 9, "role_id": 2, "service_id": 5, "component": "_table/*", "verb_mask": 1, "requestor_mask": 1, "filters": [], "filter_op": "AND"},
                {"id": 10, "role_id": 2, "service_id": null, "component": "*", "verb_mask": 3, "requestor_mask": 3, "filters": [], "filter_op": "AND"},
                {"id": 11, "role_id": 2, "service_id": 5, "component": "_table/orders", "verb_mask": 31, "requestor_mask": 1,
                 "filters": [{"name": "owner", "operator": "=", "value": "{user.id}"}], "filter_op": "AND"},
                {"id": 12, "role_id": 2, "service_id": 5, "component": "_proc/*", "verb_mask": 2, "requestor_mask": 2, "filters": [], "filter_op": "AND"},
                {"id": 13, "role_id": 2, "service_id": 77, "component": "*", "verb_mask": 1, "requestor_mask": 1, "filters": [], "filter_op": "AND"}
            ]}]),
        ),
        (
            "system/app.json",
            json!([{"id": 7, "name": "shop", "api_key": KEY, "description": "the shop", "is_active": true, "type": 0, "role_id": 2},
                   {"id": 8, "name": "admin", "api_key": "f".repeat(64), "is_active": true, "type": 0, "role_id": null},
                   {"id": 9, "name": "site", "api_key": KEY, "is_active": "1", "type": 1, "storage_service_id": 3,
                    "storage_container": "site", "path": "index.html", "role_id": 2}]),
        ),
    ]
}

fn read(entries: &[(&str, Value)]) -> Package {
    Package::read(&zip(entries, None), None).unwrap()
}

#[test]
fn a_plain_package_is_read_with_its_rules_inline() {
    let package = read(&package_entries());
    assert_eq!(package.manifest.df_version.as_deref(), Some("4.12.0"));
    assert_eq!(package.services.len(), 2);
    assert_eq!(package.roles[0].role_service_access_by_role_id.len(), 5);
    assert_eq!(package.apps[2].storage_service_id, Some(3));
    assert!(package.apps[2].is_active, "\"1\" is active");
    assert!(package.admins.is_none());
}

#[test]
fn a_secured_package_needs_its_password() {
    let mut entries = package_entries();
    entries[0].1 = manifest(true);
    let bytes = zip(&entries, Some("s3cret pass"));
    let package = Package::read(&bytes, Some("s3cret pass")).unwrap();
    assert_eq!(package.apps.len(), 3);
    assert_eq!(
        Package::read(&bytes, None).unwrap_err(),
        PackageError::PasswordRequired
    );
    assert_eq!(
        Package::read(&bytes, Some("wrong pass")).unwrap_err(),
        PackageError::WrongPassword
    );
}

#[test]
fn what_is_not_a_package_is_refused_with_a_reason() {
    assert_eq!(
        Package::read(b"PK not really", None).unwrap_err(),
        PackageError::NotZip
    );
    assert_eq!(
        Package::read(&zip(&[("system/app.json", json!([]))], None), None).unwrap_err(),
        PackageError::NoManifest
    );
    let mut bytes = zip(&[("package.json", manifest(false))], None);
    let broken = zip(
        &[
            ("package.json", manifest(false)),
            ("system/app.json", json!({"not": "a list"})),
        ],
        None,
    );
    assert!(matches!(
        Package::read(&broken, None).unwrap_err(),
        PackageError::Unreadable(entry, _) if entry == "system/app.json"
    ));
    bytes.truncate(bytes.len() / 2);
    assert_eq!(
        Package::read(&bytes, None).unwrap_err(),
        PackageError::NotZip
    );
}

fn outcome(plan: &super::Plan, kind: Kind, name: &str) -> (Outcome, Vec<String>) {
    let line = plan
        .report
        .lines
        .iter()
        .find(|line| line.kind == kind && line.name == name)
        .unwrap_or_else(|| panic!("no line for {name}"));
    (line.outcome.clone(), line.notes.clone())
}

#[test]
fn a_fresh_import_creates_everything_it_can_honour() {
    let plan = plan(
        &read(&package_entries()),
        &Existing::default(),
        Options::default(),
    );
    assert_eq!(plan.services.len(), 2);
    assert_eq!(plan.roles.len(), 1);
    let rules = &plan.roles[0].item.rules;
    // Kept: the table rule (GET on db) and the all-services rule (its SCRIPT
    // access dropped). Left out: the filtered rule, the script-only rule and
    // the rule on a service the package does not have.
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].service.as_deref(), Some("db"));
    assert_eq!(rules[0].verbs.bits(), 1);
    assert_eq!(rules[1].service, None);
    assert_eq!(rules[1].verbs.bits(), 3);
    let (role, notes) = outcome(&plan, Kind::Role, "reader");
    assert_eq!(role, Outcome::Create);
    let notes = notes.join("\n");
    assert!(notes.contains("row-level filter"), "{notes}");
    assert!(notes.contains("scripts only"), "{notes}");
    assert!(notes.contains("SCRIPT access is dropped"), "{notes}");
    assert!(notes.contains("service id 77"), "{notes}");
    let shop = &plan.apps[0].item;
    assert_eq!(shop.role.as_deref(), Some("reader"));
    assert_eq!(
        shop.key.as_ref().map(|k| k.hash()),
        Some(crate::apps::domain::LegacyKey::parse(KEY).unwrap().hash())
    );
    assert_eq!(plan.apps[0].action, Action::Create);
}

#[test]
fn seeded_apps_with_public_keys_are_imported_inactive_unless_kept() {
    let package = read(&package_entries());
    let plan_default = plan(&package, &Existing::default(), Options::default());
    let admin = plan_default
        .apps
        .iter()
        .find(|step| step.item.record.name == "admin")
        .unwrap();
    assert!(PUBLIC_KEY_APPS.contains(&"admin"));
    assert!(!admin.item.is_active);
    assert!(outcome(&plan_default, Kind::App, "admin").1[0].contains("publicly known key"));
    let kept = plan(
        &package,
        &Existing::default(),
        Options {
            keep_public_keys: true,
            ..Options::default()
        },
    );
    assert!(
        kept.apps
            .iter()
            .find(|s| s.item.record.name == "admin")
            .unwrap()
            .item
            .is_active
    );
}

#[test]
fn a_key_used_twice_or_already_in_keyward_is_not_kept() {
    let package = read(&package_entries());
    let planned = plan(&package, &Existing::default(), Options::default());
    // "site" has shop's key: DreamFactory allows that, keyward does not.
    let site = planned
        .apps
        .iter()
        .find(|s| s.item.record.name == "site")
        .unwrap();
    assert!(site.item.key.is_none());
    assert!(
        outcome(&planned, Kind::App, "site")
            .1
            .join(" ")
            .contains("also the key of “shop”")
    );
    assert_eq!(site.item.storage_service.as_deref(), Some("files"));
    let taken = Existing {
        taken_keys: [package.apps[0].api_key.clone()]
            .iter()
            .map(|k| crate::apps::domain::LegacyKey::parse(k).unwrap().hash())
            .collect(),
        ..Existing::default()
    };
    let planned = plan(&package, &taken, Options::default());
    assert!(planned.apps[0].item.key.is_none());
    assert!(
        outcome(&planned, Kind::App, "shop")
            .1
            .join(" ")
            .contains("already an application's key")
    );
}

#[test]
fn what_exists_by_name_is_skipped_or_with_update_updated() {
    let package = read(&package_entries());
    let existing = Existing {
        services: [("db".to_owned(), (40, false))].into(),
        roles: [("reader".to_owned(), 41)].into(),
        apps: [("shop".to_owned(), 42)].into(),
        ..Existing::default()
    };
    let skipped = plan(&package, &existing, Options::default());
    assert_eq!(outcome(&skipped, Kind::Service, "db").0, Outcome::Exists);
    assert_eq!(outcome(&skipped, Kind::Role, "reader").0, Outcome::Exists);
    assert_eq!(outcome(&skipped, Kind::App, "shop").0, Outcome::Exists);
    assert_eq!(skipped.roles.len(), 0);
    // Apps still find the role that exists.
    assert_eq!(
        skipped
            .apps
            .iter()
            .find(|s| s.item.record.name == "site")
            .unwrap()
            .item
            .role
            .as_deref(),
        Some("reader")
    );
    let updated = plan(
        &package,
        &existing,
        Options {
            update: true,
            ..Options::default()
        },
    );
    assert_eq!(updated.services[0].action, Action::Update(40));
    assert_eq!(updated.roles[0].action, Action::Update(41));
    assert_eq!(updated.apps[0].action, Action::Update(42));
    assert!(
        updated.apps[0].item.key.is_none(),
        "an update keeps keyward's key"
    );
}

#[test]
fn records_keyward_cannot_hold_are_reported_not_dropped() {
    let mut entries = package_entries();
    entries.push(("system/user.json", json!([{"email": "u@example.com"}])));
    entries.push(("system/cors.json", json!([{"origin": "*"}])));
    entries.push(("system/email_template.json", json!([{"name": "welcome"}])));
    entries.push((
        "system/admin.json",
        json!([{"email": "Ops@Example.com", "first_name": "Op", "last_name": "S", "is_active": true,
                "password": "$2y$10$abcdefghijklmnopqrstuu5Qo5RAbHpk9b2WlJl3X8cdE8xm6TLOa",
                "user_to_app_to_role_by_user_id": [{"app_id": 7, "role_id": 2}]},
               {"email": "nopass@example.com", "password": ""}]),
    ));
    let package = read(&entries);
    let without = plan(&package, &Existing::default(), Options::default());
    let notes = without.report.notes.join("\n");
    for expected in [
        "system/user.json",
        "system/cors.json",
        "system/email_template.json",
        "--with-admins",
    ] {
        assert!(notes.contains(expected), "{expected} missing from {notes}");
    }
    assert!(without.admins.is_empty());
    let with = plan(
        &package,
        &Existing::default(),
        Options {
            with_admins: true,
            ..Options::default()
        },
    );
    assert_eq!(with.admins.len(), 1);
    assert_eq!(with.admins[0].item.email.as_str(), "ops@example.com");
    assert_eq!(with.admins[0].item.name, "Op S");
    let (ops, notes) = outcome(&with, Kind::Admin, "Ops@Example.com");
    assert_eq!(ops, Outcome::Create);
    assert!(notes.join(" ").contains("per-app role"));
    assert!(matches!(
        outcome(&with, Kind::Admin, "nopass@example.com").0,
        Outcome::NotImported(_)
    ));
}

#[test]
fn invalid_records_are_not_imported_and_say_why() {
    let entries = vec![
        ("package.json", manifest(false)),
        (
            "system/service.json",
            json!([{"name": "Bad Name!", "type": "mysql"}]),
        ),
        (
            "system/app.json",
            json!([{"name": "", "api_key": KEY}, {"name": "web", "type": 2, "url": "not a url", "api_key": KEY}]),
        ),
    ];
    let planned = plan(&read(&entries), &Existing::default(), Options::default());
    assert!(planned.services.is_empty() && planned.apps.is_empty());
    let (bad, _) = outcome(&planned, Kind::Service, "Bad Name!");
    assert!(matches!(bad, Outcome::NotImported(why) if why.contains("lowercase")));
    assert!(matches!(
        outcome(&planned, Kind::App, "web").0,
        Outcome::NotImported(_)
    ));
    let text = planned.report.to_text(false);
    assert!(text.contains("dry run: nothing was written"), "{text}");
    assert!(!text.contains(KEY), "the report never shows a key");
}
