//! The handlers of `POST /api/v1/verify` and of the forward-auth endpoint
//! `/api/v1/auth` for nginx `auth_request`, Traefik ForwardAuth and Caddy
//! `forward_auth`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::domain::extract::{self, TwoKeys};
use super::domain::{Code, Decision, Named, Target};
use super::verifier::Verifier;
use crate::config::ApiBasePath;
use crate::error::{ApiErrorBody, AppError};
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
    } = decision;
    Ok(HttpResponse::Ok().json(VerifyResponse {
        valid: code == Code::Valid,
        code,
        message,
        app,
        role,
        allowed,
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
                 ("X-Keyward-Role" = String, description = "The role's name"))),
        (status = 400, description = "The proxy did not send the original request", body = ApiErrorBody),
        (status = 401, description = "No key, or not a known, current one", body = ApiErrorBody),
        (status = 403, description = "The key may not make this request, or the URI is ambiguous", body = ApiErrorBody),
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
        Code::Inactive
        | Code::NoRole
        | Code::RoleInactive
        | Code::IpNotAllowed
        | Code::Forbidden => StatusCode::FORBIDDEN,
    };
    if status == StatusCode::OK {
        return Ok(passes(decision.app.as_ref(), decision.role.as_ref()));
    }
    let mut error = AppError::api(status, decision.message);
    if status == StatusCode::UNAUTHORIZED {
        error = error.with_challenge();
    }
    Err(error)
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
    use super::header_safe;

    #[test]
    fn header_values_are_visible_ascii() {
        assert_eq!(header_safe("Mobile app"), "Mobile app");
        assert_eq!(header_safe("Café 100%"), "Caf%C3%A9 100%25");
        assert_eq!(header_safe("a\r\nb"), "a%0D%0Ab");
    }
}
