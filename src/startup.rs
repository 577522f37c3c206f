//! Building and running the HTTP server.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::admins::pages::setup::SetupToken;
use crate::apps::queries::search;
use crate::config::{ApiBasePath, Settings};
use crate::db::{self, DbPool, settings};
use crate::error::{AppError, BODY_LIMIT, form_error, json_error, method_not_allowed};
use crate::metrics::Metrics;
use crate::session::CookieConfig;
use crate::session::store::{self as session_store, DieselSessionStore};
use crate::verify::Verifier;
use crate::verify::api::ForwardAuthProxy;

pub struct Application {
    address: SocketAddr,
    server: Server,
    setup_token: Option<String>,
    pool: DbPool,
    verifier: std::sync::Arc<Verifier>,
    /// Periodic work (cache poll, last-used writer, session clean-up), ended
    /// once the server has stopped.
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl Application {
    /// Connects to the database (applying migrations), binds the listener and
    /// prepares the server. Binding happens here so callers can pass port 0 and
    /// read the real port back.
    pub async fn build(config: Settings) -> anyhow::Result<Self> {
        let url = config.database_url.clone();
        let pool_size = config.pool_size;
        let (pool, backend, cookie_key, setup_token) = web::block(move || -> anyhow::Result<_> {
            let (pool, backend) = db::connect(&url, pool_size)?;
            let mut conn = pool.get().context("cannot connect to the database")?;
            // One cookie key for every instance on this database, so a session
            // cookie stays valid across restarts and load-balanced instances.
            let key = settings::get_or_create(&mut conn, "cookie_key", || {
                hex::encode(crate::random::bytes::<64>())
            })?;
            let key = hex::decode(key)
                .ok()
                .filter(|k| k.len() >= 64)
                .context("stored cookie key is corrupt")?;
            let setup_token =
                (!crate::admins::queries::any_exist(&mut conn)?).then(crate::random::token);
            Ok((pool, backend, Key::from(&key), setup_token))
        })
        .await??;

        let listener = TcpListener::bind(config.bind).map_err(|cause| BindError {
            address: config.bind,
            cause,
        })?;
        let address = listener.local_addr()?;

        let setup = web::Data::new(SetupToken::new(setup_token.clone()));
        let cookie_config = web::Data::new(CookieConfig {
            key: cookie_key.clone(),
            secure: config.cookie_secure,
        });
        let pool_data = web::Data::new(pool.clone());
        let store = DieselSessionStore::new(pool.clone());
        let idle = actix_web::cookie::time::Duration::seconds(config.session_idle.as_secs() as i64);
        let cookie_secure = config.cookie_secure;
        let metrics = std::sync::Arc::new(Metrics::new());
        let metrics_data = web::Data::from(metrics.clone());
        let verifier = Verifier::new(
            pool.clone(),
            backend,
            config.verify_cache_capacity,
            config.clock.clone(),
            config.database_outage,
            config.usage,
            metrics,
        );
        let mut background = verifier.spawn_background_tasks();
        let dashboard_snapshots = web::Data::new(crate::dashboard::pages::Snapshots::default());
        let drawn_usage = web::Data::new(crate::usage::view::Drawn::default());
        let search_stats = web::Data::new(search::SearchStats::default());
        let webhook_target = web::Data::new(crate::webhooks::pages::WebhookTarget(
            config
                .webhook
                .as_ref()
                .map(crate::config::WebhookSettings::shown_url),
        ));
        if let Some(webhook) = config.webhook.clone() {
            let deliverer = crate::webhooks::deliverer::Deliverer::new(
                pool.clone(),
                config.clock.clone(),
                webhook,
                config.expiry_warning_days,
            )?;
            background.push(deliverer.spawn());
        }
        let verifier_data = web::Data::new(verifier.clone());
        let clock = web::Data::new(config.clock.clone());
        let base_path = web::Data::new(ApiBasePath(config.api_base_path.clone()));
        let proxy = web::Data::new(ForwardAuthProxy(config.proxy));
        let expiry_warning =
            web::Data::new(crate::config::ExpiryWarning(config.expiry_warning_days));
        let trusted_proxies = web::Data::new(config.trusted_proxies.clone());
        let body_timeout = web::Data::new(crate::http::BodyTimeout(config.body_timeout));
        let session_lifetime = web::Data::new(crate::session::Lifetime(config.session_lifetime));
        let session_cookie = crate::session::cookie_name(config.cookie_secure);
        let uploads = web::Data::new(crate::import::Uploads::default());

        let mut server = HttpServer::new(move || {
            let sessions = SessionMiddleware::builder(store.clone(), cookie_key.clone())
                .cookie_name(session_cookie.into())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_secure(cookie_secure)
                .session_lifecycle(
                    BrowserSession::default()
                        .state_ttl(idle)
                        .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                )
                .build();
            // The machine API, health and static files come first and skip the
            // session and CSRF layers: no session look-up or write per
            // verification or asset. Everything else is the console, and the
            // console is private: only the routes named public here are
            // reachable without signing in; every other one, and every route
            // added later, sits behind the sign-in wall.
            let private = web::scope("")
                .wrap(from_fn(crate::admins::sign_in_wall))
                .route("/", web::get().to(home))
                .configure(crate::dashboard::routes)
                .configure(crate::webhooks::routes)
                .configure(crate::apps::routes)
                .configure(crate::roles::routes)
                .configure(crate::services::routes)
                .configure(crate::admins::routes)
                .configure(crate::audit::routes)
                .configure(crate::import::routes)
                .configure(crate::api_docs::routes)
                .default_service(web::to(not_found));
            let console = web::scope("")
                .wrap(from_fn(crate::csrf::protect))
                .wrap(sessions)
                .wrap(from_fn(session_store::failures_as_unavailable))
                .configure(crate::admins::public_routes)
                .service(private);
            App::new()
                // Innermost, so the log and the metrics still say HEAD.
                .wrap(from_fn(crate::http::head_as_get))
                .wrap(
                    ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, |res| {
                        method_not_allowed(res, crate::api_docs::allowed_methods)
                    }),
                )
                .wrap(from_fn(crate::http::security_headers))
                .wrap(from_fn(crate::http::request_log))
                .wrap(from_fn(crate::http::count_requests))
                .wrap(from_fn(crate::http::body_deadline))
                .app_data(pool_data.clone())
                .app_data(setup.clone())
                .app_data(cookie_config.clone())
                .app_data(verifier_data.clone())
                .app_data(base_path.clone())
                .app_data(expiry_warning.clone())
                .app_data(webhook_target.clone())
                .app_data(dashboard_snapshots.clone())
                .app_data(drawn_usage.clone())
                .app_data(search_stats.clone())
                .app_data(proxy.clone())
                .app_data(body_timeout.clone())
                .app_data(trusted_proxies.clone())
                .app_data(session_lifetime.clone())
                .app_data(clock.clone())
                .app_data(uploads.clone())
                .app_data(metrics_data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(BODY_LIMIT)
                        .error_handler(json_error),
                )
                .app_data(
                    web::FormConfig::default()
                        .limit(BODY_LIMIT)
                        .error_handler(form_error),
                )
                .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
                .configure(crate::ops::routes)
                .configure(crate::verify::routes)
                .configure(crate::api_docs::public_routes)
                .service(management_api())
                .service(system_api())
                .route(
                    "/static/{file:.*}",
                    web::get().to(crate::static_files::serve),
                )
                .route("/favicon.ico", web::get().to(crate::static_files::favicon))
                .service(console)
        })
        .listen(listener)?
        .shutdown_timeout(10);
        if config.workers > 0 {
            server = server.workers(config.workers);
        }
        let server = server.run();

        background.push(spawn_session_cleanup(pool.clone()));
        if backend == db::Backend::Sqlite {
            background.push(db::spawn_wal_checkpoints(
                pool.clone(),
                config.wal_checkpoint_interval,
            ));
            background.push(spawn_search_index_merges(pool.clone()));
        }
        Ok(Application {
            address,
            server,
            setup_token,
            pool,
            verifier,
            background,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The one-time setup URL, while no administrator exists.
    pub fn setup_url(&self) -> Option<String> {
        self.setup_token
            .as_ref()
            .map(|token| format!("http://{}/setup?token={token}", self.address))
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Stops the server from outside (tests restart it).
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped (SIGTERM, SIGINT or the handle). actix lets
    /// in-flight requests finish first; then the last-used times they
    /// collected are written, so a restart loses none of them.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        self.verifier.flush_last_used().await;
        self.verifier.flush_limits().await;
        self.verifier.flush_usage().await;
        for task in &self.background {
            task.abort();
        }
        served
    }
}

/// Idle sessions past their expiry are deleted every few minutes.
fn spawn_session_cleanup(pool: DbPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(300));
        loop {
            every.tick().await;
            let pool = pool.clone();
            let result = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                let mut conn = pool.get()?;
                Ok(session_store::delete_expired(&mut conn)?)
            })
            .await;
            match result {
                Ok(Ok(0)) => {}
                Ok(Ok(n)) => log::debug!("deleted {n} expired sessions"),
                Ok(Err(e)) => log::warn!("deleting expired sessions failed: {e:#}"),
                Err(e) => log::warn!("session clean-up task failed: {e}"),
            }
        }
    })
}

