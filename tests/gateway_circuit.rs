//! The gateway's per-provider circuit breakers under real HTTP traffic: a
//! provider that fails opens its own breaker while the other keeps serving,
//! and a provider process that dies and comes back is cut off and then let
//! back in.
#![cfg(feature = "gateway")]

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use http::StatusCode;
use spark_tower::circuit::{CircuitConfig, CircuitState};
use spark_tower::gateway::mock::{self, MockConfig, MockProvider};
use spark_tower::gateway::{GatewayBuilder, GatewayConfig, UpstreamConfig};
use spark_tower::marker::ProviderApi;

/// Opens after 4 failures in a row (the rate is not judged, so the count
/// is exact), for 300 ms; one probe closes it.
fn quick_breaker() -> CircuitConfig {
    CircuitConfig::default()
        .no_failure_rate()
        .minimum_calls(4)
        .consecutive_failures(4)
        .open_for(Duration::from_millis(300), Duration::from_millis(300))
        .jitter(0.0)
        .half_open_probes(1)
}

fn pointed_at(upstream: SocketAddr) -> GatewayConfig {
    let mut config = GatewayConfig::default();
    config.openai = UpstreamConfig::new(format!("http://{upstream}/v1").parse().unwrap(), None);
    config.anthropic = UpstreamConfig::new(format!("http://{upstream}").parse().unwrap(), None);
    config.circuit = Some(quick_breaker());
    // These tests send more requests than the development tier allows.
    config.rate_limit = false;
    config
}

/// Waits past the open wait, on the real clock (this is a live server).
async fn past_the_open_wait() {
    tokio::time::sleep(Duration::from_millis(450)).await;
}

#[tokio::test]
async fn a_failing_provider_is_cut_off_while_the_other_serves_and_comes_back() {
    let mock = MockProvider::new(
        ProviderApi::OpenAi,
        MockConfig::default().fail_rate_for(ProviderApi::OpenAi, 1.0),
    );
    let upstream = serve(mock::router_with(&mock)).await;
    let builder = GatewayBuilder::new(pointed_at(upstream));
    let handle = builder
        .circuit_handle()
        .expect("breakers are on by default");
    let addr = serve(builder.build()).await;

    // The provider's own failures pass through until the breaker trips.
    for _ in 0..4 {
        let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
        assert!(reply.status.is_server_error(), "{}", reply.text());
        assert_ne!(reply.json()["type"], "urn:spark-tower:problem:circuit-open");
    }
    // Open: fast 503s naming the breaker, with Retry-After.
    for _ in 0..3 {
        let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
        let problem = reply.problem(503, "circuit-open");
        assert_eq!(problem["breaker"], "openai");
        assert_eq!(reply.headers["retry-after"], "1");
        assert_eq!(
            problem["error"]["code"], "circuit_open",
            "OpenAI's error shape"
        );
    }
    // The other provider keeps answering.
    for _ in 0..5 {
        let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
    assert_eq!(handle.snapshot("openai").unwrap().state, CircuitState::Open);
    assert_eq!(
        handle.snapshot("anthropic").unwrap().state,
        CircuitState::Closed
    );

    // The fault is lifted; after the wait a probe gets through and closes it.
    mock.set_fail_rate(0.0);
    past_the_open_wait().await;
    let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["choices"][0]["message"]["content"], "hi");
    assert_eq!(
        handle.snapshot("openai").unwrap().state,
        CircuitState::Closed
    );
    for _ in 0..5 {
        let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}

/// Starts the standalone mock provider on `addr` and returns it with the
/// address it listens on.
fn start_mock(addr: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(example("mock_provider"))
        .env("SPARK_MOCK_ADDR", addr)
        .env_remove("SPARK_MOCK_FAIL_RATE")
        .env_remove("SPARK_MOCK_OPENAI_FAIL_RATE")
        .env_remove("SPARK_MOCK_ANTHROPIC_FAIL_RATE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the mock provider example");
    let listening = listening_addr(&mut child);
    (child, listening)
}

#[tokio::test]
async fn a_provider_process_that_stops_is_cut_off_and_let_back_in_when_it_returns() {
    let (mut mock, upstream) = start_mock("127.0.0.1:0");
    let builder = GatewayBuilder::new(pointed_at(upstream));
    let handle = builder.circuit_handle().unwrap();
    let addr = serve(builder.build()).await;
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    mock.kill().unwrap();
    mock.wait().unwrap();
    // Unreachable: the provider client's 502s count as failures...
    for _ in 0..4 {
        let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
        reply.problem(502, "upstream-unavailable");
    }
    // ...and the breaker opens.
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    let problem = reply.problem(503, "circuit-open");
    assert_eq!(problem["breaker"], "anthropic");
    assert_eq!(
        problem["error"]["type"], "overloaded_error",
        "Anthropic's error shape"
    );
    assert_eq!(handle.snapshot("anthropic").unwrap().trips, 1);

    // The provider comes back on the same address.
    let (mut mock, _) = start_mock(&upstream.to_string());
    past_the_open_wait().await;
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        handle.snapshot("anthropic").unwrap().state,
        CircuitState::Closed
    );
    mock.kill().unwrap();
    mock.wait().unwrap();
}

#[tokio::test]
async fn breakers_can_be_turned_off() {
    let mock = MockProvider::new(ProviderApi::OpenAi, MockConfig::default().fail_rate(1.0));
    let upstream = serve(mock::router_with(&mock)).await;
    let mut config = pointed_at(upstream);
    config.circuit = None;
    let builder = GatewayBuilder::new(config);
    assert!(builder.circuit_handle().is_none());
    let addr = serve(builder.build()).await;
    for _ in 0..10 {
        let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
        assert!(reply.status.is_server_error());
        assert_ne!(reply.json()["type"], "urn:spark-tower:problem:circuit-open");
    }
}
