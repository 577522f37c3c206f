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
mod tests;
