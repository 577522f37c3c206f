//! The handlers of `POST /api/v1/verify` and of the forward-auth endpoint
//! `/api/v1/auth` for nginx `auth_request`, Traefik ForwardAuth and Caddy
//! `forward_auth`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::domain::extract::{self, TwoKeys};
use super::domain::{Code, Decision, Named, Target};
use super::verifier::Verifier;
use crate::config::ApiBasePath;
use crate::error::{ApiErrorBody, AppError};
use crate::limits::Report;
use crate::proxy::Proxy;
use crate::roles::domain::rules::Verb;

/// The proxy in front of forward-auth (`--proxy`); `None` until the operator
/// names it, and until then forward-auth judges nothing.
#[derive(Debug, Clone, Copy)]
pub struct ForwardAuthProxy(pub Option<Proxy>);

/// A body with two `key` fields holds two keys; anything else wrong with it
/// is answered as for every JSON body.
pub fn verify_json_error(
    error: actix_web::error::JsonPayloadError,
    req: &HttpRequest,
) -> actix_web::Error {
    match error {
        actix_web::error::JsonPayloadError::Deserialize(e)
            if e.to_string().starts_with("duplicate field `key`") =>
        {
            AppError::api(StatusCode::BAD_REQUEST, TwoKeys::MESSAGE).into()
        }
        actix_web::error::JsonPayloadError::Deserialize(e) => AppError::api(
            StatusCode::BAD_REQUEST,
            format!("The request body must be JSON like {{\"key\": \"kw_...\"}}: {e}"),
        )
        .into(),
        other => crate::error::json_error(other, req),
    }
}

/// A key to check, and optionally the request it is to make.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    /// The app's API key (`kw_…`).
    key: String,
    /// The service the request is for (its name); without it only the key
    /// itself is checked.
    service: Option<String>,
    /// The path below the service, e.g. `_table/contacts` (needs `service`).
    component: Option<String>,
    /// `GET` (the default), `POST`, `PUT`, `PATCH` or `DELETE` (needs `service`).
    verb: Option<String>,
    /// The end client's IPv4 or IPv6 address, for a key with allowed
    /// addresses; without it, the address of the caller of this endpoint
    /// (through `--trusted-proxy` proxies) is judged.
    #[schema(example = "203.0.113.7")]
    ip: Option<String>,
}

/// The verdict on a key (and the request, when one was named).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    /// The key is known, active and not expired, and has an active role.
    valid: bool,
    code: Code,
    /// Why, in words.
    #[schema(value_type = String)]
    message: std::borrow::Cow<'static, str>,
    app: Option<Named>,
    role: Option<Named>,
    /// Whether the role allows the request; only when one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<bool>,
    /// Each rate limit the key is held to (its own, else its role's) and
    /// what is left of it, counting this request; only for a key with
    /// limits whose request got as far as them (a refused request spends
    /// nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limits: Option<Vec<VerifiedLimitJson>>,
    /// The key's quota and what is left of it, counting this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    quota: Option<VerifiedQuotaJson>,
}

/// One rate limit and where the key stands in its current window.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifiedLimitJson {
    /// Requests the window admits.
    limit: u64,
    window_seconds: u32,
    /// Requests left in the current window.
    remaining: u64,
    /// Seconds until the window ends and the count starts again.
    reset: u64,
}

/// A key's quota and what is left of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifiedQuotaJson {
    total: u64,
    remaining: u64,
    /// `never`, `daily` or `monthly`.
    refill: &'static str,
    /// Seconds until the balance is restored; absent for `never`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reset: Option<u64>,
}

fn limit_states(report: &Report) -> (Vec<VerifiedLimitJson>, Option<VerifiedQuotaJson>) {
    let limits = report
        .rate_limits
        .iter()
        .map(|(limit, usage)| VerifiedLimitJson {
            limit: limit.limit,
            window_seconds: limit.window_seconds,
            remaining: usage.remaining(),
            reset: usage.reset.unwrap_or(1),
        })
        .collect();
    let quota = report.quota.map(|(quota, usage)| VerifiedQuotaJson {
        total: quota.total,
        remaining: usage.remaining(),
        refill: quota.refill.as_str(),
        reset: usage.reset,
    });
    (limits, quota)
}

