//! `keyward import dreamfactory` as an operator runs it: the report on
//! standard output, a dry run that writes nothing, a re-import that changes
//! nothing, `--update`, secured packages, and clear one-line errors.

use super::{
    SHOP_KEY, app_named, counts, entries, import, import_with_env, package, succeeded,
    write_package, zip,
};
use crate::harness::TempDir;

storage_test!(
    an_import_reports_what_it_did_and_keeps_every_key_secret,
    |app| async move {
        let dir = TempDir::new("keyward-import");
        let path = write_package(&dir.0, "package.zip", &package(None));
        let before = counts(&app);
        let report = succeeded(&import(&app, &path, &[]));
        for expected in [
            "service “db”: created",
            // keyward has DreamFactory's "files" service from the start.
            "service “files”: exists, skipped",
            "role “Readers”: created",
            "application “shop”: created",
            "application “mobile”: created",
            "application “admin”: created",
            "publicly known key: imported inactive",
            "row-level filter",
            "SCRIPT access is dropped",
            "system/cors.json",
            "storage contents are not imported (keyward holds no files): files/pictures/",
            "1 administrator(s) in system/admin.json are not imported (import them with --with-admins)",
            "5 created, 0 updated, 1 existing skipped, 0 not imported",
        ] {
            assert!(
                report.contains(expected),
                "{expected:?} missing from:\n{report}"
            );
        }
        for secret in [SHOP_KEY, "do-not-log-me", "$2y$"] {
            assert!(!report.contains(secret), "the report shows {secret}");
        }
        let after = counts(&app);
        // 1 service, 1 role, 2 of its 3 rules, 3 apps, no admin.
        assert_eq!(
            [
                after[0] - before[0],
                after[1] - before[1],
                after[2] - before[2],
                after[3] - before[3],
                after[4] - before[4]
            ],
            [1, 1, 2, 3, 0]
        );
        let shop = app_named(&app, "shop");
        assert_eq!(
            shop.key_hash,
            keyward::apps::domain::LegacyKey::parse(SHOP_KEY)
                .unwrap()
                .hash()
        );
        assert_eq!(shop.key_prefix, "6498a8ad");
        assert!(shop.is_active);
        assert!(
            !app_named(&app, "admin").is_active,
            "the seeded app's public key works"
        );
        let mobile = app_named(&app, "mobile");
        assert_eq!(
            (mobile.location, mobile.url.as_deref()),
            (2, Some("https://m.example.com/"))
        );
        // Every object has its audit event, in the console's words.
        let imported: i64 = {
            use diesel::prelude::*;
            use keyward::schema::audit_events;
            let mut conn = app.pool.get().unwrap();
            audit_events::table
                .filter(audit_events::action.eq("imported"))
                .filter(audit_events::admin_email.eq("keyward import dreamfactory"))
                .count()
                .get_result(&mut *conn)
                .unwrap()
        };
        assert_eq!(
            imported, 5,
            "the service, role and apps each have an “imported” event"
        );
    }
);

storage_test!(
    a_dry_run_writes_nothing_and_a_second_import_changes_nothing,
    |app| async move {
        let dir = TempDir::new("keyward-import");
        let path = write_package(&dir.0, "package.zip", &package(None));
        let before = counts(&app);
        let dry = succeeded(&import(&app, &path, &["--dry-run"]));
        assert!(dry.contains("application “shop”: will be created"), "{dry}");
        assert!(dry.contains("5 to create, 0 to update, 1 existing skipped, 0 not imported (dry run: nothing was written)"), "{dry}");
        assert_eq!(counts(&app), before, "a dry run wrote something");
        succeeded(&import(&app, &path, &[]));
        let once = counts(&app);
        let again = succeeded(&import(&app, &path, &[]));
        assert!(
            again.contains("application “shop”: exists, skipped"),
            "{again}"
        );
        assert!(
            again.contains("0 created, 0 updated, 6 existing skipped, 0 not imported"),
            "{again}"
        );
        assert_eq!(counts(&app), once, "a second import changed something");
        // With --update the first run takes the package's "files" over
        // keyward's own (one audit event); a second changes nothing.
        let updated = succeeded(&import(&app, &path, &["--update"]));
        assert!(updated.contains("role “Readers”: updated"), "{updated}");
        let after_update = counts(&app);
        assert_eq!(after_update[5], once[5] + 1, "{updated}");
        succeeded(&import(&app, &path, &["--update"]));
        assert_eq!(
            counts(&app),
            after_update,
            "an unchanged --update wrote something"
        );
    }
);

