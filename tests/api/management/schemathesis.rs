//! schemathesis (the real CLI, from PyPI) drives every operation of the
//! OpenAPI document against a running keyward with a read-write token,
//! starting from a file service, a role with a rule and two keys: no answer
//! is a server error, and each answer's status, content type, headers and
//! body are what the document says; an operation that wants a token refuses
//! a request without one; what was created can be read back, and what was
//! deleted is gone. `.ci/run` installs schemathesis into `target/tools/venv`
//! (`pip install schemathesis==4.32.5`); a fixed seed and a bounded number of
//! examples keep the run the same each time and short.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Api, expect};
use crate::harness::{Backend, StatusCode, TempDir, TestApp, skip_or_fail, spawn_app};

/// The checks run on every answer (all that keyward's document promises).
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance,ignored_auth,use_after_free,\
    ensure_resource_availability";
/// Test cases per operation and phase: enough to reach each answer, little
/// enough for a short run on two cores.
const MAX_EXAMPLES: &str = "30";
const SEED: &str = "20240601";
/// Far above a run's length on two cores (about 15 s).
const TIMEOUT: Duration = Duration::from_secs(150);
/// Deactivating an administrator can end the token's own; it runs last.
const ADMIN_ACTIVE: &str = "/api/v1/admins/{id}/active";

/// `target/tools/venv/bin/schemathesis`, else the one on `PATH`.
fn schemathesis() -> Option<PathBuf> {
    let installed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/schemathesis");
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("schemathesis"))
            .find(|path| path.is_file())
    });
    let found = Some(installed).filter(|p| p.is_file()).or(on_path);
    if found.is_none() {
        skip_or_fail(
            "schemathesis not found in target/tools/venv/bin or on PATH \
             (python3 -m venv target/tools/venv; target/tools/venv/bin/pip install schemathesis)",
        );
    }
    found
}

/// What one run of schemathesis reported.
struct Run {
    /// Operations it tested.
    tested: u64,
    /// Operations the filters chose.
    selected: u64,
}

/// Runs `schemathesis run` on the app's document with `token` and `filter`
/// (its `--include-…`/`--exclude-…` options); fails the test, with
/// schemathesis's output, when it reports a failure or an error.
async fn run(schemathesis: &Path, app: &TestApp, token: &str, filter: &[&str]) -> Run {
    let dir = TempDir::new("keyward-schemathesis");
    let report = dir.0.join("report.json");
    let mut command = tokio::process::Command::new(schemathesis);
    command
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "1", "--request-timeout", "10"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--report", "json", "--report-json-path"])
        .arg(&report)
        .args(filter)
        // Nothing of it (a .hypothesis folder, reports) lands in the tree.
        .current_dir(&dir.0)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command.spawn().expect("cannot start schemathesis");
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis {filter:?} ran longer than {TIMEOUT:?}"))
        .expect("cannot wait for schemathesis");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "schemathesis {filter:?} found failures ({}):\n{said}",
        output.status
    );
    let report: Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("schemathesis wrote no JSON report:\n{said}"));
    let count = |name: &str| {
        report["operations"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no operations.{name} in the report: {report}"))
    };
    assert_eq!(count("errored"), 0, "{said}");
    assert_eq!(report["failures"], json!([]), "{said}");
    Run {
        tested: count("tested"),
        selected: count("selected"),
    }
}

/// What schemathesis starts from: objects with the ids 1 to 3 that its
/// generated paths name (services 1 and 2 are the seeded file storages).
async fn seed(api: &Api) {
    let service = expect(
        &api.post(
            "/services",
            &json!({"name": "reports", "label": "Reports", "kind": "file"}),
        )
        .await,
        StatusCode::CREATED,
    );
    let role = expect(
        &api.post("/roles", &json!({"name": "Readers"})).await,
        StatusCode::CREATED,
    );
    expect(
        &api.post(
            &format!("/roles/{}/rules", role["id"]),
            &json!({"service_id": service["id"], "component": "*", "verbs": ["GET"]}),
        )
        .await,
        StatusCode::CREATED,
    );
    for name in ["Mobile app", "Nightly job"] {
        expect(
            &api.post("/apps", &json!({"name": name, "role_id": role["id"]}))
                .await,
            StatusCode::CREATED,
        );
    }
}

/// The newest audit event's id.
async fn last_event(api: &Api) -> i64 {
    let events = expect(&api.get("/audit-events?per_page=10").await, StatusCode::OK);
    events["events"][0]["id"].as_i64().expect("no audit event")
}

/// The kinds of object changed through `token_name` after event `since`.
async fn changed_kinds(api: &Api, token_name: &str, since: i64) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let page = match before {
            Some(id) => format!("/audit-events?per_page=100&before={id}"),
            None => "/audit-events?per_page=100".to_owned(),
        };
        let events = expect(&api.get(&page).await, StatusCode::OK);
        let events = events["events"].as_array().expect("events").clone();
        for event in &events {
            let id = event["id"].as_i64().unwrap();
            if id <= since {
                return kinds;
            }
            if event["actor"]["via_token"] == token_name {
                let kind = event["object"]["kind"].as_str().unwrap().to_owned();
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            before = Some(id);
        }
        if events.is_empty() {
            return kinds;
        }
    }
}

#[tokio::test]
async fn schemathesis_finds_every_answer_as_documented() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let api = Api::for_app(&app, "write").await;
    seed(&api).await;
    let token_name = expect(&api.get("/audit-events?object=token").await, StatusCode::OK)["events"]
        [0]["object"]["name"]
        .as_str()
        .expect("the token's creation in the audit log")
        .to_owned();
    let document = expect(&api.get("/openapi.json").await, StatusCode::OK);
    let operations: u64 = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len() as u64)
        .sum();
    let since = last_event(&api).await;

    // Every operation but deactivating an administrator: with another
    // administrator made by the run, that could end the token's own, and
    // every answer after it would be a 401.
    let most = run(
        &schemathesis,
        &app,
        &api.token,
        &["--exclude-path", ADMIN_ACTIVE],
    )
    .await;
    assert_eq!(
        (most.selected, most.tested),
        (operations - 1, operations - 1)
    );
    // The token still works, and the run reached past the token wall into
    // every kind of object.
    expect(&api.get("/apps").await, StatusCode::OK);
    let changed = changed_kinds(&api, &token_name, since).await;
    for kind in ["app", "role", "service"] {
        assert!(
            changed.iter().any(|k| k == kind),
            "schemathesis changed no {kind}; it changed {changed:?}"
        );
    }

    // Last, deactivating: with a second administrator it can succeed.
    expect(
        &api.post(
            "/admins",
            &json!({"email": "second@example.com", "password": "a long enough password"}),
        )
        .await,
        StatusCode::CREATED,
    );
    let last = run(
        &schemathesis,
        &app,
        &api.token,
        &["--include-path", ADMIN_ACTIVE],
    )
    .await;
    assert_eq!((last.selected, last.tested), (1, 1));
}
