//! The command line: `keyward [serve]`, `keyward migrate`, `keyward admin create`,
//! `keyward token create`, `keyward import dreamfactory`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::admins::domain::token::{AdminToken, NewToken, Scope, TokenName};
use crate::admins::domain::{AdminName, Email, Password};
use crate::admins::queries::tokens::TokenError;
use crate::admins::queries::{self as admins, CreateError};
use crate::config::Settings;
use crate::db::Backend;
use crate::proxy::{Proxy, TrustedProxies};
use crate::startup::{Application, BindError};

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "A self-hosted console and verifier for API keys"
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// SQLite file path (or sqlite://PATH), or a postgres:// URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "keyward.db",
        global = true,
        value_parser = parse_database_url
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web console and verifier (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage admin API tokens (for the management API).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Import from another product.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a DreamFactory package (the .zip of its Export): services,
    /// roles with their rules, apps with their keys, optionally
    /// administrators. Prints what it does, or with --dry-run would do.
    Dreamfactory(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The package's path.
    pub package: std::path::PathBuf,
    /// The password of a secured package.
    #[arg(long, env = "KEYWARD_IMPORT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Print the report without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Update what exists by name (services, roles and their rules, apps)
    /// instead of skipping it.
    #[arg(long)]
    pub update: bool,
    /// Keep DreamFactory's seeded apps (admin, api_docs, file_manager) active
    /// although their keys are public.
    #[arg(long)]
    pub keep_public_keys: bool,
    /// Import the administrators of system/admin.json, with their passwords.
    #[arg(long)]
    pub with_admins: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "KEYWARD_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,
    /// Send the session cookie only over HTTPS.
    #[arg(long, env = "KEYWARD_COOKIE_SECURE", default_value_t = false,
          action = clap::ArgAction::Set, value_parser = parse_switch)]
    pub cookie_secure: bool,
    /// Minutes of inactivity after which an administrator is signed out.
    #[arg(long, env = "KEYWARD_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = parse_idle_minutes, allow_negative_numbers = true)]
    pub session_idle_minutes: u64,
    /// Largest number of database connections.
    #[arg(long, env = "KEYWARD_POOL_SIZE", default_value_t = 8,
          value_parser = parse_pool_size, allow_negative_numbers = true)]
    pub pool_size: u32,
    /// Forward-auth reads the service and component of a URI below this path.
    #[arg(long, env = "KEYWARD_API_BASE_PATH", default_value = "/api/v2/", value_parser = parse_base_path)]
    pub api_base_path: String,
    /// Most keys kept in the verification cache; 0 turns the cache off.
    #[arg(long, env = "KEYWARD_VERIFY_CACHE_CAPACITY",
          default_value_t = crate::config::DEFAULT_CACHE_CAPACITY,
          value_parser = parse_cache_capacity, allow_negative_numbers = true)]
    pub verify_cache_capacity: usize,
    /// HTTP worker threads; 0 starts one per CPU core.
    #[arg(long, env = "KEYWARD_WORKERS", default_value_t = 0,
          value_parser = parse_workers, allow_negative_numbers = true)]
    pub workers: usize,
    /// The proxy in front of forward-auth (nginx, traefik or caddy): only its
    /// headers name the original request.
    #[arg(long, env = "KEYWARD_PROXY", value_parser = Proxy::parse)]
    pub proxy: Option<Proxy>,
    /// Addresses or CIDR ranges of proxies whose X-Forwarded-For names the client.
    #[arg(long, env = "KEYWARD_TRUSTED_PROXY", default_value = "",
          value_parser = TrustedProxies::parse)]
    pub trusted_proxy: TrustedProxies,
    /// Seconds a request body may take to arrive after its headers.
    #[arg(long, env = "KEYWARD_BODY_TIMEOUT_SECONDS",
          default_value_t = crate::config::DEFAULT_BODY_TIMEOUT_SECONDS,
          value_parser = parse_body_timeout, allow_negative_numbers = true)]
    pub body_timeout_seconds: u64,
    /// Hours after signing in at which an administrator is signed out, however active.
    #[arg(long, env = "KEYWARD_SESSION_LIFETIME_HOURS",
          default_value_t = crate::config::DEFAULT_SESSION_LIFETIME_HOURS,
          value_parser = parse_lifetime_hours, allow_negative_numbers = true)]
    pub session_lifetime_hours: u64,
    /// Days before its expiry that a key is flagged on the list and its page; 0 flags none.
    #[arg(long, env = "KEYWARD_EXPIRY_WARNING_DAYS",
          default_value_t = crate::config::DEFAULT_EXPIRY_WARNING_DAYS,
          value_parser = parse_warning_days, allow_negative_numbers = true)]
    pub expiry_warning_days: u32,
    /// While the database cannot be reached: `refuse` answers every
    /// verification with 503; `allow` goes on judging the keys this instance
    /// has cached, counting their limits itself.
    #[arg(long, env = "KEYWARD_DATABASE_OUTAGE", default_value = "refuse",
          value_parser = crate::config::DatabaseOutage::parse)]
    pub database_outage: crate::config::DatabaseOutage,
    /// Count verifications per key and hour for the usage pages (true or false).
    #[arg(long, env = "KEYWARD_COUNT_USAGE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub count_usage: bool,
    /// Days hourly usage is kept (1 to 365); daily usage is kept a year.
    #[arg(long, env = "KEYWARD_USAGE_RETENTION_DAYS",
          default_value_t = crate::usage::DEFAULT_RETENTION_DAYS,
          value_parser = parse_retention_days, allow_negative_numbers = true)]
    pub usage_retention_days: u32,
    /// Where to send an HMAC-signed JSON event when a key is created, rolled,
    /// deleted, about to expire or expired (http or https); needs
    /// --webhook-secret.
    #[arg(long, env = "KEYWARD_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// The secret webhook events are signed with (at least 16 characters).
    /// Prefer the environment variable: a flag shows in the process list.
    #[arg(long, env = "KEYWARD_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
}

