use super::*;
use actix_web::http::header::{HeaderName, HeaderValue};

fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(
            HeaderName::from_static(k),
            HeaderValue::from_bytes(v).unwrap(),
        );
    }
    map
}

fn key(pairs: &[(&'static str, &[u8])], uri: Option<&str>) -> Result<Option<String>, TwoKeys> {
    presented_key(&headers(pairs), uri)
}

#[test]
fn a_key_from_every_place() {
    let one = |k: &str| Ok(Some(k.to_owned()));
    assert_eq!(key(&[("x-api-key", b"k1")], None), one("k1"));
    assert_eq!(key(&[("x-dreamfactory-api-key", b"k2")], None), one("k2"));
    assert_eq!(key(&[("authorization", b"Bearer k3")], None), one("k3"));
    assert_eq!(key(&[("authorization", b"bearer  k3 ")], None), one("k3"));
    assert_eq!(key(&[], Some("/api/v2/db?x=1&api_key=k4")), one("k4"));
    assert_eq!(key(&[], Some("/api/v2/db?api_key=k%2B5")), one("k+5"));
}

#[test]
fn no_key() {
    assert_eq!(key(&[("authorization", b"Basic abc")], None), Ok(None));
    assert_eq!(key(&[("x-api-key", b"  ")], None), Ok(None));
    assert_eq!(key(&[], Some("/api/v2/db?api_key=")), Ok(None));
    assert_eq!(key(&[], Some("/api/v2/db?apikey=x")), Ok(None));
    assert_eq!(key(&[], None), Ok(None));
}

/// (headers, uri, outcome, why)
type Case = (
    &'static [(&'static str, &'static [u8])],
    Option<&'static str>,
    Result<Option<&'static str>, TwoKeys>,
    &'static str,
);

#[test]
fn the_same_key_twice_is_one_key_two_keys_are_refused() {
    // (headers, uri, outcome, why)
    let cases: &[Case] = &[
        (
            &[("x-api-key", b"A")],
            Some("/db?api_key=A"),
            Ok(Some("A")),
            "header and query agree",
        ),
        (
            &[("x-api-key", b"A"), ("x-api-key", b"A")],
            None,
            Ok(Some("A")),
            "a repeated header",
        ),
        (
            &[],
            Some("/db?api_key=A&api_key=A"),
            Ok(Some("A")),
            "a repeated parameter",
        ),
        (
            &[("x-api-key", b"A"), ("authorization", b"Basic xyz")],
            None,
            Ok(Some("A")),
            "Basic is not a key",
        ),
        (
            &[("x-api-key", b"A")],
            Some("/db?api_key=B"),
            Err(TwoKeys),
            "header and query differ",
        ),
        (
            &[("x-api-key", b"A"), ("x-dreamfactory-api-key", b"B")],
            None,
            Err(TwoKeys),
            "two headers",
        ),
        (
            &[("x-api-key", b"A"), ("x-api-key", b"B")],
            None,
            Err(TwoKeys),
            "one header twice",
        ),
        (
            &[("authorization", b"Bearer A")],
            Some("/db?api_key=B"),
            Err(TwoKeys),
            "bearer and query",
        ),
        (
            &[],
            Some("/db?api_key=A&api_key=B"),
            Err(TwoKeys),
            "two parameters",
        ),
        (
            &[],
            Some("/db?api_key=A&api_key=A%FF"),
            Err(TwoKeys),
            "a parameter that is not UTF-8",
        ),
        (
            &[("x-api-key", b"A\xff")],
            Some("/db?api_key=A"),
            Err(TwoKeys),
            "an unreadable header beside a key",
        ),
        (
            &[("x-api-key", b"A\xff"), ("x-api-key", b"A\xff")],
            None,
            Err(TwoKeys),
            "unreadable twice",
        ),
    ];
    for (pairs, uri, outcome, why) in cases {
        assert_eq!(
            key(pairs, *uri),
            outcome.map(|k| k.map(str::to_owned)),
            "{why}"
        );
    }
    // Alone, an unreadable header is a key that cannot be valid.
    let lone = key(&[("x-api-key", b"kw_\xff")], None).unwrap().unwrap();
    assert!(lone.starts_with("kw_") && lone.contains('\u{FFFD}'));
}

#[test]
fn a_uri_maps_to_service_and_component() {
    let split = |uri| service_and_component(uri, "/api/v2/").unwrap();
    let some = |s: &str, c: &str| Some((s.to_owned(), c.to_owned()));
    assert_eq!(
        split("/api/v2/db/_table/contacts?api_key=x"),
        some("db", "_table/contacts")
    );
    assert_eq!(split("/api/v2/db"), some("db", ""));
    assert_eq!(split("/api/v2/db/"), some("db", ""));
    assert_eq!(split("/api/v2/files/a%20b"), some("files", "a b"));
    assert_eq!(
        split("/api/v2/files/report.pdf"),
        some("files", "report.pdf")
    );
    assert_eq!(split("/api/v2/files/caf%C3%A9"), some("files", "café"));
    assert_eq!(
        split("/api/v%32/db/x"),
        some("db", "x"),
        "decoded before matching"
    );
    assert_eq!(
        split("/api/v2/db/x?path=../y;z\\w"),
        some("db", "x"),
        "the query is data"
    );
    assert_eq!(split("/api/v2/"), None);
    assert_eq!(split("/api/v2"), None);
    assert_eq!(split("/api/v20/db"), None);
    assert_eq!(split("/other/db"), None);
    assert_eq!(
        service_and_component("/db/x", "/").unwrap(),
        some("db", "x")
    );
}

#[test]
fn ambiguous_uris_are_refused() {
    for (uri, says) in [
        ("/api/v2/db/x#/../secret", "fragment"),
        ("/api/v2/db/secret;x", "';'"),
        ("/api/v2/db/x/..;/secret", "';'"),
        ("/api/v2/db/x\\secret", "backslash"),
        ("/api/v2/db/x%5Csecret", "'\\'"),
        ("/api/v2/db/secret%00", "control"),
        ("/api/v2/db/secret%0a", "control"),
        ("/api/v2/db/secret\t", "raw space or control"),
        ("/api/v2/db/se cret", "raw space"),
        ("/api/v2/db/secret.", "ends with a dot"),
        ("/api/v2/db/secret...", "ends with a dot"),
        ("/api/v2/db/secret%20", "ends with a space"),
        ("/api/v2/db/%20secret", "starts or ends with a space"),
        ("/api/v2/db/secret%C2%A0", "ends with a space"),
        ("/api/v2/db/../files", "dot segment"),
        ("/api/v2/db/./x", "dot segment"),
        ("/api/v2/db/%2e%2e/files", "'.'"),
        ("/api/v2/db/.%2E/files", "'.'"),
        ("/api/v2/db/a%2Fb", "'/'"),
        ("/api/v2/db/a%252Fb", "'%'"),
        ("/api/v2/db/a%3Bb", "';'"),
        ("/api/v2/db//x", "empty path segment"),
        ("/api/v2/db/x%zz", "broken percent-escape"),
        ("/api/v2/db/x%4", "broken percent-escape"),
        ("/api/v2/db/x%FF", "not UTF-8"),
        ("http://evil.example/api/v2/db/x", "does not start with /"),
        ("/admin/..;/api/v2/db", "';'"),
    ] {
        let refused =
            service_and_component(uri, "/api/v2/").expect_err(&format!("{uri} was judged"));
        assert!(refused.0.contains(says), "{uri}: {refused:?}");
    }
}

#[test]
fn ambiguous_components_are_refused() {
    assert_eq!(check_component("_table/contacts"), Ok(()));
    assert_eq!(check_component("/_table/contacts/"), Ok(()));
    assert_eq!(check_component("a b/100%.txt"), Ok(()));
    for component in [
        "_table/secret.",
        "_table/secret ",
        "_table/../secret",
        "a\\secret",
        "secret\u{0}",
        "x;y",
        "x#y",
    ] {
        assert!(check_component(component).is_err(), "{component:?}");
    }
}
