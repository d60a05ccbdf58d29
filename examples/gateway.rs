//! The spark-tower gateway: OpenAI- and Anthropic-compatible routes with the
//! crate's layers, on the embedded mock provider unless base URLs are set.
//!
//! ```text
//! cargo run --example gateway
//! ```
//!
//! Configuration comes from `SPARK_*` environment variables (see the README).
//! The first line on stdout is `listening on http://ADDR`; logs go to stderr.

use std::io::IsTerminal;
use std::process::ExitCode;

use spark_tower::gateway::{self, GatewayBuilder, GatewayConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = match GatewayConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    for (name, upstream) in [("openai", &config.openai), ("anthropic", &config.anthropic)] {
        match &upstream.base_url {
            Some(url) => tracing::info!(provider = name, %url, "forwarding to upstream"),
            None => tracing::info!(provider = name, "serving with the embedded mock provider"),
        }
    }
    if let Err(error) = config.check_listen() {
        eprintln!("configuration error: {error}");
        return ExitCode::from(2);
    }
    match config.api_keys.path() {
        Some(path) => {
            tracing::info!(keys = config.api_keys.len(), path = %path.display(), "API keys loaded; SIGHUP reloads them")
        }
        None => {
            tracing::info!("no SPARK_API_KEYS_FILE: the development key of dev/keys.toml works")
        }
    }
    tokio::spawn(gateway::reload_keys_on_sighup(config.api_keys.clone()));
    let grace = config.shutdown_grace;
    let header_timeout = config.header_timeout;
    let addr = config.addr;
    // Built before listening: the rule catalogue compiles here, not on the
    // first request.
    let router = GatewayBuilder::new(config).build();
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {}: {error}", addr);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(error) => {
            eprintln!("cannot read the bound address: {error}");
            return ExitCode::FAILURE;
        }
    }

    match gateway::serve(
        listener,
        router,
        grace,
        header_timeout,
        gateway::shutdown_signal(),
    )
    .await
    {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}
