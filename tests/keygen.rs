//! The `keygen` example: the key alone on the first line, then an entry
//! that the key store accepts and that holds only the key's hash.
#![cfg(all(feature = "auth", feature = "gateway"))]

mod common;

use std::process::Command;

use spark_tower::auth::{ApiKey, FileFormat, KeyStore, MemoryKeyStore, parse_key_file};

fn keygen(args: &[&str]) -> std::process::Output {
    Command::new(common::example("keygen"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn prints_a_key_then_an_entry_the_store_accepts() {
    for (format, extra) in [(FileFormat::Toml, None), (FileFormat::Json, Some("--json"))] {
        let mut args = vec![
            "--user",
            "alice",
            "--tier",
            "pro",
            "--scope",
            "model:gpt-4o*",
            "--expires",
            "2030-01-01T00:00:00Z",
        ];
        args.extend(extra);
        let output = keygen(&args);
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let (first, entry) = stdout.split_once('\n').unwrap();
        let key = ApiKey::parse(first).expect("the first line is the key alone");
        assert!(!entry.contains(key.expose()), "the entry holds the key");
        assert!(entry.contains(&key.hash().to_string()));

        let text = match format {
            FileFormat::Json => format!("{{\"keys\":[{entry}]}}"),
            _ => entry.to_owned(),
        };
        let store = MemoryKeyStore::new(parse_key_file(&text, format).unwrap()).unwrap();
        let record = store
            .lookup(&key.hash())
            .await
            .unwrap()
            .expect("the key is found");
        assert_eq!(record.principal.user(), "alice");
        assert_eq!(record.principal.tier(), "pro");
        assert!(record.principal.allows_model("gpt-4o-mini"));
        assert!(!record.principal.allows_model("o3"));
        assert!(record.expires.is_some());
    }
}

#[test]
fn bad_arguments_exit_2_and_print_no_key() {
    for args in [
        &["--user", "alice"][..],
        &["--tier", "pro"],
        &["--user", "a", "--tier", "b", "--expires", "tomorrow"],
        &["--user", "a", "--tier", "b", "--bogus"],
        &["--user"],
    ] {
        let output = keygen(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: keygen"));
    }
}