// The value parsers below word their errors to follow the setting's name:
// `keyward: --pool-size (KEYWARD_POOL_SIZE) must be at least 1, got 0`.
// `allow_negative_numbers` lets `--pool-size -1` reach its parser (and that
// message) instead of clap reading `-1` as an unknown flag.

/// Largest verification cache accepted: far above any real key count, low
/// enough that a typo cannot promise gigabytes of cache.
const MAX_CACHE_CAPACITY: u64 = 10_000_000;

/// A whole number within `min..=max`.
fn whole_number(input: &str, min: u64, max: u64) -> Result<u64, String> {
    let value: u64 = input
        .trim()
        .parse()
        .map_err(|_| format!("must be a whole number from {min} to {max}, got {input:?}"))?;
    if value < min {
        return Err(format!("must be at least {min}, got {value}"));
    }
    if value > max {
        return Err(format!("must be at most {max}, got {value}"));
    }
    Ok(value)
}

fn parse_pool_size(input: &str) -> Result<u32, String> {
    whole_number(input, 1, 256).map(|n| n as u32)
}

fn parse_idle_minutes(input: &str) -> Result<u64, String> {
    // A week at most: a longer idle sign-out is no sign-out.
    whole_number(input, 1, 10_080)
}

fn parse_cache_capacity(input: &str) -> Result<usize, String> {
    whole_number(input, 0, MAX_CACHE_CAPACITY).map(|n| n as usize)
}

fn parse_body_timeout(input: &str) -> Result<u64, String> {
    whole_number(input, 1, 3600)
}

fn parse_lifetime_hours(input: &str) -> Result<u64, String> {
    // A month at most.
    whole_number(input, 1, 720)
}

fn parse_warning_days(input: &str) -> Result<u32, String> {
    whole_number(input, 0, 365).map(|n| n as u32)
}

fn parse_retention_days(input: &str) -> Result<u32, String> {
    whole_number(input, 1, 365).map(|n| n as u32)
}

fn parse_workers(input: &str) -> Result<usize, String> {
    whole_number(input, 0, 256).map(|n| n as usize)
}

fn parse_bind(input: &str) -> Result<SocketAddr, String> {
    input.trim().parse().map_err(|_| {
        format!("must be an IP address and port like 127.0.0.1:8080 or [::]:8080, got {input:?}")
    })
}

fn parse_switch(input: &str) -> Result<bool, String> {
    match input.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("must be true or false, got {input:?}")),
    }
}

fn parse_base_path(input: &str) -> Result<String, String> {
    if !input.starts_with('/')
        || input.contains(['?', '#'])
        || input.chars().any(char::is_whitespace)
    {
        return Err(format!(
            "must be a path starting with /, like /api/v2/, got {input:?}"
        ));
    }
    Ok(input.to_owned())
}

/// Only the scheme is repeated in the error: the rest of a URL may hold a password.
fn parse_database_url(input: &str) -> Result<String, String> {
    match Backend::from_url(input) {
        Ok(_) => Ok(input.to_owned()),
        Err(_) if input.trim().is_empty() => Err(
            "must not be empty: give a SQLite file path, sqlite://PATH or a postgres:// URL".into(),
        ),
        Err(_) => {
            let scheme = input.trim().split_once("://").map_or("", |(s, _)| s);
            Err(format!(
                "must be a SQLite file path, sqlite://PATH or a postgres:// URL, not a {scheme}:// URL"
            ))
        }
    }
}

