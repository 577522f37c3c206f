//! Real proxies in front of a tiny upstream API, asking keyward about every
//! request through forward-auth: nginx `auth_request`, Caddy `forward_auth`
//! and Traefik ForwardAuth, each run from the example configuration the
//! README points to, with this test's ports put in. Every proxy gets the same
//! scenario: what passes, what is refused, and each way a client tried to
//! choose what keyward judges.
//!
//! Running a proxy and the upstream it guards is here; the scenario every
//! proxy passes is in `scenario`.

mod caddy;
mod nginx;
mod scenario;
mod traefik;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::harness::{TempDir, eventually};

pub use scenario::{
    Refusals, guard, honours_a_deactivation_within_a_second, judges_the_address_the_proxy_saw,
    passes_only_what_keyward_allows, tells_a_limited_client_when_to_retry,
};

/// An executable named `name`, on the PATH or in one of `extra` places.
pub fn find_binary(name: &str, extra: &[PathBuf]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    extra
        .iter()
        .cloned()
        .chain(on_path)
        .find(|path| path.is_file())
}

/// What the upstream API was asked, and by whom the proxy said it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub app: Option<String>,
    pub role: Option<String>,
}

/// The API behind the proxy: answers every request with 200 and a line naming
/// the app and role the proxy passed on, and remembers each request.
pub struct Upstream {
    pub address: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    handle: actix_web::dev::ServerHandle,
}

async fn answer(req: HttpRequest, seen: web::Data<Arc<Mutex<Vec<Seen>>>>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
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
    pub fn start() -> Upstream {
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

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Drops the last request from the record.
    pub fn forget_last(&self) {
        self.seen.lock().unwrap().pop();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A proxy running in the foreground in a folder of its own, with its output
/// in `output.log`; stopped, with its children, on drop.
pub struct ProxyProcess {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub dir: TempDir,
    child: Child,
}

impl ProxyProcess {
    /// Starts `command` (already given its arguments) in its own process
    /// group and waits until `port` accepts connections.
    pub async fn start(name: &str, mut command: Command, dir: TempDir, port: u16) -> ProxyProcess {
        let log = std::fs::File::create(dir.0.join("output.log")).unwrap();
        let mut child = command
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let log_path = dir.0.join("output.log");
        let ready = eventually(
            Duration::from_secs(20),
            &format!("{name} to listen"),
            || {
                let exited = child.try_wait().ok().flatten();
                async move {
                    if let Some(status) = exited {
                        return Some(Err(status));
                    }
                    std::net::TcpStream::connect(("127.0.0.1", port))
                        .ok()
                        .map(|_| Ok(()))
                }
            },
        )
        .await;
        if let Err(status) = ready {
            panic!(
                "{name} exited at start ({status}):\n{}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        ProxyProcess {
            address: format!("http://127.0.0.1:{port}"),
            dir,
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// What the proxy wrote so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("output.log")).unwrap_or_default()
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let signal = |name: &str| {
            let _ = Command::new("kill")
                .args([name, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
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

/// An example configuration with its placeholders replaced, each of which
/// must still be in the file (so the example and the test cannot drift apart).
pub fn example_with(path: &Path, replacements: &[(&str, String)]) -> String {
    let mut text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path:?}: {e}"));
    for (placeholder, value) in replacements {
        assert!(
            text.contains(placeholder),
            "{path:?} no longer contains {placeholder:?}; update this test with it"
        );
        text = text.replace(placeholder, value);
    }
    text
}
