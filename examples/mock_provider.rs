//! The mock provider as a real upstream server, so the gateway can point its
//! base URLs at it and an operator can produce real faults by stopping it.
//!
//! ```text
//! SPARK_MOCK_ADDR=127.0.0.1:8081 cargo run --example mock_provider
//! SPARK_OPENAI_BASE_URL=http://127.0.0.1:8081/v1 \
//! SPARK_ANTHROPIC_BASE_URL=http://127.0.0.1:8081 cargo run --example gateway
//! ```
//!
//! It serves `POST /v1/chat/completions` and `POST /v1/messages` with the
//! `SPARK_MOCK_*` knobs. The first line on stdout is `listening on http://ADDR`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use spark_tower::gateway::{self, MockConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let config = match MockConfig::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    let addr = match std::env::var("SPARK_MOCK_ADDR") {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<SocketAddr>() {
            Ok(addr) => addr,
            Err(_) => {
                eprintln!("configuration error: SPARK_MOCK_ADDR is not an IP:port address");
                return ExitCode::from(2);
            }
        },
        _ => SocketAddr::from(([127, 0, 0, 1], 8081)),
    };
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {addr}: {error}");
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
    let router = gateway::mock::router(config);
    // The same variable as the gateway's; 5 s when unset.
    let grace = match std::env::var("SPARK_SHUTDOWN_GRACE_MS") {
        Ok(value) if !value.trim().is_empty() => match value.trim().parse::<u64>() {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) => {
                eprintln!(
                    "configuration error: SPARK_SHUTDOWN_GRACE_MS must be a whole number of milliseconds"
                );
                return ExitCode::from(2);
            }
        },
        _ => Duration::from_secs(5),
    };
    match gateway::serve(
        listener,
        router,
        grace,
        Duration::from_secs(30),
        gateway::shutdown_signal(),
    )
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("server error: {error}");
            ExitCode::FAILURE
        }
    }
}