/// One line for a command line that clap refused. A bad value names its flag
/// and the environment variable it may have come from:
/// `--pool-size (KEYWARD_POOL_SIZE) must be at least 1, got 0`.
pub fn error_line(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    use std::error::Error as _;
    if error.kind() == ErrorKind::ValueValidation
        && let Some(ContextValue::String(arg)) = error.get(ContextKind::InvalidArg)
        && let Some(reason) = error.source()
    {
        let flag = arg.split_whitespace().next().unwrap_or(arg);
        return format!("{} {reason}", setting_name(flag));
    }
    // clap's own report spans several lines; an operator's log wants one.
    let report = error.to_string();
    let first = report
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ");
    format!("{first} (see keyward --help)")
}

/// `--pool-size` → `--pool-size (KEYWARD_POOL_SIZE)`, looking through every
/// subcommand's flags.
fn setting_name(flag: &str) -> String {
    fn env_of(command: &clap::Command, long: &str) -> Option<String> {
        command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
            .and_then(|arg| arg.get_env())
            .map(|env| env.to_string_lossy().into_owned())
            .or_else(|| command.get_subcommands().find_map(|sub| env_of(sub, long)))
    }
    match env_of(&Cli::command(), flag.trim_start_matches("--")) {
        Some(env) => format!("{flag} ({env})"),
        None => flag.to_owned(),
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an administrator; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an admin API token acting as an administrator; prints the
    /// token alone on standard output (it is shown nowhere else, ever).
    Create {
        /// The administrator the token acts as.
        #[arg(long)]
        email: String,
        /// What the token is for ("CI", "provisioning"); unique among live tokens.
        #[arg(long)]
        name: String,
        /// The token may read, but change nothing.
        #[arg(long)]
        read_only: bool,
        /// Days until the token stops working (default: never).
        #[arg(long, value_parser = parse_expiry_days)]
        expires_days: Option<i64>,
    },
}

/// Days until a token expires (leaving the flag out means never).
fn parse_expiry_days(input: &str) -> Result<i64, String> {
    let max = crate::admins::domain::token::MAX_EXPIRY_DAYS as u64;
    whole_number(input, 1, max).map(|days| days as i64)
}

/// Creates a token for the administrator with `email`; returns it whole.
fn create_token(database_url: &str, email: &str, token: &NewToken) -> anyhow::Result<AdminToken> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let (pool, _) = crate::db::connect(database_url, 1)?;
    let mut conn = pool.get()?;
    let admin = admins::find_by_email(&mut conn, email.as_str())?.ok_or_else(|| {
        anyhow::anyhow!("there is no administrator with email {}", email.as_str())
    })?;
    if !admin.is_active {
        anyhow::bail!("the administrator {} is inactive", email.as_str());
    }
    let secret = AdminToken::generate();
    let actor = crate::db::audit::Actor::local(Some(admin.id), "keyward token create");
    let now = chrono::Utc::now().naive_utc();
    crate::admins::queries::tokens::insert(&mut conn, admin.id, token, &secret, &actor, now)
        .map_err(|e| match e {
            TokenError::NameTaken => anyhow::anyhow!(
                "a live token is already named {:?}; choose another name",
                token.name.as_str()
            ),
            TokenError::NoSuchAdmin => {
                anyhow::anyhow!("the administrator {} is inactive", email.as_str())
            }
            TokenError::Db(e) => anyhow::anyhow!("cannot create the token: {e}"),
        })?;
    Ok(secret)
}

/// Runs the parsed command. Errors come back as one line for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.db.database_url;
    match cli.command {
        None => {
            let args = ServeArgs::try_from_env().map_err(|e| anyhow::anyhow!(error_line(&e)))?;
            serve(database_url, args).await
        }
        Some(Command::Serve(args)) => serve(database_url, args).await,
        Some(Command::Migrate) => {
            crate::db::connect(&database_url, 1)?;
            log::info!("migrations applied");
            Ok(())
        }
        Some(Command::Admin {
            command: AdminCommand::Create { email, name },
        }) => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            let name = AdminName::parse(&name).map_err(anyhow::Error::msg)?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let password =
                Password::parse(line.trim_end_matches(['\r', '\n'])).map_err(anyhow::Error::msg)?;
            let (pool, _) = crate::db::connect(&database_url, 1)?;
            let mut conn = pool.get()?;
            let hash = password.hash()?;
            admins::create(
                &mut conn,
                &email,
                name.as_str(),
                &hash,
                &crate::db::audit::Actor::command_line(),
                chrono::Utc::now().naive_utc(),
            )
            .map_err(|e| match e {
                CreateError::EmailTaken => {
                    anyhow::anyhow!(
                        "an administrator with email {} already exists",
                        email.as_str()
                    )
                }
                CreateError::Db(e) => {
                    anyhow::anyhow!("cannot create the administrator: {e}")
                }
            })?;
            println!("administrator {} created", email.as_str());
            Ok(())
        }
        Some(Command::Token {
            command:
                TokenCommand::Create {
                    email,
                    name,
                    read_only,
                    expires_days,
                },
        }) => {
            let token = NewToken {
                name: TokenName::parse(&name).map_err(anyhow::Error::msg)?,
                scope: if read_only {
                    Scope::ReadOnly
                } else {
                    Scope::ReadWrite
                },
                expires_days,
            };
            let secret = create_token(&database_url, &email, &token)?;
            // The token alone, so `TOKEN=$(keyward token create …)` works.
            println!("{}", secret.expose());
            Ok(())
        }
        Some(Command::Import {
            command: ImportCommand::Dreamfactory(args),
        }) => import_dreamfactory(&database_url, args),
    }
}

