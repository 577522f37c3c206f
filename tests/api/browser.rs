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

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TempDir, TestApp, eventually, skip_or_fail, spawn_app,
};

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
        let port = crate::helpers::free_port();
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

#[tokio::test]
async fn an_admin_signs_in_through_the_login_page() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);

    browser.goto(&app.url("/")).await;
    browser.wait_for_path("/login?next=%2F").await;
    assert_eq!(browser.title().await, "Sign in · keyward");
    // The stylesheet loaded despite the strict CSP: not the browser's default serif.
    let font = browser
        .client
        .execute("return getComputedStyle(document.body).fontFamily", vec![])
        .await
        .unwrap();
    assert!(
        !font.as_str().unwrap_or_default().contains("Times"),
        "unstyled page: {font}"
    );
    browser.screenshot("login").await;

    browser.fill_by_label("Email", ADMIN_EMAIL).await;
    browser.fill_by_label("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_button("Sign out").await;
    let navbar = browser
        .client
        .find(Locator::Css("nav"))
        .await
        .expect("no navbar")
        .text()
        .await
        .unwrap();
    for link in ["API Keys", "Roles", "Sign out"] {
        assert!(navbar.contains(link), "navbar without {link:?}: {navbar}");
    }
    browser.screenshot("signed-in").await;
}

#[tokio::test]
async fn a_wrong_password_keeps_the_email_and_says_so() {
    let Some(browser) = Browser::new().await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    app.create_admin(ADMIN_EMAIL, ADMIN_PASSWORD);

    browser.goto(&app.url("/login")).await;
    browser.fill_by_label("Email", ADMIN_EMAIL).await;
    browser.fill_by_label("Password", "not the password").await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("Incorrect email or password.").await;
    let email = browser.field_by_label("Email").await;
    assert_eq!(
        email.prop("value").await.unwrap().as_deref(),
        Some(ADMIN_EMAIL)
    );
    let password = browser.field_by_label("Password").await;
    assert_eq!(password.prop("value").await.unwrap().as_deref(), Some(""));
    browser.screenshot("login-refused").await;

    // Correcting the password is enough.
    browser.fill_by_label("Password", ADMIN_PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_button("Sign out").await;
}
