//! The test harness, split by job: databases (`db`), keyward running on a
//! free port (`server`, with the `each_backend!` and `storage_test!` macros),
//! HTTP and the app's cookie-jar client (`http`), reading HTML (`html`),
//! signing in and sessions (`session`), data set up through the console's
//! forms and the stored rows read back (`seed`), Chromium driven through
//! chromedriver (`browser`), and the real binary as a process (`process`). Tests import what they need from here.

#[macro_use]
mod server;

mod browser;
mod db;
mod html;
mod http;
mod metrics;
mod process;
mod seed;
mod session;

pub use browser::Browser;
pub use db::{Backend, TempDir, TestDb, skip_or_fail};
pub use html::{
    attr, chosen_option, field_error, field_errors, html_unescape, is_checked, label_text,
    opening_tag, opening_tag_with, select_options, shown_api_key, table_headers, table_rows,
    text_of, textarea_value,
};
pub use http::{StatusCode, TestResponse, api_client, login_next, query, verify_at};
pub use metrics::Scrape;
pub use process::KeywardProcess;
pub use seed::{StoredApp, create_role};
pub use server::{Peer, TestApp, eventually, free_port, spawn_app, spawn_app_with};
pub use session::{ADMIN_EMAIL, ADMIN_PASSWORD, Visitor};