/// `keyward import dreamfactory`: the report on standard output.
fn import_dreamfactory(database_url: &str, args: ImportArgs) -> anyhow::Result<()> {
    use crate::import::domain::{MAX_PACKAGE_BYTES, Options, Package};
    let size = std::fs::metadata(&args.package)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.package.display()))?
        .len();
    if size > MAX_PACKAGE_BYTES as u64 {
        anyhow::bail!(
            "{} is larger than keyward reads ({} MiB)",
            args.package.display(),
            MAX_PACKAGE_BYTES / 1024 / 1024
        );
    }
    let bytes = std::fs::read(&args.package)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.package.display()))?;
    let package = Package::read(&bytes, args.password.as_deref())
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.package.display()))?;
    let options = Options {
        dry_run: args.dry_run,
        update: args.update,
        keep_public_keys: args.keep_public_keys,
        with_admins: args.with_admins,
    };
    let (pool, _) = crate::db::connect(database_url, 1)?;
    let mut conn = pool.get()?;
    let actor = crate::db::audit::Actor::local(None, "keyward import dreamfactory");
    let now = chrono::Utc::now().naive_utc();
    let report = crate::import::queries::import(&mut conn, &package, options, &actor, now)?;
    print!("{}", report.to_text(!options.dry_run));
    Ok(())
}

impl ServeArgs {
    /// A bare `keyward` serves with flags taken from the environment only.
    fn try_from_env() -> Result<Self, clap::Error> {
        #[derive(Parser)]
        struct Bare {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Bare::try_parse_from(["keyward"]).map(|bare| bare.serve)
    }
}

async fn serve(database_url: String, args: ServeArgs) -> anyhow::Result<()> {
    let proxy = args.proxy;
    let settings = Settings {
        bind: args.bind,
        database_url,
        cookie_secure: args.cookie_secure,
        session_idle: Duration::from_secs(args.session_idle_minutes * 60),
        pool_size: args.pool_size,
        workers: args.workers,
        api_base_path: args.api_base_path,
        verify_cache_capacity: args.verify_cache_capacity,
        clock: crate::clock::system(),
        proxy: args.proxy,
        trusted_proxies: args.trusted_proxy,
        body_timeout: Duration::from_secs(args.body_timeout_seconds),
        session_lifetime: Duration::from_secs(args.session_lifetime_hours * 3600),
        wal_checkpoint_interval: Duration::from_secs(60),
        expiry_warning_days: args.expiry_warning_days,
        database_outage: args.database_outage,
        usage: crate::config::UsageSettings {
            count: args.count_usage,
            retention_days: args.usage_retention_days,
        },
        webhook: match (args.webhook_url.as_deref(), args.webhook_secret.as_deref()) {
            (None, _) => None,
            (Some(url), secret) => Some(
                crate::config::WebhookSettings::new(url, secret.unwrap_or_default())
                    .map_err(|why| anyhow::anyhow!("{} {why}", setting_name("--webhook-url")))?,
            ),
        },
    };
    let app = Application::build(settings).await.map_err(|error| {
        match error.downcast_ref::<BindError>() {
            Some(bind) => anyhow::anyhow!("{} {bind}", setting_name("--bind")),
            None => error,
        }
    })?;
    log::info!("keyward listening on http://{}", app.address());
    match proxy {
        Some(proxy) => log::info!(
            "forward-auth reads the original request from {} and {} ({})",
            proxy.method_header(),
            proxy.uri_header(),
            proxy.as_str()
        ),
        None => log::info!(
            "forward-auth (/api/v1/auth) is off until --proxy names the proxy in front: nginx, traefik or caddy"
        ),
    }
    if let Some(url) = app.setup_url() {
        log::info!("no administrator yet: create the first one at {url}");
    }
    app.run_until_stopped().await?;
    Ok(())
}
