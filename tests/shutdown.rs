//! The built example gateway, run as a subprocess, finishes an in-flight
//! request after SIGTERM and exits 0.
#![cfg(all(feature = "gateway", unix))]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use http::StatusCode;

#[tokio::test]
async fn sigterm_finishes_in_flight_request_then_exits_zero() {
    let mut child = Command::new(example("gateway"))
        .env("SPARK_ADDR", "127.0.0.1:0")
        .env("SPARK_MOCK_LATENCY_MS", "1500")
        .env("SPARK_SHUTDOWN_GRACE_MS", "10000")
        .env_remove("SPARK_OPENAI_BASE_URL")
        .env_remove("SPARK_ANTHROPIC_BASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the gateway example");
    let addr = listening_addr(&mut child);

    let request =
        tokio::spawn(async move { post_json(addr, "/v1/chat/completions", OPENAI_HI).await });
    // Let the request reach the mock's latency before the signal.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!request.is_finished(), "the slow request ended too early");
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());

    let reply = request.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["choices"][0]["message"]["content"], "hi");

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}

#[tokio::test]
async fn bad_configuration_exits_with_a_message() {
    let output = Command::new(example("gateway"))
        .env("SPARK_ADDR", "127.0.0.1:0")
        .env("SPARK_UPSTREAM_TIMEOUT_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SPARK_UPSTREAM_TIMEOUT_MS"), "{stderr}");
}
