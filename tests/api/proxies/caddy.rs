//! Caddy `forward_auth`, configured by `examples/Caddyfile` (keyward run with
//! `--proxy caddy`). Caddy sends the client's own headers to keyward too, so
//! a client can add any header it likes: keyward must read only Caddy's.

use std::process::Command;

use super::{
    ProxyProcess, Refusals, Upstream, example_with, find_binary, guard,
    honours_a_deactivation_within_a_second, judges_the_address_the_proxy_saw,
    passes_only_what_keyward_allows, tells_a_limited_client_when_to_retry,
};
use crate::harness::{Backend, TempDir, free_port, skip_or_fail, spawn_app_with};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/Caddyfile");

async fn start_caddy(keyward: &str, upstream: &str) -> Option<ProxyProcess> {
    let Some(binary) = find_binary("caddy", &["/usr/bin/caddy".into()]) else {
        skip_or_fail("caddy not found (install Debian's caddy)");
        return None;
    };
    let port = free_port();
    let config = example_with(
        EXAMPLE.as_ref(),
        &[
            ("127.0.0.1:8080", keyward.to_owned()),
            ("127.0.0.1:9000", upstream.to_owned()),
            ("127.0.0.1:8000", format!("127.0.0.1:{port}")),
            // Its own admin endpoint, so neither a system Caddy nor another test's is touched.
            (
                "admin 127.0.0.1:2019",
                format!("admin 127.0.0.1:{}", free_port()),
            ),
        ],
    );
    let dir = TempDir::new("keyward-caddy");
    let config_path = dir.0.join("Caddyfile");
    std::fs::write(&config_path, config).unwrap();
    let mut command = Command::new(binary);
    command
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&config_path)
        // Caddy keeps its state under HOME / XDG folders: this test's own.
        .env("HOME", &dir.0)
        .env("XDG_DATA_HOME", dir.0.join("data"))
        .env("XDG_CONFIG_HOME", dir.0.join("config"));
    Some(ProxyProcess::start("caddy", command, dir, port).await)
}

#[tokio::test]
async fn caddy_passes_only_what_keyward_allows() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.proxy = Some(keyward::proxy::Proxy::Caddy);
        // The proxy's reports of client addresses are believed.
        s.trusted_proxies = keyward::proxy::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
    .unwrap();
    let guarded = guard(&app).await;
    let upstream = Upstream::start();
    let keyward = app.address.trim_start_matches("http://");
    let Some(caddy) = start_caddy(keyward, &upstream.address).await else {
        return;
    };
    passes_only_what_keyward_allows("Caddy", Refusals::Passed, &caddy, &upstream, &guarded).await;
    judges_the_address_the_proxy_saw("Caddy", Refusals::Passed, &caddy, &upstream, &app, &guarded)
        .await;
    tells_a_limited_client_when_to_retry("caddy", false, &caddy, &upstream, &app, &guarded).await;
    honours_a_deactivation_within_a_second(&caddy, &upstream, &app, &guarded).await;
}