/// The IETF `RateLimit-Policy` and `RateLimit` header values for a report
/// (draft-ietf-httpapi-ratelimit-headers): one item a limit, named by its
/// window (`"minute"`, `"30-seconds"`), and `"quota"` for the quota.
pub fn rate_limit_headers(report: &Report) -> (String, String) {
    let mut policies = Vec::new();
    let mut states = Vec::new();
    for (limit, usage) in &report.rate_limits {
        let name = limit.window_text().replace(' ', "-");
        policies.push(format!(
            "\"{name}\";q={};w={}",
            limit.limit, limit.window_seconds
        ));
        states.push(format!(
            "\"{name}\";r={};t={}",
            usage.remaining(),
            usage.reset.unwrap_or(1)
        ));
    }
    if let Some((quota, usage)) = &report.quota {
        policies.push(format!("\"quota\";q={}", quota.total));
        states.push(match usage.reset {
            Some(reset) => format!("\"quota\";r={};t={reset}", usage.remaining()),
            None => format!("\"quota\";r={}", usage.remaining()),
        });
    }
    (policies.join(", "), states.join(", "))
}

/// Checks an app's API key, and whether its role allows a request. Takes the
/// key, not an admin API token; an unknown or refused key is still a 200
/// with `valid: false` and a `code`.
#[utoipa::path(post, operation_id = "verify_key", path = "/api/v1/verify", tag = "verification", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse),
              (status = 400, description = "A malformed body, or two different keys in one request",
               body = ApiErrorBody)))]
pub async fn verify(
    req: HttpRequest,
    body: web::Json<VerifyRequest>,
    verifier: web::Data<Arc<Verifier>>,
) -> Result<HttpResponse, AppError> {
    // A key beside the body's, in a header or the query, is a second key
    // unless it is the same one.
    let beside = extract::presented_key(req.headers(), Some(&req.uri().to_string()))
        .map_err(|TwoKeys| AppError::api(StatusCode::BAD_REQUEST, TwoKeys::MESSAGE))?;
    if beside.is_some_and(|other| other != body.key.trim()) {
        return Err(AppError::api(StatusCode::BAD_REQUEST, TwoKeys::MESSAGE));
    }
    let VerifyRequest {
        key,
        service,
        component,
        verb,
        ip,
    } = body.into_inner();
    let client = match ip.as_deref().map(str::trim) {
        None => crate::proxy::client_ip(&req),
        Some(ip) => Some(ip.parse::<std::net::IpAddr>().map_err(|_| {
            AppError::api(
                StatusCode::BAD_REQUEST,
                "ip must be an IPv4 or IPv6 address, like 203.0.113.7 or 2001:db8::7",
            )
        })?),
    };
    let target = match (
        service
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        component,
        verb,
    ) {
        (Some(service), component, verb) => {
            let verb = match verb.as_deref() {
                None => Verb::Get,
                Some(name) => Verb::parse(name).ok_or_else(|| {
                    AppError::api(
                        StatusCode::BAD_REQUEST,
                        "verb must be one of GET, POST, PUT, PATCH, DELETE",
                    )
                })?,
            };
            let component = component.unwrap_or_default();
            extract::check_component(&component).map_err(|why| {
                AppError::api(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "component is ambiguous: {}; an API might read it as another path.",
                        why.0
                    ),
                )
            })?;
            Some(Target {
                service,
                component,
                verb,
            })
        }
        (None, None, None) => None,
        (None, _, _) => {
            return Err(AppError::api(
                StatusCode::BAD_REQUEST,
                "component and verb need a service",
            ));
        }
    };
    // The client did send the field, so an empty key is malformed, not missing.
    let decision = verifier
        .verify(Some(&key), target.as_ref(), client)
        .await
        .map_err(AppError::for_api)?;
    let Decision {
        code,
        message,
        app,
        role,
        allowed,
        limits,
    } = decision;
    let (rate_limits, quota) = match limits.as_ref().map(limit_states) {
        Some((rate_limits, quota)) => ((!rate_limits.is_empty()).then_some(rate_limits), quota),
        None => (None, None),
    };
    Ok(HttpResponse::Ok().json(VerifyResponse {
        valid: code == Code::Valid,
        code,
        message,
        app,
        role,
        allowed,
        rate_limits,
        quota,
    }))
}

