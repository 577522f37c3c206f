//! The `keyward` binary as an operator meets it (`src/cli`): exit codes,
//! one-line errors on stderr, `migrate`, `admin create`, settings refused at
//! start-up, and `serve` with its log and its graceful shutdown. Running the
//! binary and reading what it prints is here.

mod commands;
mod serve;
mod settings;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(60);

/// The binary, run in `dir` with none of keyward's settings in its environment.
fn keyward(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyward"));
    command.current_dir(dir);
    for variable in [
        "DATABASE_URL",
        "KEYWARD_BIND",
        "KEYWARD_COOKIE_SECURE",
        "KEYWARD_SESSION_IDLE_MINUTES",
        "KEYWARD_POOL_SIZE",
        "KEYWARD_API_BASE_PATH",
        "KEYWARD_VERIFY_CACHE_CAPACITY",
        "KEYWARD_WORKERS",
        "KEYWARD_PROXY",
        "KEYWARD_TRUSTED_PROXY",
        "KEYWARD_BODY_TIMEOUT_SECONDS",
        "KEYWARD_SESSION_LIFETIME_HOURS",
        "RUST_LOG",
        "RUST_BACKTRACE",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Runs to completion with `stdin` as standard input; fails the test if it
/// takes longer than `TIMEOUT`.
fn run(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start keyward");
    let mut input = child.stdin.take().unwrap();
    // keyward may exit before reading: a broken pipe here is its business.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let pid = child.id();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(TIMEOUT) {
        Ok(output) => output.expect("cannot wait for keyward"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("keyward did not exit within {TIMEOUT:?}");
        }
    }
}

fn lines(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A failure an operator can read: exit code 1 and exactly one line on stderr,
/// no panic; returns that line.
fn assert_one_line_error(output: &Output) -> String {
    let stderr = lines(&output.stderr);
    assert!(!output.status.success(), "succeeded: {stderr:#?}");
    assert_eq!(stderr.len(), 1, "not one line: {stderr:#?}");
    let line = stderr[0].clone();
    assert!(!line.contains("panicked"), "{line}");
    assert!(!line.contains("RUST_BACKTRACE"), "{line}");
    line
}

/// `keyward serve` as a child process whose stderr is read line by line;
/// killed when dropped.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    fn start(mut command: Command) -> Served {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start keyward serve");
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first log line containing `text`, waiting for it with a deadline.
    fn wait_for_line(&mut self, text: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no log line with {text:?} within {TIMEOUT:?}; the log so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
