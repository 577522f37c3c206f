//! Bad input over HTTP, as properties: every console form and the JSON API
//! get arbitrary Unicode, control characters, overlong fields, HTML, SQL and
//! script payloads, missing and repeated fields, wrong content types and
//! bodies over the limit. keyward never answers 5xx; a refused submission
//! stores nothing; an accepted one stores exactly what was typed (trimmed),
//! and every stored string comes back HTML-escaped.
//!
//! proptest's runner is synchronous, so each test draws its cases up front
//! and sends them from the async test; a failure prints the case it was.
//!
//! The tests are split by what they attack; drawing cases, posting them and
//! the checks every form shares are here.

mod admins;
mod apps;
mod bodies;
mod roles;
mod services;
mod verify;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::harness::{StatusCode, StoredApp, TestApp, TestResponse};

/// Cases per form: enough to meet every kind of bad input, few enough that
/// the suite stays quick. `PROPTEST_CASES=N` scales them for a deeper run
/// (N per form, as proptest's own properties take it).
const CASES: usize = 96;
/// Forms that hash a password (argon2) get fewer.
const SLOW_CASES: usize = 40;

/// `count` values drawn from `strategy` (scaled by `PROPTEST_CASES`).
pub(crate) fn draw<S: Strategy>(strategy: S, count: usize) -> Vec<S::Value> {
    let count = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .map_or(count, |n| n * count / CASES);
    let mut runner = TestRunner::default();
    (0..count)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("cannot draw a case")
                .current()
        })
        .collect()
}

/// What a hostile or careless client may type into any field.
pub(crate) fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => any::<String>(),
        3 => "\\PC{0,70}",
        1 => "[\\x00-\\x1f\\x7f]{1,4}",
        1 => "[a-z<>&\"' ]{60,300}",
        1 => "\\PC{250,300}",
        1 => Just("<script>alert(1)</script>".to_owned()),
        1 => Just("\"><img src=x onerror=alert(1)>".to_owned()),
        1 => Just("Robert'); DROP TABLE apps;--".to_owned()),
        1 => Just("' OR '1'='1".to_owned()),
        1 => Just("&lt;b&gt; &amp; {{ 7*7 }} ${7*7}".to_owned()),
        1 => Just("a\u{0}b".to_owned()),
        1 => Just("\u{202e}evil\u{200b}".to_owned()),
        1 => Just("😀".repeat(64)),
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
    ]
    .boxed()
}

/// Hostile but well-formed text: markup, SQL and any printable Unicode,
/// the kind a form may accept (and must then store and escape).
fn printable() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "\\PC{1,60}",
        1 => Just("<script>alert(1)</script>".to_owned()),
        1 => Just("\"><img src=x onerror=alert(1)>".to_owned()),
        1 => Just("Robert'); DROP TABLE apps;--".to_owned()),
        1 => Just("&lt;b&gt; &amp; {{ 7*7 }}".to_owned()),
    ]
    .boxed()
}

/// Mostly what a form may accept, sometimes anything at all.
fn field() -> BoxedStrategy<String> {
    prop_oneof![3 => printable(), 1 => text()].boxed()
}

/// One of `choices` (values a real form sends) or anything at all.
fn one_of(choices: &[&str]) -> BoxedStrategy<String> {
    let choices: Vec<String> = choices.iter().map(|c| c.to_string()).collect();
    prop_oneof![3 => proptest::sample::select(choices), 1 => text()].boxed()
}

type Fields = Vec<(String, String)>;

/// A form submission: each field sent with a value or left out, now and then
/// one sent twice, and now and then a field the form does not have.
fn submission(fields: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<Fields> {
    let names: Vec<&'static str> = fields.iter().map(|(name, _)| *name).collect();
    let each: Vec<BoxedStrategy<Option<(String, String)>>> = fields
        .into_iter()
        .map(|(name, value)| {
            proptest::option::weighted(0.9, value.prop_map(move |v| (name.to_owned(), v))).boxed()
        })
        .collect();
    let count = names.len();
    (
        each,
        proptest::option::weighted(0.1, (0..count, text())),
        proptest::option::weighted(0.1, ("[a-z_]{1,12}", text())),
    )
        .prop_map(move |(present, repeated, unknown)| {
            let mut fields: Fields = present.into_iter().flatten().collect();
            if let Some((index, value)) = repeated {
                fields.push((names[index].to_owned(), value));
            }
            fields.extend(unknown);
            fields
        })
        .boxed()
}

/// The value sent for `name` ("" when left out).
fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

fn sent(fields: &Fields, name: &str) -> bool {
    fields.iter().any(|(k, _)| k == name)
}

async fn post(app: &TestApp, path: &str, fields: &Fields) -> TestResponse {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = app.post_form(path, &pairs).await;
    // A refusal must come from the form's rules, not from a lost CSRF token.
    if !sent(fields, "csrf_token") {
        assert_ne!(response.status, StatusCode::FORBIDDEN, "{path}: {fields:?}");
    }
    response
}

/// Never a server error, never a panic page.
fn assert_no_server_error(response: &TestResponse, case: &dyn std::fmt::Debug) {
    assert!(
        response.status.as_u16() < 500,
        "{} for {case:?}: {}",
        response.status,
        response.body
    );
    assert!(!response.body.contains("panicked"), "{case:?}");
}

/// Strings a page must never show raw: those with markup in them that could
/// not occur in keyward's own HTML by chance.
fn markup(stored: &str) -> bool {
    stored.contains('<') && stored.chars().count() >= 6
}

/// Every stored string with markup shows up only escaped on `page`.
fn assert_escaped(page: &TestResponse, stored: &[String]) {
    for s in stored.iter().filter(|s| markup(s)) {
        assert!(
            !page.body.contains(s.as_str()),
            "{s:?} appears unescaped in {}",
            page.body
        );
    }
}

fn conn(app: &TestApp) -> keyward::db::PooledConn {
    app.pool.get().expect("no database connection")
}

fn app_rows(app: &TestApp) -> Vec<StoredApp> {
    app.stored_apps()
}