/// Forward-auth for nginx `auth_request`, Traefik ForwardAuth and Caddy
/// `forward_auth` (any method; the proxy sends the original request's method
/// and URI in the headers of the proxy keyward is set up for, `--proxy`).
/// The key comes as the client sent it: `X-DreamFactory-API-Key`,
/// `X-API-Key`, `Authorization: Bearer`, or the `api_key` query parameter.
#[utoipa::path(get, operation_id = "forward_auth", path = "/api/v1/auth", tag = "verification",
    params(
        ("X-Original-Method" = Option<String>, Header, description = "The original method (nginx)"),
        ("X-Original-URI" = Option<String>, Header, description = "The original URI (nginx)"),
        ("X-Forwarded-Method" = Option<String>, Header, description = "The original method (Traefik, Caddy)"),
        ("X-Forwarded-Uri" = Option<String>, Header, description = "The original URI (Traefik, Caddy)"),
        ("X-API-Key" = Option<String>, Header, description = "The app's API key"),
    ),
    responses(
        (status = 200, description = "The request may pass",
         headers(("X-Keyward-App" = String, description = "The app's name"),
                 ("X-Keyward-App-Id" = String, description = "The app's id"),
                 ("X-Keyward-Role" = String, description = "The role's name"),
                 ("RateLimit-Policy" = String, description = "For a key with limits: its limits"),
                 ("RateLimit" = String, description = "For a key with limits: what is left of each"))),
        (status = 400, description = "The proxy did not send the original request", body = ApiErrorBody),
        (status = 401, description = "No key, or not a known, current one", body = ApiErrorBody),
        (status = 403, description = "The key may not make this request (or its quota is spent and never refilled), or the URI is ambiguous", body = ApiErrorBody),
        (status = 429, description = "The key's rate limit is reached, or its quota is spent until it refills",
         body = ApiErrorBody,
         headers(("Retry-After" = u64, description = "Seconds until the request could pass"),
                 ("RateLimit-Policy" = String, description = "The key's limits, as `\"minute\";q=100;w=60, \"quota\";q=10000`"),
                 ("RateLimit" = String, description = "What is left of each, as `\"minute\";r=0;t=23`"))),
        (status = 503, description = "Forward-auth is not set up (no --proxy)", body = ApiErrorBody)))]
pub async fn forward_auth(
    req: HttpRequest,
    verifier: web::Data<Arc<Verifier>>,
    base: web::Data<ApiBasePath>,
    proxy: web::Data<ForwardAuthProxy>,
) -> Result<HttpResponse, AppError> {
    let Some(proxy) = proxy.0 else {
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| {
            log::warn!("forward-auth was asked but judges nothing until --proxy is set");
        });
        return Err(AppError::api(
            StatusCode::SERVICE_UNAVAILABLE,
            "Forward-auth is not set up: start keyward with --proxy (KEYWARD_PROXY) set to the \
             proxy in front of it, nginx, traefik or caddy, so it knows which headers carry the \
             original request.",
        ));
    };
    // Only the configured proxy's headers: a header of another proxy's kind
    // may have come from the client.
    let original = |name: &str| req.headers().get(name).map(|v| v.as_bytes());
    let missing = |name: &str| {
        AppError::api(
            StatusCode::BAD_REQUEST,
            format!(
                "Send the original request's {} in {name}: keyward is set up for {} (--proxy), \
                 which sends it there.",
                if name == proxy.method_header() {
                    "method"
                } else {
                    "URI"
                },
                proxy.as_str()
            ),
        )
    };
    let method = original(proxy.method_header()).ok_or_else(|| missing(proxy.method_header()))?;
    let method = String::from_utf8_lossy(method);
    let uri = original(proxy.uri_header()).ok_or_else(|| missing(proxy.uri_header()))?;
    let uri = std::str::from_utf8(uri).map_err(|_| {
        AppError::api(
            StatusCode::FORBIDDEN,
            extract::Ambiguous("it is not UTF-8".into()).message(),
        )
    })?;
    let target = extract::service_and_component(uri, &base.0)
        .map_err(|why| AppError::api(StatusCode::FORBIDDEN, why.message()))?;
    // CORS preflights carry no key by design; the upstream answers them. The
    // identity headers are sent empty: a proxy that copies them onto the
    // request (Caddy) then replaces whatever the client sent under those
    // names with nothing, rather than letting it through.
    if method.eq_ignore_ascii_case("OPTIONS")
        && req.headers().contains_key("access-control-request-method")
    {
        return Ok(passes(None, None));
    }
    let Some(verb) = Verb::parse(&method) else {
        return Err(AppError::api(
            StatusCode::FORBIDDEN,
            format!("The method {method} is not allowed."),
        ));
    };
    let key = extract::presented_key(req.headers(), Some(uri)).map_err(|TwoKeys| {
        AppError::api(StatusCode::UNAUTHORIZED, TwoKeys::MESSAGE).with_challenge()
    })?;
    let target = target.map(|(service, component)| Target {
        service,
        component,
        verb,
    });
    let decision = verifier
        .verify(
            key.as_deref(),
            target.as_ref(),
            crate::proxy::client_ip(&req),
        )
        .await
        .map_err(AppError::for_api)?;
    let status = match decision.code {
        Code::Missing | Code::Malformed | Code::NotFound | Code::Expired => {
            StatusCode::UNAUTHORIZED
        }
        Code::Valid if target.is_none() => {
            return Err(AppError::api(
                StatusCode::FORBIDDEN,
                format!(
                    "The URI is not an API path under {}: it names no service.",
                    base.0
                ),
            ));
        }
        Code::Valid => StatusCode::OK,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        // Waiting helps only a quota that is refilled.
        Code::UsageExceeded
            if decision
                .limits
                .as_ref()
                .is_some_and(|report| report.quota_refills_in().is_some()) =>
        {
            StatusCode::TOO_MANY_REQUESTS
        }
        Code::Inactive
        | Code::NoRole
        | Code::RoleInactive
        | Code::IpNotAllowed
        | Code::Forbidden
        | Code::UsageExceeded => StatusCode::FORBIDDEN,
    };
    let mut response = if status == StatusCode::OK {
        passes(decision.app.as_ref(), decision.role.as_ref())
    } else {
        let mut error = AppError::api(status, decision.message.clone());
        if status == StatusCode::UNAUTHORIZED {
            error = error.with_challenge();
        }
        actix_web::ResponseError::error_response(&error)
    };
    if let Some(report) = &decision.limits {
        let (policy, state) = rate_limit_headers(report);
        let headers = response.headers_mut();
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry = match decision.code {
                Code::RateLimited => report.full_windows_end_in(),
                _ => report.quota_refills_in(),
            };
            if let Some(seconds) = retry {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
        }
    }
    Ok(response)
}

