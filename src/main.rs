use clap::Parser;
use clap::error::ErrorKind;

#[actix_web::main]
async fn main() {
    keyward::memory::tune_malloc();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = match keyward::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            error.exit()
        }
        Err(error) => {
            eprintln!("keyward: {}", keyward::cli::error_line(&error));
            std::process::exit(2);
        }
    };
    if let Err(error) = keyward::cli::run(cli).await {
        eprintln!("keyward: {error:#}");
        std::process::exit(1);
    }
}