/// The SQLite search index is merged into one segment at start and then
/// every [`search::MERGE_INTERVAL`], a bounded step at a time with a pause
/// between steps, in which other writers take their turn.
fn spawn_search_index_merges(pool: DbPool) -> tokio::task::JoinHandle<()> {
    const PAUSE: Duration = Duration::from_millis(10);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(search::MERGE_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let started = std::time::Instant::now();
            let mut steps = 0_u32;
            loop {
                let merged = db::run(&pool, search::merge_step)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|merged| merged.map_err(|e| e.to_string()));
                match merged {
                    Ok(true) => {
                        steps += 1;
                        tokio::time::sleep(PAUSE).await;
                    }
                    Ok(false) if steps == 0 => {
                        log::info!("search index: one segment already, nothing to merge");
                        break;
                    }
                    Ok(false) => {
                        let steps = match steps {
                            1 => "1 step".to_owned(),
                            steps => format!("{steps} steps"),
                        };
                        log::info!(
                            "search index: merged into one segment in {steps}, {} ms",
                            started.elapsed().as_millis()
                        );
                        break;
                    }
                    // Logged; the next day's merge goes on where this one stopped.
                    Err(e) => {
                        log::warn!("merging the search index failed: {e}");
                        break;
                    }
                }
            }
        }
    })
}

