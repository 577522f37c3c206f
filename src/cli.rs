//! The command line: `keyward [serve]`, `keyward migrate`, `keyward admin create`.

use std::io::BufRead;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::auth::admins;
use crate::auth::password::{Email, Password};
use crate::config::Settings;
use crate::startup::Application;

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
        global = true
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
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "KEYWARD_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Send the session cookie only over HTTPS.
    #[arg(long, env = "KEYWARD_COOKIE_SECURE", default_value_t = false, action = clap::ArgAction::Set)]
    pub cookie_secure: bool,
    /// Minutes of inactivity after which an administrator is signed out.
    #[arg(long, env = "KEYWARD_SESSION_IDLE_MINUTES", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=10080))]
    pub session_idle_minutes: u64,
    /// Largest number of database connections.
    #[arg(long, env = "KEYWARD_POOL_SIZE", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub pool_size: u32,
    /// Forward-auth reads the service and component of a URI below this path.
    #[arg(long, env = "KEYWARD_API_BASE_PATH", default_value = "/api/v2/", value_parser = parse_base_path)]
    pub api_base_path: String,
    /// Most keys kept in the verification cache; 0 turns the cache off.
    #[arg(long, env = "KEYWARD_VERIFY_CACHE_CAPACITY", default_value_t = crate::verify::DEFAULT_CACHE_CAPACITY)]
    pub verify_cache_capacity: usize,
}

fn parse_base_path(input: &str) -> Result<String, String> {
    if !input.starts_with('/')
        || input.contains(['?', '#'])
        || input.chars().any(char::is_whitespace)
    {
        return Err("the API base path must be a path starting with /, like /api/v2/".into());
    }
    Ok(input.to_owned())
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

/// Runs the parsed command. Errors come back as one line for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.db.database_url;
    match cli.command {
        None => serve(database_url, ServeArgs::parse_from_env()).await,
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
                name.trim(),
                &hash,
                &crate::audit::Actor::command_line(),
                chrono::Utc::now().naive_utc(),
            )
            .map_err(|e| match e {
                admins::CreateError::EmailTaken => {
                    anyhow::anyhow!(
                        "an administrator with email {} already exists",
                        email.as_str()
                    )
                }
                admins::CreateError::Db(e) => {
                    anyhow::anyhow!("cannot create the administrator: {e}")
                }
            })?;
            println!("administrator {} created", email.as_str());
            Ok(())
        }
    }
}

impl ServeArgs {
    /// A bare `keyward` serves with flags taken from the environment only.
    fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Bare {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Bare::parse_from(["keyward"]).serve
    }
}

async fn serve(database_url: String, args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings {
        bind: args.bind,
        database_url,
        cookie_secure: args.cookie_secure,
        session_idle: Duration::from_secs(args.session_idle_minutes * 60),
        pool_size: args.pool_size,
        workers: 0,
        api_base_path: args.api_base_path,
        verify_cache_capacity: args.verify_cache_capacity,
        clock: crate::clock::system(),
    };
    let app = Application::build(settings).await?;
    log::info!("keyward listening on http://{}", app.address());
    if let Some(url) = app.setup_url() {
        log::info!("no administrator yet: create the first one at {url}");
    }
    app.run_until_stopped().await?;
    Ok(())
}
