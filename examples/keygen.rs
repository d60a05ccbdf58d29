//! Makes a new client API key and its key-file entry.
//!
//! ```text
//! cargo run --example keygen -- --user alice --tier pro [--scope model:gpt-4o*]... \
//!     [--expires 2027-01-01T00:00:00Z] [--id key_alice] [--json]
//! ```
//!
//! The first line of standard output is the key alone, to hand to its
//! owner once; the lines after it are the entry to append to the key file
//! (`SPARK_API_KEYS_FILE`), which holds only the key's SHA-256.

use std::process::ExitCode;

use spark_tower::auth::{ApiKey, KeyEntry};

const USAGE: &str = "usage: keygen --user USER --tier TIER [--scope SCOPE]... [--expires RFC3339] [--id ID] [--json]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok((key, entry)) => {
            println!("{key}");
            print!("{entry}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("keygen: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The key and the entry's text, from the command line.
fn run(mut args: impl Iterator<Item = String>) -> Result<(String, String), String> {
    let (mut user, mut tier, mut id, mut expires) = (None, None, None, None);
    let mut scopes = Vec::new();
    let mut json = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--user" => user = Some(value()?),
            "--tier" => tier = Some(value()?),
            "--scope" => scopes.push(value()?),
            "--id" => id = Some(value()?),
            "--expires" => {
                let text = value()?;
                let at = humantime::parse_rfc3339_weak(&text).map_err(|_| {
                    format!(
                        "--expires {text:?} is not an RFC 3339 time such as 2027-01-01T00:00:00Z"
                    )
                })?;
                expires = Some(at);
            }
            "--json" => json = true,
            "-h" | "--help" => return Err("help".to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let user = user.ok_or("--user is required")?;
    let tier = tier.ok_or("--tier is required")?;
    let key = ApiKey::generate();
    let mut entry = KeyEntry::new(&key, user, tier).with_scopes(scopes);
    if let Some(id) = id {
        entry = entry.with_id(id);
    }
    if let Some(at) = expires {
        entry = entry.with_expiry(at);
    }
    let text = if json {
        format!("{}\n", entry.to_json())
    } else {
        entry.to_toml()
    };
    Ok((key.expose().to_owned(), text))
}
