//! Administrators signing in: the one-time setup page, login (throttled) and logout.

pub mod admins;
pub mod login;
pub mod password;
pub mod setup;
pub mod throttle;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/login")
            .route(web::get().to(login::form))
            .route(web::post().to(login::submit)),
    )
    .service(web::resource("/logout").route(web::post().to(login::logout)))
    .service(
        web::resource("/setup")
            .route(web::get().to(setup::form))
            .route(web::post().to(setup::submit)),
    );
}

/// Where to send an admin after signing in: only a local path, never another
/// site (`//evil.example`, `/\evil.example`, `https://...`). keyward writes
/// `next` from request URIs, which are printable ASCII (anything else comes
/// percent-encoded); other bytes could not even be sent in a `Location`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.bytes().all(|b| b.is_ascii_graphic())
                && !path.starts_with("/login")
                && !path.starts_with("/logout") =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/api-keys?page=2")), "/api-keys?page=2");
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/\t/x",
            "/login",
            "/api-keys?q=ключ",
            "/a b",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
