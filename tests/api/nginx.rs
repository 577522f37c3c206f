//! A real nginx in front of a tiny upstream API, asking keyward about every
//! request through `auth_request`. Its configuration is the README's example,
//! `examples/nginx.conf`, with this test's ports put in.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::helpers::{
    Backend, StatusCode, TempDir, TestResponse, api_client, eventually, free_port, skip_or_fail,
    spawn_app,
};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/nginx.conf");
/// The addresses the example uses, replaced by this test's.
const EXAMPLE_KEYWARD: &str = "127.0.0.1:8080";
const EXAMPLE_API: &str = "127.0.0.1:9000";
const EXAMPLE_LISTEN: &str = "listen 127.0.0.1:8000;";

/// Debian's nginx, where the package puts it or on the PATH.
fn nginx_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("nginx"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    std::iter::once(PathBuf::from("/usr/sbin/nginx"))
        .chain(on_path)
        .find(|path| path.is_file())
}

/// What the upstream API was asked, and by whom nginx said it was.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    uri: String,
    app: Option<String>,
    role: Option<String>,
}

/// The API behind nginx: answers every request with 200 and a line naming
/// the app and role nginx passed on, and remembers each request.
struct Upstream {
    address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    handle: actix_web::dev::ServerHandle,
}

async fn answer(req: HttpRequest, seen: web::Data<Arc<Mutex<Vec<Seen>>>>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let request = Seen {
        method: req.method().to_string(),
        uri: req.uri().to_string(),
        app: header("x-keyward-app"),
        role: header("x-keyward-role"),
    };
    let body = format!(
        "upstream answered {} {} for app {} with role {}\n",
        request.method,
        request.uri,
        request.app.as_deref().unwrap_or("(none)"),
        request.role.as_deref().unwrap_or("(none)"),
    );
    seen.lock().unwrap().push(request);
    HttpResponse::Ok().content_type("text/plain").body(body)
}

