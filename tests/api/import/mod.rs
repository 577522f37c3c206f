//! Moving from DreamFactory (`src/import/`): packages built here from
//! DreamFactory's documented export format (plain and secured), imported
//! with `keyward import dreamfactory` (`cli`) and through the Import page
//! (`page`); what the imported keys, rules and administrators then do
//! (`keys`).

mod browser;
mod cli;
mod keys;
mod page;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

use crate::harness::TestApp;

/// The DreamFactory key of the app "shop" (64 lowercase hex characters, as
/// DreamFactory generates them).
pub const SHOP_KEY: &str = "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d";
/// A client-supplied key of "mobile" (DreamFactory takes any 64+ letters and digits).
pub const MOBILE_KEY: &str = "MobileClientSuppliedKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH";
/// The public key of DreamFactory's seeded "admin" app, as its packages carry it.
pub const SEEDED_ADMIN_KEY: &str =
    "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f00";
/// The DreamFactory password of the exported administrator.
pub const DF_ADMIN_PASSWORD: &str = "df-pass-1";

/// A package as DreamFactory's Export writes it: `package.json` and the
/// records of `system/`, every entry encrypted with `password` if given.
pub fn package(password: Option<&str>) -> Vec<u8> {
    zip(&entries(password.is_some()), password)
}

/// The entries of the test package.
pub fn entries(secured: bool) -> Vec<(&'static str, Value)> {
    let hash = bcrypt::hash(DF_ADMIN_PASSWORD, 4)
        .unwrap()
        .replacen("$2b$", "$2y$", 1);
    vec![
        (
            "package.json",
            json!({"version": "0.1", "df_version": "4.12.0", "secured": secured,
                   "description": "", "created_date": "2026-11-30 10:00:00",
                   "service": {"system": {"service": ["db", "files"], "role": ["Readers"],
                                          "app": ["shop", "mobile", "admin"], "admin": ["ops@example.com"],
                                          "cors": [1]},
                               "files": ["pictures/"]}}),
        ),
        (
            "system/service.json",
            json!([
                {"id": 4, "name": "db", "label": "Database", "description": "MySQL", "is_active": true,
                 "type": "mysql", "mutable": true, "deletable": true,
                 "config": {"host": "db.internal", "username": "df", "password": "do-not-log-me"}},
                {"id": 3, "name": "files", "label": "Local File Storage", "description": "", "is_active": true,
                 "type": "local_file", "config": {"container": "app"}}
            ]),
        ),
        (
            "system/role.json",
            json!([{"id": 2, "name": "Readers", "description": "read contacts", "is_active": true,
            "role_service_access_by_role_id": [
                {"id": 11, "role_id": 2, "service_id": 4, "component": "_table/*", "verb_mask": 1,
                 "requestor_mask": 1, "filters": [], "filter_op": "AND"},
                {"id": 12, "role_id": 2, "service_id": 4, "component": "_table/secrets", "verb_mask": 31,
                 "requestor_mask": 1, "filters": [{"name": "owner_id", "operator": "=", "value": "{user.id}"}],
                 "filter_op": "AND"},
                {"id": 13, "role_id": 2, "service_id": 3, "component": "*", "verb_mask": 3,
                 "requestor_mask": 3, "filters": [], "filter_op": "AND"}
            ]}]),
        ),
        (
            "system/app.json",
            json!([
                {"id": 5, "name": "shop", "api_key": SHOP_KEY, "description": "The web shop", "is_active": true,
                 "type": 0, "path": null, "url": null, "storage_service_id": null, "storage_container": null,
                 "requires_fullscreen": false, "allow_fullscreen_toggle": true, "toggle_location": "top",
                 "role_id": 2, "launch_url": ""},
                {"id": 6, "name": "mobile", "api_key": MOBILE_KEY, "description": "", "is_active": 1,
                 "type": 2, "url": "https://m.example.com/", "role_id": 2},
                {"id": 1, "name": "admin", "api_key": SEEDED_ADMIN_KEY, "description": "An application for administering this instance.",
                 "is_active": true, "type": 3, "path": "dreamfactory/dist/index.html", "role_id": null}
            ]),
        ),
        (
            "system/admin.json",
            json!([{"id": 1, "name": "Ops Person", "first_name": "Ops", "last_name": "Person",
                    "email": "ops@example.com", "is_active": true, "is_sys_admin": true, "password": hash,
                    "user_to_app_to_role_by_user_id": []}]),
        ),
        (
            "system/cors.json",
            json!([{"id": 1, "path": "*", "origin": "*", "enabled": true}]),
        ),
    ]
}

/// A ZIP of `entries`, encrypted with traditional PKWARE encryption when
/// `password` is given (as DreamFactory secures a package).
pub fn zip(entries: &[(&str, Value)], password: Option<&str>) -> Vec<u8> {
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
        writer
            .write_all(serde_json::to_string_pretty(value).unwrap().as_bytes())
            .unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Writes `bytes` as `name` in `dir`.
pub fn write_package(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `keyward import dreamfactory PACKAGE ARGS…` on `app`'s database.
pub fn import(app: &TestApp, package: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_keyward"))
        .env_remove("KEYWARD_IMPORT_PASSWORD")
        .env_remove("RUST_LOG")
        .args(["--database-url", &app.db.url, "import", "dreamfactory"])
        .arg(package)
        .args(args)
        .output()
        .expect("cannot run keyward")
}

/// Standard output of a command that must have succeeded.
pub fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "keyward failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Counts of what an import writes: services, roles, rules, apps, admins,
/// audit events.
pub fn counts(app: &TestApp) -> [i64; 6] {
    use diesel::prelude::*;
    use keyward::schema::{admins, apps, audit_events, role_rules, roles, services};
    let mut conn = app.pool.get().unwrap();
    [
        services::table.count().get_result(&mut *conn).unwrap(),
        roles::table.count().get_result(&mut *conn).unwrap(),
        role_rules::table.count().get_result(&mut *conn).unwrap(),
        apps::table.count().get_result(&mut *conn).unwrap(),
        admins::table.count().get_result(&mut *conn).unwrap(),
        audit_events::table.count().get_result(&mut *conn).unwrap(),
    ]
}

/// The stored app called `name`.
pub fn app_named(app: &TestApp, name: &str) -> crate::harness::StoredApp {
    app.stored_apps()
        .into_iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no app {name}"))
}

/// A dry run with the package's password in `KEYWARD_IMPORT_PASSWORD`.
pub fn import_with_env(app: &TestApp, package: &Path, password: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .env("KEYWARD_IMPORT_PASSWORD", password)
        .env_remove("RUST_LOG")
        .args([
            "--database-url",
            &app.db.url,
            "import",
            "dreamfactory",
            "--dry-run",
        ])
        .arg(package)
        .output()
        .expect("cannot run keyward");
    succeeded(&output)
}
