//! keyward as its users run it: the real binary (`keyward serve`) as a child
//! process, for what only a process can show (a SIGKILL).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::server::{eventually, free_port};

/// `keyward serve` on a database at a free port; killed (SIGKILL) when dropped.
pub struct KeywardProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub address: String,
}

impl KeywardProcess {
    /// Starts `keyward --database-url URL serve --bind … ARGS` and waits until
    /// it answers `/livez`.
    pub async fn start(url: &str, args: &[&str]) -> KeywardProcess {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["--database-url", url, "serve"])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start keyward serve");
        let process = KeywardProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let livez = format!("{}/livez", process.address);
        eventually(Duration::from_secs(30), "keyward to listen", || async {
            client
                .get(&livez)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
        })
        .await;
        process
    }

    /// SIGKILL: no shutdown, no flush, whatever was in flight is cut off.
    pub fn kill(&mut self) {
        self.child.kill().expect("cannot kill keyward");
        self.child.wait().expect("cannot reap keyward");
    }
}

impl Drop for KeywardProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
