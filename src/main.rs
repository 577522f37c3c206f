use clap::Parser;

#[actix_web::main]
async fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = keyward::cli::Cli::parse();
    if let Err(error) = keyward::cli::run(cli).await {
        eprintln!("keyward: {error:#}");
        std::process::exit(1);
    }
}
