//! Where a client's key and request come from: the headers DreamFactory clients
//! and reverse proxies send.

use actix_web::http::header::HeaderMap;

/// The key from `X-API-Key`, `X-DreamFactory-API-Key`, `Authorization: Bearer`
/// or the `api_key` query parameter of `uri`, in that order.
pub fn api_key(headers: &HeaderMap, uri: Option<&str>) -> Option<String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    header("x-api-key")
        .or_else(|| header("x-dreamfactory-api-key"))
        .or_else(|| {
            header("authorization").and_then(|value| {
                let (scheme, token) = value.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
                    .filter(|t| !t.is_empty())
            })
        })
        .or_else(|| query_param(uri?, "api_key"))
}

fn query_param(uri: &str, name: &str) -> Option<String> {
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// The original request's method and URI: nginx's `X-Original-Method` /
/// `X-Original-URI`, or Traefik's and Caddy's `X-Forwarded-Method` /
/// `X-Forwarded-Uri`.
pub fn original_request(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let method = header("x-original-method").or_else(|| header("x-forwarded-method"));
    let uri = header("x-original-uri").or_else(|| header("x-forwarded-uri"));
    (method, uri)
}

/// Splits an API URI into service and component under `base` (for example
/// `/api/v2/db/_table/contacts?x=1` → `db`, `_table/contacts`). `None` when
/// the URI is not under the base path, names no service, or uses `.`/`..`
/// segments that an upstream might resolve differently.
pub fn service_and_component(uri: &str, base: &str) -> Option<(String, String)> {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    let base = base.trim_end_matches('/');
    let rest = path.strip_prefix(base)?;
    if !base.is_empty() && !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let mut segments = rest.split('/').filter(|s| !s.is_empty());
    let decoded: Vec<String> = segments
        .by_ref()
        .map(percent_decode)
        .collect::<Option<Vec<_>>>()?;
    if decoded
        .iter()
        .any(|s| s == "." || s == ".." || s.contains('/'))
    {
        return None;
    }
    let (service, component) = decoded.split_first()?;
    Some((service.clone(), component.join("/")))
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn key_from_every_place() {
        assert_eq!(
            api_key(&headers(&[("x-api-key", "k1")]), None).as_deref(),
            Some("k1")
        );
        assert_eq!(
            api_key(&headers(&[("x-dreamfactory-api-key", "k2")]), None).as_deref(),
            Some("k2")
        );
        assert_eq!(
            api_key(&headers(&[("authorization", "Bearer k3")]), None).as_deref(),
            Some("k3")
        );
        assert_eq!(
            api_key(&headers(&[("authorization", "bearer  k3 ")]), None).as_deref(),
            Some("k3")
        );
        assert_eq!(
            api_key(&HeaderMap::new(), Some("/api/v2/db?x=1&api_key=k4")).as_deref(),
            Some("k4")
        );
        assert_eq!(
            api_key(&HeaderMap::new(), Some("/api/v2/db?api_key=k%2B5#frag")).as_deref(),
            Some("k+5")
        );
    }

    #[test]
    fn header_order_and_absence() {
        let both = headers(&[("x-api-key", "first"), ("authorization", "Bearer second")]);
        assert_eq!(
            api_key(&both, Some("/?api_key=third")).as_deref(),
            Some("first")
        );
        assert_eq!(
            api_key(&headers(&[("authorization", "Basic abc")]), None),
            None
        );
        assert_eq!(api_key(&headers(&[("x-api-key", "  ")]), None), None);
        assert_eq!(
            api_key(&HeaderMap::new(), Some("/api/v2/db?api_key=")),
            None
        );
        assert_eq!(api_key(&HeaderMap::new(), None), None);
    }

    #[test]
    fn original_request_from_nginx_or_traefik() {
        let nginx = headers(&[
            ("x-original-method", "POST"),
            ("x-original-uri", "/api/v2/db"),
        ]);
        assert_eq!(
            original_request(&nginx),
            (Some("POST".into()), Some("/api/v2/db".into()))
        );
        let traefik = headers(&[
            ("x-forwarded-method", "PUT"),
            ("x-forwarded-uri", "/api/v2/files/a"),
        ]);
        assert_eq!(
            original_request(&traefik),
            (Some("PUT".into()), Some("/api/v2/files/a".into()))
        );
    }

    #[test]
    fn uri_maps_to_service_and_component() {
        let split = |uri| service_and_component(uri, "/api/v2/");
        assert_eq!(
            split("/api/v2/db/_table/contacts?api_key=x"),
            Some(("db".into(), "_table/contacts".into()))
        );
        assert_eq!(split("/api/v2/db"), Some(("db".into(), String::new())));
        assert_eq!(split("/api/v2/db/"), Some(("db".into(), String::new())));
        assert_eq!(
            split("/api/v2/files/a%20b"),
            Some(("files".into(), "a b".into()))
        );
        assert_eq!(split("/api/v2/"), None);
        assert_eq!(split("/api/v20/db"), None);
        assert_eq!(split("/other/db"), None);
        assert_eq!(split("/api/v2/db/../files"), None);
        assert_eq!(split("/api/v2/db/%2e%2e/files"), None);
        assert_eq!(split("/api/v2/db/a%2Fb"), None);
        assert_eq!(
            service_and_component("/db/x", "/"),
            Some(("db".into(), "x".into()))
        );
    }
}
