//! Error pages: an unknown address gets keyward's own Not Found page, signed
//! in or out, with no internals in it.

use super::{assert_html_page, assert_no_internals};

use crate::harness::StatusCode;

storage_test!(an_unknown_address_gets_a_not_found_page, |app| async move {
    for path in [
        "/no-such-page",
        "/no/such/page?x=1",
        "/static/no-such-file.js",
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            page.body.contains("Page not found"),
            "{path}: {}",
            page.body
        );
        assert_html_page(&page, path);
        assert_no_internals(&page, path);
    }
    // The same for a signed-in administrator.
    app.login_as_default_admin().await;
    let page = app.get("/no-such-page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_html_page(&page, "signed-in 404");
    assert_no_internals(&page, "signed-in 404");
});
