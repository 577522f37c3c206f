//! A DreamFactory-style script (tests/dreamfactory/ci_apps.py: Python 3,
//! standard library only, written as DreamFactory users write them) run
//! unchanged against a real keyward on SQLite and PostgreSQL.

use serde_json::json;

use super::{Df, app_names, expect};
use crate::harness::{ADMIN_EMAIL, ADMIN_PASSWORD, StatusCode};

storage_test!(a_dreamfactory_script_runs_unchanged, |app| async move {
    let df = Df::for_app(&app).await;
    expect(
        &df.post(
            "/app",
            &json!({"resource": [
            {"name": "ci-existing"}, {"name": "ci-off", "is_active": false}, {"name": "prod"}]}),
        )
        .await,
        StatusCode::CREATED,
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dreamfactory/ci_apps.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .env("DF_URL", &app.address)
        .env("DF_EMAIL", ADMIN_EMAIL)
        .env("DF_PASSWORD", ADMIN_PASSWORD)
        .output()
        .await
        .expect("python3 is not on PATH");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the script failed:\n{stdout}\n{stderr}"
    );
    let expected = [
        format!("signed in as {ADMIN_EMAIL}"),
        "ci apps: 1 ['ci-existing']".to_owned(),
        "created: [('ci-nightly', 'kw_'), ('ci-release', 'kw_')]".to_owned(),
        "patched: nightly, patched".to_owned(),
        "ci apps now: 3".to_owned(),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    for (line, want) in lines.iter().zip(&expected) {
        assert_eq!(line, want, "{stdout}");
    }
    assert!(lines[5].starts_with("deleted: ["), "{stdout}");
    assert_eq!(lines[6], "signed out: True", "{stdout}");
    assert_eq!(app_names(&app), ["ci-existing", "ci-off", "prod"]);
});