/// Forward-auth's "may pass", naming the app and role to the upstream.
fn passes(app: Option<&Named>, role: Option<&Named>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            "X-Keyward-App",
            app.map(|a| header_safe(&a.name)).unwrap_or_default(),
        ))
        .insert_header((
            "X-Keyward-App-Id",
            app.map(|a| a.id.to_string()).unwrap_or_default(),
        ))
        .insert_header((
            "X-Keyward-Role",
            role.map(|r| header_safe(&r.name)).unwrap_or_default(),
        ))
        .finish()
}

/// Header values must be visible ASCII: anything else (and `%`) is
/// percent-encoded as UTF-8, so `Café app` becomes `Caf%C3%A9 app`.
fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if (' '..='~').contains(&c) && c != '%' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{header_safe, rate_limit_headers};
    use crate::limits::{Quota, RateLimit, Refill, check};

    #[test]
    fn limits_are_told_in_the_ietf_headers() {
        let minute = RateLimit::new(100, 60).unwrap();
        let thirty = RateLimit::new(5, 30).unwrap();
        let quota = Quota::new(10_000, Refill::Daily).unwrap();
        // 23:59:37 UTC: 23 seconds left in the minute, 13 in the half-minute and the day.
        let at = 1_800_057_600 - 23;
        let (_, report) = check(&[(thirty, 4), (minute, 63)], Some((quota, 999)), at);
        assert_eq!(
            rate_limit_headers(&report),
            (
                r#""30-seconds";q=5;w=30, "minute";q=100;w=60, "quota";q=10000"#.to_owned(),
                r#""30-seconds";r=0;t=23, "minute";r=36;t=23, "quota";r=9000;t=23"#.to_owned()
            )
        );
        let never = Quota::new(3, Refill::Never).unwrap();
        let (_, report) = check(&[], Some((never, 3)), at);
        assert_eq!(
            rate_limit_headers(&report),
            (r#""quota";q=3"#.to_owned(), r#""quota";r=0"#.to_owned())
        );
    }

    #[test]
    fn header_values_are_visible_ascii() {
        assert_eq!(header_safe("Mobile app"), "Mobile app");
        assert_eq!(header_safe("Café 100%"), "Caf%C3%A9 100%25");
        assert_eq!(header_safe("a\r\nb"), "a%0D%0Ab");
    }
}
