//! What every console page stands on, whichever feature it belongs to:
//! sessions, CSRF protection, security headers and cookie attributes, limits
//! on requests, error pages, and client addresses behind a trusted proxy.
//! The page checks the tests share are here.

mod accessibility;
mod client_addresses;
mod csrf;
mod errors;
mod headers;
mod limits;
mod sessions;

use crate::harness::TestResponse;

fn assert_security_headers(response: &TestResponse, what: &str) {
    let csp = response.header("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: CSP {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: CSP {csp}");
    assert_eq!(
        response.header("x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(response.header("referrer-policy"), "no-referrer", "{what}");
}

fn assert_html_page(response: &TestResponse, what: &str) {
    assert!(
        response.header("content-type").starts_with("text/html"),
        "{what}: {}",
        response.header("content-type")
    );
    // Rendered in the layout: keyward's stylesheet and navigation.
    assert!(
        response.body.contains("/static/vendor/pico-2.1.1.min.css"),
        "{what}: {}",
        response.body
    );
    assert!(response.body.contains("<nav"), "{what}: {}", response.body);
}

/// No internals in a page a browser is shown.
fn assert_no_internals(response: &TestResponse, what: &str) {
    let body = response.body.to_lowercase();
    for internal in [
        "actix",
        "diesel",
        "panicked",
        "backtrace",
        "src/",
        ".rs:",
        "error {",
    ] {
        assert!(
            !body.contains(internal),
            "{what} shows {internal:?}: {}",
            response.body
        );
    }
}
