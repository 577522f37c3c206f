//! The console in a real browser: Debian's chromium, headless, driven through
//! chromedriver. One browser at a time (the machine has two cores); each test
//! gets a fresh profile. Screenshots land in `target/screenshots/`.

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

use super::db::{TempDir, skip_or_fail};
use super::server::{TestApp, eventually, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show what a test waits for.
const WAIT: Duration = Duration::from_secs(15);

static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A headless chromium of its own. Dropping it kills chromedriver and the
/// browser it started.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts chromedriver and a browser; `None` when they are not installed
    /// outside CI (the test then passes as skipped).
    pub async fn new() -> Option<Browser> {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(tool).exists() {
                skip_or_fail(&format!(
                    "{tool} not found (install Debian's chromium and chromium-driver)"
                ));
                return None;
            }
        }
        let turn = ONE_BROWSER_AT_A_TIME.lock().await;
        let profile = TempDir::new("keyward-chromium");
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so dropping kills the browser with it.
            .process_group(0)
            .spawn()
            .expect("cannot start chromedriver");
        let ready = eventually(WAIT, "chromedriver to listen", || {
            let exited = driver.try_wait().ok().flatten();
            async move {
                if let Some(status) = exited {
                    return Some(Err(status));
                }
                TcpStream::connect(("127.0.0.1", port)).ok().map(|_| Ok(()))
            }
        })
        .await;
        if let Err(status) = ready {
            panic!("chromedriver exited at start: {status}");
        }

        let options = serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.0.display()),
                "--window-size=1280,900",
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                kill_group(&mut driver);
                panic!("cannot start chromium through chromedriver: {e}")
            });
        Some(Browser {
            client,
            driver,
            _profile: profile,
            _turn: turn,
        })
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    /// The current page's path and query, e.g. `/login?next=%2F`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("no current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the browser is at `path` (path and query).
    pub async fn wait_for_path(&self, path: &str) {
        eventually(WAIT, &format!("the browser to reach {path}"), || async {
            (self.path().await == path).then_some(())
        })
        .await;
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("no title")
    }

    /// The page's visible text; empty while a new page is still loading.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the page shows `text`.
    pub async fn wait_for_text(&self, text: &str) {
        eventually(WAIT, &format!("the page to show {text:?}"), || async {
            self.text().await.contains(text).then_some(())
        })
        .await;
    }

    /// The form control a person finds by its label: the label whose text
    /// is `label` (a trailing "(hint)" aside), then the control its `for`
    /// names, or the one inside it.
    pub async fn field_by_label(&self, label: &str) -> Element {
        let mut matches = Vec::new();
        let mut seen = Vec::new();
        for element in self.client.find_all(Locator::Css("label")).await.unwrap() {
            let text = element.text().await.unwrap_or_default();
            let text = text.trim();
            let without_hint = match text.rfind(" (") {
                Some(at) if text.ends_with(')') => text[..at].trim(),
                _ => text,
            };
            if text == label || without_hint == label {
                matches.push(element);
            }
            seen.push(text.to_owned());
        }
        assert_eq!(
            matches.len(),
            1,
            "expected one label {label:?} on {}; labels: {seen:?}",
            self.path().await
        );
        let label_element = matches.pop().unwrap();
        match label_element.attr("for").await.unwrap() {
            Some(id) => self
                .client
                .find(Locator::Id(&id))
                .await
                .unwrap_or_else(|_| panic!("label {label:?} is for #{id}, which does not exist")),
            None => label_element
                .find(Locator::Css("input, select, textarea"))
                .await
                .unwrap_or_else(|_| panic!("label {label:?} names no control")),
        }
    }

    /// Types `value` into the field labelled `label`, replacing what was there.
    pub async fn fill_by_label(&self, label: &str, value: &str) {
        let field = self.field_by_label(label).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Chooses the option shown as `option` in the select labelled `label`.
    #[allow(dead_code, reason = "for the console's browser tests")]
    pub async fn select_by_label(&self, label: &str, option: &str) {
        self.field_by_label(label)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("no option {option:?} in {label:?}: {e}"));
    }

    /// Clicks the checkbox or radio button labelled `label`.
    #[allow(dead_code, reason = "for the console's browser tests")]
    pub async fn click_label(&self, label: &str) {
        self.field_by_label(label).await.click().await.unwrap();
    }

    /// The one visible button showing `text`.
    pub async fn button(&self, text: &str) -> Element {
        let mut matches = Vec::new();
        for button in self
            .client
            .find_all(Locator::Css("button, input[type=submit]"))
            .await
            .unwrap()
        {
            let shown = match button.attr("value").await.unwrap() {
                Some(value) if button.tag_name().await.unwrap() == "input" => value,
                _ => button.text().await.unwrap_or_default(),
            };
            if shown.trim() == text && button.is_displayed().await.unwrap_or(false) {
                matches.push(button);
            }
        }
        assert_eq!(
            matches.len(),
            1,
            "expected one button {text:?} on {}",
            self.path().await
        );
        matches.pop().unwrap()
    }

    /// Clicks the one visible link whose accessible name (its `aria-label`,
    /// else its text) is `name`.
    pub async fn click_link(&self, name: &str) {
        let mut matches = Vec::new();
        for link in self.client.find_all(Locator::Css("a")).await.unwrap() {
            let accessible_name = match link.attr("aria-label").await.unwrap() {
                Some(label) => label,
                None => link.text().await.unwrap_or_default(),
            };
            if accessible_name.trim() == name && link.is_displayed().await.unwrap_or(false) {
                matches.push(link);
            }
        }
        assert_eq!(
            matches.len(),
            1,
            "expected one link named {name:?} on {}",
            self.path().await
        );
        matches.pop().unwrap().click().await.unwrap();
    }

    pub async fn click_button(&self, text: &str) {
        self.button(text).await.click().await.unwrap();
    }

    /// Waits until a button showing `text` is on the page.
    pub async fn wait_for_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space(.)={}]", xpath_literal(text));
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no button {text:?} appeared"));
    }

    /// Turns off the browser's own checks of the page's forms (`required`,
    /// `type=url`), so that what is sent reaches keyward's, as it does from
    /// an older browser or a script.
    pub async fn skip_form_validation(&self) {
        self.client
            .execute(
                "document.querySelectorAll('form').forEach((f) => { f.noValidate = true; });",
                vec![],
            )
            .await
            .expect("cannot reach the page's forms");
    }

    /// Sets the window (in headless chromium, the viewport) to `width` pixels.
    pub async fn set_width(&self, width: u32) {
        self.client
            .set_window_size(width, 900)
            .await
            .expect("cannot size the window");
    }

    /// How wide the page is and how wide the window: a page wider than its
    /// window scrolls sideways.
    pub async fn page_and_window_width(&self) -> (u64, u64) {
        let widths = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("cannot measure the page");
        let width = |i: usize| widths[i].as_u64().expect("a width");
        (width(0), width(1))
    }

    /// Runs axe-core (the script `axe`) on the page; each violation as
    /// `rule (impact): selectors`.
    pub async fn axe_violations(&self, axe: &str) -> Vec<String> {
        self.client
            .execute(axe, vec![])
            .await
            .expect("cannot load axe-core");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document).then(
                   (r) => done(r.violations.map((v) => v.id + ' (' + v.impact + '): ' +
                     v.nodes.map((n) => n.target.join(' ')).join(', '))),
                   (e) => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("cannot run axe-core");
        found
            .as_array()
            .expect("axe answered a list")
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Saves the page as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot failed");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Signs in through the login page as a person would.
    #[allow(dead_code, reason = "for the console's browser tests")]
    pub async fn login(&self, app: &TestApp, email: &str, password: &str) {
        self.goto(&app.url("/login")).await;
        self.fill_by_label("Email", email).await;
        self.fill_by_label("Password", password).await;
        self.click_button("Sign in").await;
        self.wait_for_button("Sign out").await;
    }
}

/// An XPath string literal for any text (XPath 1 has no escapes).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Kills chromedriver's process group: chromedriver and the browser it started.
fn kill_group(driver: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}
