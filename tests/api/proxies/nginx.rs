//! nginx `auth_request`, configured by `examples/nginx.conf` (keyward run
//! with `--proxy nginx`).

use std::process::Command;

use super::{
    ProxyProcess, Refusals, Upstream, example_with, find_binary, guard,
    honours_a_deactivation_within_a_second, judges_the_address_the_proxy_saw,
    passes_only_what_keyward_allows, tells_a_limited_client_when_to_retry,
};
use crate::harness::{
    Backend, StatusCode, TempDir, api_client, free_port, skip_or_fail, spawn_app_with,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/nginx.conf");

async fn start_nginx(keyward: &str, upstream: &str) -> Option<ProxyProcess> {
    let Some(binary) = find_binary("nginx", &["/usr/sbin/nginx".into()]) else {
        skip_or_fail("nginx not found (install Debian's nginx)");
        return None;
    };
    let port = free_port();
    let config = example_with(
        EXAMPLE.as_ref(),
        &[
            ("127.0.0.1:8080", keyward.to_owned()),
            ("127.0.0.1:9000", upstream.to_owned()),
            (
                "listen 127.0.0.1:8000;",
                format!("listen 127.0.0.1:{port};"),
            ),
        ],
    )
    // Temp files inside the prefix rather than /var/lib/nginx, which may not
    // exist or be writable where the tests run.
    .replacen(
        "http {",
        "http {\n    client_body_temp_path temp/body;\n    proxy_temp_path temp/proxy;\n    \
         fastcgi_temp_path temp/fastcgi;\n    uwsgi_temp_path temp/uwsgi;\n    \
         scgi_temp_path temp/scgi;\n",
        1,
    );
    let dir = TempDir::new("keyward-nginx");
    std::fs::create_dir_all(dir.0.join("temp")).unwrap();
    let config_path = dir.0.join("nginx.conf");
    std::fs::write(&config_path, config).unwrap();
    let mut command = Command::new(binary);
    command
        .arg("-c")
        .arg(&config_path)
        .arg("-p")
        .arg(format!("{}/", dir.0.display()))
        .args(["-g", "daemon off;"]);
    Some(ProxyProcess::start("nginx", command, dir, port).await)
}

#[tokio::test]
async fn nginx_passes_only_what_keyward_allows() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.proxy = Some(keyward::proxy::Proxy::Nginx);
        // The proxy's reports of client addresses are believed.
        s.trusted_proxies = keyward::proxy::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await
    .unwrap();
    let guarded = guard(&app).await;
    let upstream = Upstream::start();
    let keyward = app.address.trim_start_matches("http://");
    let Some(nginx) = start_nginx(keyward, &upstream.address).await else {
        return;
    };
    passes_only_what_keyward_allows("nginx", Refusals::StatusOnly, &nginx, &upstream, &guarded)
        .await;
    // Outside the API location nginx does not proxy at all.
    let verify = api_client()
        .get(nginx.url("/api/v1/verify"))
        .send()
        .await
        .unwrap();
    assert_ne!(verify.status(), StatusCode::OK);
    judges_the_address_the_proxy_saw(
        "nginx",
        Refusals::StatusOnly,
        &nginx,
        &upstream,
        &app,
        &guarded,
    )
    .await;
    tells_a_limited_client_when_to_retry("nginx", true, &nginx, &upstream, &app, &guarded).await;
    honours_a_deactivation_within_a_second(&nginx, &upstream, &app, &guarded).await;
}