/// The configured address cannot be listened on (in use, not this machine's,
/// not allowed).
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {address}: {cause}")]
pub struct BindError {
    pub address: SocketAddr,
    pub cause: std::io::Error,
}

/// The management API, `/api/v1/…` (but for verification and the OpenAPI
/// document, routed before it): JSON in and out, behind the token wall. It
/// never reads a session cookie; its bad bodies, queries and unknown
/// addresses are answered as API errors.
fn management_api() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/api/v1")
        .wrap(from_fn(crate::admins::api_wall))
        .app_data(web::QueryConfig::default().error_handler(crate::error::query_error))
        .app_data(web::PathConfig::default().error_handler(crate::error::path_error))
        .configure(crate::apps::api_routes)
        .configure(crate::roles::api_routes)
        .configure(crate::services::api_routes)
        .configure(crate::admins::api_routes)
        .configure(crate::audit::api_routes)
        .default_service(web::to(crate::api::no_such_endpoint))
}

/// DreamFactory's system API, `/api/v2/system/…`: behind its own wall
/// (session or admin API tokens, never a cookie), every error in
/// DreamFactory's shape.
fn system_api() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/api/v2/system")
        .wrap(from_fn(crate::system_api::auth::wall))
        .configure(crate::system_api::routes)
        .default_service(web::to(crate::system_api::answer::no_such_resource))
}

/// The console opens on the dashboard.
async fn home() -> actix_web::HttpResponse {
    crate::http::see_other("/dashboard")
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}