impl Upstream {
    fn start() -> Upstream {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let data = web::Data::new(seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("no free port");
        let address = listener.local_addr().unwrap().to_string();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .listen(listener)
        .expect("the upstream cannot listen")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Upstream {
            address,
            seen,
            handle,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// nginx running in the foreground with its own prefix folder; stopped with
/// its workers on drop.
struct Nginx {
    /// `http://127.0.0.1:PORT`
    address: String,
    child: Child,
    prefix: TempDir,
}

impl Nginx {
    /// Writes the example configuration with keyward's, the upstream's and a
    /// free listening address, starts nginx on it and waits until it listens.
    async fn start(binary: &Path, keyward: &str, upstream: &str) -> Nginx {
        let example = std::fs::read_to_string(EXAMPLE)
            .unwrap_or_else(|e| panic!("cannot read {EXAMPLE}: {e}"));
        for placeholder in [EXAMPLE_KEYWARD, EXAMPLE_API, EXAMPLE_LISTEN] {
            assert!(
                example.contains(placeholder),
                "{EXAMPLE} no longer contains {placeholder:?}; update this test with it"
            );
        }
        let port = free_port();
        let config = example
            .replace(EXAMPLE_KEYWARD, keyward)
            .replace(EXAMPLE_API, upstream)
            .replace(EXAMPLE_LISTEN, &format!("listen 127.0.0.1:{port};"))
            // Temp files inside the prefix rather than /var/lib/nginx, which
            // may not exist or be writable where the tests run.
            .replacen(
                "http {",
                "http {\n    client_body_temp_path temp/body;\n    proxy_temp_path temp/proxy;\n    \
                 fastcgi_temp_path temp/fastcgi;\n    uwsgi_temp_path temp/uwsgi;\n    \
                 scgi_temp_path temp/scgi;\n",
                1,
            );
        let prefix = TempDir::new("keyward-nginx");
        std::fs::create_dir_all(prefix.0.join("temp")).unwrap();
        let config_path = prefix.0.join("nginx.conf");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(prefix.0.join("stderr.log")).unwrap();
        let mut child = Command::new(binary)
            .arg("-c")
            .arg(&config_path)
            .arg("-p")
            .arg(format!("{}/", prefix.0.display()))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so stopping it stops its workers too.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let log_path = prefix.0.join("stderr.log");
        let ready = eventually(Duration::from_secs(10), "nginx to listen", || {
            let exited = child.try_wait().ok().flatten();
            async move {
                if let Some(status) = exited {
                    return Some(Err(status));
                }
                std::net::TcpStream::connect(("127.0.0.1", port))
                    .ok()
                    .map(|_| Ok(()))
            }
        })
        .await;
        if let Err(status) = ready {
            panic!(
                "nginx exited at start ({status}):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        Nginx {
            address: format!("http://127.0.0.1:{port}"),
            child,
            prefix,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// What nginx wrote to stderr so far, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.prefix.0.join("stderr.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        // TERM is nginx's fast shutdown; KILL if it has not ended in time.
        signal("-TERM");
        for _ in 0..60 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        signal("-KILL");
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn nginx_passes_only_what_keyward_allows() {
    let Some(binary) = nginx_binary() else {
        skip_or_fail("nginx not found (install Debian's nginx)");
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.login_as_default_admin().await;
    let db = app.create_service("db", "api").await;
    let role = app.create_role("Readers").await;
    app.add_rule(role, Some(db), "*", &["GET"]).await;
    let (app_id, key) = app.create_key("Mobile app", Some(role)).await;

    let upstream = Upstream::start();
    let keyward = app.address.trim_start_matches("http://");
    let nginx = Nginx::start(&binary, keyward, &upstream.address).await;
    let client = api_client();
    let send = |request: reqwest::RequestBuilder| async move {
        TestResponse::read(request.send().await.expect("request through nginx failed")).await
    };
    let contacts = nginx.url("/api/v2/db/_table/contacts");

    // No key: 401, with keyward's challenge passed on.
    let no_key = send(client.get(&contacts)).await;
    assert_eq!(
        no_key.status,
        StatusCode::UNAUTHORIZED,
        "{}\nnginx log:\n{}",
        no_key.body,
        nginx.log()
    );
    assert!(
        no_key
            .header("www-authenticate")
            .to_lowercase()
            .starts_with("bearer"),
        "{:?}",
        no_key.headers
    );
    let unknown = keyward::apps::key::ApiKey::generate();
    let unknown_key = send(client.get(&contacts).header("X-API-Key", unknown.expose())).await;
    assert_eq!(unknown_key.status, StatusCode::UNAUTHORIZED);

    // An allowed verb reaches the API, which learns who is calling.
    let allowed = send(client.get(&contacts).header("X-API-Key", &key)).await;
    assert_eq!(
        allowed.status,
        StatusCode::OK,
        "{}\nnginx log:\n{}",
        allowed.body,
        nginx.log()
    );
    assert_eq!(
        allowed.body,
        "upstream answered GET /api/v2/db/_table/contacts for app Mobile app with role Readers\n"
    );
    let in_query = format!("{contacts}?api_key={key}");
    let allowed_by_query = send(client.get(&in_query)).await;
    assert_eq!(
        allowed_by_query.status,
        StatusCode::OK,
        "{}",
        allowed_by_query.body
    );
    assert!(
        allowed_by_query.body.contains("for app Mobile app"),
        "{}",
        allowed_by_query.body
    );

    // A verb the role does not grant stops at nginx, body and all.
    let delete = send(client.delete(&contacts).header("X-API-Key", &key)).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", delete.body);
    let post = send(
        client
            .post(&contacts)
            .header("X-API-Key", &key)
            .json(&json!({"name": "Ada"})),
    )
    .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN, "{}", post.body);
    // A CORS preflight carries no key; it reaches the API, which answers it.
    let preflight = send(
        client
            .request(reqwest::Method::OPTIONS, &contacts)
            .header("Origin", "https://app.example.com")
            .header("Access-Control-Request-Method", "DELETE"),
    )
    .await;
    assert_eq!(preflight.status, StatusCode::OK, "{}", preflight.body);
    assert!(
        preflight.body.starts_with("upstream answered OPTIONS"),
        "{}",
        preflight.body
    );
    // Outside the API location nginx does not proxy at all.
    assert_ne!(
        send(client.get(nginx.url("/api/v1/verify"))).await.status,
        StatusCode::OK
    );

    // The API saw exactly the allowed requests and the preflight, never a refused one.
    let expected = |uri: String| Seen {
        method: "GET".into(),
        uri,
        app: Some("Mobile app".into()),
        role: Some("Readers".into()),
    };
    let preflight = Seen {
        method: "OPTIONS".into(),
        uri: "/api/v2/db/_table/contacts".into(),
        app: None,
        role: None,
    };
    assert_eq!(
        upstream.seen(),
        vec![
            expected("/api/v2/db/_table/contacts".into()),
            expected(format!("/api/v2/db/_table/contacts?api_key={key}")),
            preflight,
        ]
    );

    // A deactivated key is refused through nginx too, within a second.
    app.set_key_active(app_id, false).await;
    let passed_meanwhile = std::cell::Cell::new(0);
    let refused = eventually(
        Duration::from_millis(1200),
        "nginx to refuse the deactivated key",
        || async {
            let response = send(client.get(&contacts).header("X-API-Key", &key)).await;
            if response.status == StatusCode::OK {
                passed_meanwhile.set(passed_meanwhile.get() + 1);
                return None;
            }
            Some(response)
        },
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        upstream.seen().len(),
        3 + passed_meanwhile.get(),
        "the API saw a refused request"
    );
}
