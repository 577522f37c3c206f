//! What a request presents and asks for: its key (from the places DreamFactory
//! clients send it), and the service and component its URI names.
//!
//! Both refuse rather than guess. Two different keys in one request are not
//! judged (keyward and the upstream might each read another one), and a URI
//! that an upstream could read differently from keyward (a fragment, `;`, a
//! backslash, control characters, encoded separators or dots, dot segments,
//! a segment ending in a dot or a space) is not judged either.

use actix_web::http::header::HeaderMap;

/// A request carried two different API keys, or a key header keyward cannot
/// read as text beside another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwoKeys;

impl TwoKeys {
    pub const MESSAGE: &'static str = "There is more than one API key in the request (in X-API-Key, \
         X-DreamFactory-API-Key, Authorization: Bearer or the api_key query parameter); send one.";
}

/// The key the request presents, from `X-API-Key`, `X-DreamFactory-API-Key`,
/// `Authorization: Bearer` or the `api_key` query parameter of `uri`; `None`
/// when there is none. Every header and parameter is read, repeated ones too:
/// the same key in several places is one key, different ones are refused. A
/// key header that is not text counts as a key (a malformed one).
pub fn presented_key(headers: &HeaderMap, uri: Option<&str>) -> Result<Option<String>, TwoKeys> {
    let mut keys: Vec<String> = Vec::new();
    let mut unreadable = false;
    let mut add = |bytes: &[u8]| match std::str::from_utf8(bytes) {
        // Header values that are text are visible ASCII (or tabs).
        Ok(text)
            if text
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b)) =>
        {
            let text = text.trim();
            if !text.is_empty() {
                keys.push(text.to_owned());
            }
        }
        _ => {
            unreadable = true;
            keys.push(String::from_utf8_lossy(bytes).into_owned());
        }
    };
    for name in ["x-api-key", "x-dreamfactory-api-key"] {
        for value in headers.get_all(name) {
            add(value.as_bytes());
        }
    }
    for value in headers.get_all("authorization") {
        let bytes = value.as_bytes();
        if bytes.len() > 7 && bytes[..7].eq_ignore_ascii_case(b"bearer ") {
            add(&bytes[7..]);
        }
    }
    if let Some((_, query)) = uri.and_then(|uri| uri.split_once('?')) {
        let query = query.split('#').next().unwrap_or(query);
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "api_key" && !value.is_empty() {
                // Bytes that are not UTF-8 come out as U+FFFD: still a key,
                // and a different one from any other.
                add(value.as_bytes());
            }
        }
    }
    let Some(first) = keys.first() else {
        return Ok(None);
    };
    if keys.iter().any(|key| key != first) || (unreadable && keys.len() > 1) {
        return Err(TwoKeys);
    }
    Ok(keys.into_iter().next())
}

/// Why a URI or component is refused rather than judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ambiguous(pub String);

impl Ambiguous {
    fn because(why: impl Into<String>) -> Result<(), Ambiguous> {
        Err(Ambiguous(why.into()))
    }

    /// The refusal as a client reads it.
    pub fn message(&self) -> String {
        format!(
            "The request URI is ambiguous: {}. An API behind the proxy might read it differently \
             from keyward, so it is refused rather than judged.",
            self.0
        )
    }
}

/// Splits an original request URI into service and component under `base`
/// (`/api/v2/db/_table/contacts?x=1` → `db`, `_table/contacts`), decoded.
/// `Ok(None)` when the URI is not under the base path or names no service;
/// `Err` when it could be read in more than one way.
pub fn service_and_component(uri: &str, base: &str) -> Result<Option<(String, String)>, Ambiguous> {
    if uri.contains('#') {
        Ambiguous::because("it has a fragment (#), which clients never send")?;
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Ambiguous::because("it contains a raw space or control character")?;
    }
    let path = uri.split('?').next().unwrap_or_default();
    if !path.starts_with('/') {
        Ambiguous::because("its path does not start with /")?;
    }
    if path.contains('\\') {
        Ambiguous::because("it contains a backslash")?;
    }
    if path.contains(';') {
        Ambiguous::because("it has ';' in its path")?;
    }
    let segments = path[1..]
        .split('/')
        .map(decode_segment)
        .collect::<Result<Vec<_>, _>>()?;
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        // A trailing slash is the same resource to every server; `//` is not.
        if segment.is_empty() && i != last {
            Ambiguous::because("it has an empty path segment (//)")?;
        }
        check_segment(segment)?;
    }
    let base: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    let under_base =
        segments.len() > base.len() && segments.iter().zip(&base).all(|(segment, b)| segment == b);
    if !under_base {
        return Ok(None);
    }
    let mut rest = segments[base.len()..].iter().filter(|s| !s.is_empty());
    let Some(service) = rest.next() else {
        return Ok(None);
    };
    let component: Vec<&str> = rest.map(String::as_str).collect();
    Ok(Some((service.clone(), component.join("/"))))
}

/// The rules a decoded component (of `/api/v1/verify`) must meet too: what an
/// API could read as another path is refused there as well.
pub fn check_component(component: &str) -> Result<(), Ambiguous> {
    if component.chars().any(char::is_control) {
        Ambiguous::because("it contains a control character")?;
    }
    if component.contains('\\') {
        Ambiguous::because("it contains a backslash")?;
    }
    if component.contains(';') {
        Ambiguous::because("it contains ';'")?;
    }
    if component.contains('#') {
        Ambiguous::because("it contains '#'")?;
    }
    component.split('/').try_for_each(check_segment)
}

/// One decoded segment: no dot segments, nothing a server might trim.
fn check_segment(segment: &str) -> Result<(), Ambiguous> {
    if segment == "." || segment == ".." {
        Ambiguous::because("it has a dot segment (. or ..)")?;
    }
    if segment.ends_with('.') {
        Ambiguous::because("a segment ends with a dot, which some servers drop")?;
    }
    if segment.starts_with(char::is_whitespace) || segment.ends_with(char::is_whitespace) {
        Ambiguous::because("a segment starts or ends with a space, which some servers drop")?;
    }
    Ok(())
}

/// Percent-decodes one path segment, refusing escapes that hide a separator,
/// a dot, a percent sign (a second round of decoding) or a control character.
fn decode_segment(segment: &str) -> Result<String, Ambiguous> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let byte = segment
            .get(i + 1..i + 3)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            .ok_or_else(|| Ambiguous("it has a broken percent-escape".into()))?;
        match byte {
            0x00..=0x1f | 0x7f => {
                return Err(Ambiguous("it encodes a control character".into()));
            }
            b'/' | b'\\' | b'.' | b'%' | b';' => {
                return Err(Ambiguous(format!(
                    "it encodes '{}' as %{byte:02X}",
                    byte as char
                )));
            }
            _ => out.push(byte),
        }
        i += 3;
    }
    String::from_utf8(out).map_err(|_| Ambiguous("it is not UTF-8 once decoded".into()))
}

#[cfg(test)]
mod tests {
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
}
