//! Last-used times: a verification shows on the API Keys list as when the
//! key was last used; an unused key shows Never; times whose write failed are
//! written by a later one.

use std::time::Duration;

use diesel::prelude::*;
use keyward::verify::verifier::LAST_USED_FLUSH_INTERVAL;

use super::{code, contacts_get, setup};
use crate::harness::{Backend, TestApp, TestResponse, eventually};

/// The `<tr>` of one app on the API Keys list.
fn app_row(list: &TestResponse, app_id: i32) -> String {
    let start = list
        .body
        .find(&format!("<tr id=\"app-{app_id}\">"))
        .unwrap_or_else(|| panic!("no row for app {app_id}: {}", list.body));
    let end = start + list.body[start..].find("</tr>").expect("unclosed row");
    list.body[start..end].to_owned()
}

/// The "Last used" cell of a row (its last cell).
fn last_used_cell(row: &str) -> String {
    row.rsplit("<td>").next().unwrap_or_default().to_owned()
}

storage_test!(the_list_shows_when_a_key_was_last_used, |app| async move {
    let s = setup(&app).await;
    let (idle_id, _) = app.create_key("Idle app", Some(s.role)).await;
    let list = app.get("/api-keys").await;
    for id in [s.app_id, idle_id] {
        let cell = last_used_cell(&app_row(&list, id));
        assert!(cell.contains("Never"), "app {id} used already: {cell}");
    }

    let answer = app.verify(&contacts_get(&s.key)).await;
    assert_eq!(code(&answer), "VALID", "{answer}");
    let cell = eventually(
        Duration::from_secs(10),
        "the list to show when the key was used",
        || async {
            let cell = last_used_cell(&app_row(&app.get("/api-keys").await, s.app_id));
            (!cell.contains("Never")).then_some(cell)
        },
    )
    .await;
    let shown = cell
        .split_once("<time datetime=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(at, _)| at.to_owned())
        .unwrap_or_else(|| panic!("no time in the Last used cell: {cell}"));
    let used = chrono::NaiveDateTime::parse_from_str(&shown, "%Y-%m-%dT%H:%M:%SZ")
        .unwrap_or_else(|e| panic!("{shown:?} is not a time: {e}"));
    let age = chrono::Utc::now().naive_utc() - used;
    assert!(
        age >= chrono::Duration::seconds(-2) && age <= chrono::Duration::seconds(60),
        "last used {shown}, but the key was used just now"
    );
    assert!(cell.contains("UTC"), "{cell}");

    let idle = last_used_cell(&app_row(&app.get("/api-keys").await, idle_id));
    assert!(idle.contains("Never"), "an unused key shows a time: {idle}");
});

/// Installs (or removes) a trigger that makes every write of an app's last
/// use fail, as a full disk or a lost connection would.
fn refuse_last_used(app: &TestApp, refuse: bool) {
    let sql = match (app.backend(), refuse) {
        (Backend::Sqlite, true) => {
            "CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON apps \
             BEGIN SELECT RAISE(ABORT, 'last-used writes refused by the test'); END;"
        }
        (Backend::Sqlite, false) => "DROP TRIGGER refuse_last_used;",
        (Backend::Postgres, true) => {
            "CREATE FUNCTION refuse_last_used() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'last-used writes refused by the test'; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_last_used BEFORE UPDATE OF last_used_at ON apps \
             FOR EACH ROW EXECUTE FUNCTION refuse_last_used();"
        }
        (Backend::Postgres, false) => {
            "DROP TRIGGER refuse_last_used ON apps; DROP FUNCTION refuse_last_used();"
        }
    };
    let mut conn = app.pool.get().unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut *conn, sql).unwrap();
}

/// The stored last use of app `id`.
fn last_used_at(app: &TestApp, id: i32) -> Option<chrono::NaiveDateTime> {
    use keyward::schema::apps;
    let mut conn = app.pool.get().unwrap();
    apps::table
        .find(id)
        .select(apps::last_used_at)
        .first(&mut *conn)
        .unwrap()
}

storage_test!(
    times_a_failed_write_took_are_written_by_a_later_one,
    |app| async move {
        let s = setup(&app).await;
        let (other_id, other_key) = app.create_key("Other app", Some(s.role)).await;
        refuse_last_used(&app, true);
        let used = chrono::Utc::now().naive_utc();
        for key in [&s.key, &other_key] {
            let answer = app.verify(&contacts_get(key)).await;
            assert_eq!(code(&answer), "VALID", "{answer}");
        }
        // At least one write is tried, and fails, meanwhile.
        tokio::time::sleep(LAST_USED_FLUSH_INTERVAL + Duration::from_secs(1)).await;
        for id in [s.app_id, other_id] {
            assert_eq!(
                last_used_at(&app, id),
                None,
                "the trigger let app {id} through"
            );
        }

        refuse_last_used(&app, false);
        // No key is used again: what is written is what the failed write took.
        for id in [s.app_id, other_id] {
            let written = eventually(
                LAST_USED_FLUSH_INTERVAL * 2 + Duration::from_secs(1),
                &format!("the last use of app {id} to be written after the failure"),
                || async { last_used_at(&app, id) },
            )
            .await;
            let after = written - used;
            assert!(
                after >= chrono::Duration::seconds(-1) && after <= chrono::Duration::seconds(2),
                "app {id} was last used at {used}, but {written} was written"
            );
        }
    }
);

storage_test!(a_last_use_never_moves_back, |app| async move {
    use keyward::verify::queries::record_last_used;
    let s = setup(&app).await;
    let (other_id, _) = app.create_key("Other app", Some(s.role)).await;
    let at = |second| {
        chrono::NaiveDate::from_ymd_opt(2026, 3, 1)
            .and_then(|day| day.and_hms_opt(12, 0, second))
            .expect("a time")
    };
    {
        let mut conn = app.pool.get().unwrap();
        // Two instances' flushes, the later one carrying an older time for
        // one app (it verified that key earlier) and a newer one for the other.
        record_last_used(&mut conn, &[(s.app_id, at(30)), (other_id, at(10))]).unwrap();
        record_last_used(&mut conn, &[(s.app_id, at(20)), (other_id, at(40))]).unwrap();
    }
    assert_eq!(last_used_at(&app, s.app_id), Some(at(30)));
    assert_eq!(last_used_at(&app, other_id), Some(at(40)));
});