storage_test!(
    update_brings_changed_records_and_rules_over,
    |app| async move {
        let dir = TempDir::new("keyward-import");
        let path = write_package(&dir.0, "package.zip", &package(None));
        succeeded(&import(&app, &path, &[]));
        let mut changed = entries(false);
        for (name, value) in &mut changed {
            match *name {
                "system/app.json" => value[0]["description"] = "The new shop".into(),
                // GET on tables becomes GET and POST; the files rule goes.
                "system/role.json" => {
                    let rules = value[0]["role_service_access_by_role_id"]
                        .as_array_mut()
                        .unwrap();
                    rules[0]["verb_mask"] = 3.into();
                    rules.truncate(2);
                }
                _ => {}
            }
        }
        let path = write_package(&dir.0, "changed.zip", &zip(&changed, None));
        let skipped = succeeded(&import(&app, &path, &[]));
        assert!(
            skipped.contains("application “shop”: exists, skipped"),
            "{skipped}"
        );
        assert_eq!(app_named(&app, "shop").description, "The web shop");
        let report = succeeded(&import(&app, &path, &["--update"]));
        assert!(
            report.contains("its key stays the one keyward has"),
            "{report}"
        );
        let shop = app_named(&app, "shop");
        assert_eq!(shop.description, "The new shop");
        assert_eq!(
            shop.key_hash,
            keyward::apps::domain::LegacyKey::parse(SHOP_KEY)
                .unwrap()
                .hash()
        );
        let rules: Vec<(Option<i32>, String, i32)> = {
            use diesel::prelude::*;
            use keyward::schema::role_rules;
            let mut conn = app.pool.get().unwrap();
            role_rules::table
                .filter(role_rules::role_id.eq(app.role_id("Readers")))
                .select((
                    role_rules::service_id,
                    role_rules::component,
                    role_rules::verbs,
                ))
                .load(&mut *conn)
                .unwrap()
        };
        assert_eq!(
            rules,
            vec![(Some(app.service_id("db")), "_table/*".to_owned(), 3)]
        );
    }
);

storage_test!(a_secured_package_needs_its_password, |app| async move {
    let dir = TempDir::new("keyward-import");
    let path = write_package(&dir.0, "secured.zip", &package(Some("package-pass")));
    let before = counts(&app);
    for (args, says) in [
        (&[][..], "this package is secured: give its password"),
        (&["--password", "wrong-pass"][..], "the password is wrong"),
    ] {
        let output = import(&app, &path, args);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("wrong-pass"), "the password was printed");
    }
    assert_eq!(counts(&app), before);
    let report = succeeded(&import(&app, &path, &["--password", "package-pass"]));
    assert!(report.contains("application “shop”: created"), "{report}");
    // The password may come from the environment instead (kept out of `ps`).
    let dry = import_with_env(&app, &path, "package-pass");
    assert!(dry.contains("exists, skipped"), "{dry}");
});

storage_test!(what_is_not_a_package_is_one_clear_line, |app| async move {
    let dir = TempDir::new("keyward-import");
    for (bytes, says) in [
        (b"not a zip at all".to_vec(), "not a ZIP file"),
        (
            zip(&[("README.txt", serde_json::json!("hi"))], None),
            "no package.json",
        ),
    ] {
        let path = write_package(&dir.0, "bad.zip", &bytes);
        let output = import(&app, &path, &[]);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{stderr}");
    }
    let missing = import(&app, &dir.0.join("missing.zip"), &[]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
});
