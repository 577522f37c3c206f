//! The machine API: `POST /api/v1/verify` and the forward-auth endpoint
//! `/api/v1/auth` for nginx `auth_request`, Traefik ForwardAuth and Caddy
//! `forward_auth`.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{Code, Decision, Named, Target, Verifier, extract};
use crate::error::AppError;
use crate::roles::rules::Verb;

/// The path under which API URIs name their service (`/api/v2/` by default,
/// as DreamFactory's).
#[derive(Debug, Clone)]
pub struct ApiBasePath(pub String);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/v1/verify").route(web::post().to(verify)))
        .service(web::resource("/api/v1/auth").route(web::route().to(forward_auth)));
}

#[derive(Debug, Deserialize)]
pub struct VerifyRequest {
    key: String,
    service: Option<String>,
    component: Option<String>,
    verb: Option<String>,
}

#[derive(Debug, Serialize)]
struct VerifyResponse {
    valid: bool,
    code: Code,
    message: std::borrow::Cow<'static, str>,
    app: Option<Named>,
    role: Option<Named>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed: Option<bool>,
}

async fn verify(
    body: web::Json<VerifyRequest>,
    verifier: web::Data<Arc<Verifier>>,
) -> Result<HttpResponse, AppError> {
    let VerifyRequest {
        key,
        service,
        component,
        verb,
    } = body.into_inner();
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
            Some(Target {
                service,
                component: component.unwrap_or_default(),
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
        .verify(Some(&key), target.as_ref())
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

async fn forward_auth(
    req: HttpRequest,
    verifier: web::Data<Arc<Verifier>>,
    base: web::Data<ApiBasePath>,
) -> Result<HttpResponse, AppError> {
    let (method, uri) = extract::original_request(req.headers());
    let method = method.unwrap_or_else(|| req.method().as_str().to_owned());
    // CORS preflights carry no key by design; the upstream answers them.
    if method.eq_ignore_ascii_case("OPTIONS")
        && req.headers().contains_key("access-control-request-method")
    {
        return Ok(HttpResponse::Ok().finish());
    }
    let Some(uri) = uri else {
        return Err(AppError::api(
            StatusCode::BAD_REQUEST,
            "Send the original request's URI in X-Original-URI (nginx) or X-Forwarded-Uri (Traefik, Caddy).",
        ));
    };
    let Some(verb) = Verb::parse(&method) else {
        return Err(AppError::api(
            StatusCode::FORBIDDEN,
            format!("The method {method} is not allowed."),
        ));
    };
    let key = extract::api_key(req.headers(), Some(&uri));
    let target = extract::service_and_component(&uri, &base.0).map(|(service, component)| Target {
        service,
        component,
        verb,
    });
    let decision = verifier
        .verify(key.as_deref(), target.as_ref())
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
        Code::Inactive | Code::NoRole | Code::RoleInactive | Code::Forbidden => {
            StatusCode::FORBIDDEN
        }
    };
    if status == StatusCode::OK {
        let mut response = HttpResponse::Ok();
        if let Some(app) = &decision.app {
            response.insert_header(("X-Keyward-App", header_safe(&app.name)));
            response.insert_header(("X-Keyward-App-Id", app.id.to_string()));
        }
        if let Some(role) = &decision.role {
            response.insert_header(("X-Keyward-Role", header_safe(&role.name)));
        }
        return Ok(response.finish());
    }
    let mut error = AppError::api(status, decision.message);
    if status == StatusCode::UNAUTHORIZED {
        error = error.with_challenge();
    }
    Err(error)
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
