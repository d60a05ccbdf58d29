//! The gateway's operational endpoints over real HTTP: `GET /metrics`,
//! `GET /health`, `/health/live`, `/health/ready`, and `/admin/errors`.
#![cfg(feature = "gateway")]

mod common;

use common::*;
use std::time::Duration;

use http::Method;
use spark_tower::circuit::CircuitConfig;
use spark_tower::gateway::{AdminKey, GatewayBuilder, GatewayConfig, UpstreamConfig};

/// The histogram `name` with `labels` in a parsed scrape, as cumulative
/// `(bound, count)` buckets.
fn histogram(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<Vec<(f64, f64)>> {
    scrape
        .samples
        .iter()
        .find_map(|sample| match &sample.value {
            prometheus_parse::Value::Histogram(buckets)
                if sample.metric == name
                    && labels.iter().all(|(k, v)| sample.labels.get(k) == Some(*v)) =>
            {
                Some(buckets.iter().map(|b| (b.less_than, b.count)).collect())
            }
            _ => None,
        })
}

fn counter(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(n) | prometheus_parse::Value::Untyped(n) => n,
            _ => 0.0,
        })
        .sum()
}

async fn scrape(addr: std::net::SocketAddr) -> prometheus_parse::Scrape {
    let reply = call(Method::GET, format!("http://{addr}/metrics"), &[NO_KEY], "").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(reply.headers["cache-control"], "no-store");
    let lines = reply.text().lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text")
}

#[tokio::test]
async fn metrics_count_model_requests_tokens_and_streams() {
    let addr = gateway(GatewayConfig::default()).await;
    post_json(addr, "/v1/chat/completions", OPENAI_HI)
        .await
        .json();
    let stream = r#"{"model":"claude-sonnet-4-5","max_tokens":256,"stream":true,"messages":[{"role":"user","content":"hi there"}]}"#;
    let reply = post_json(addr, "/v1/messages", stream).await;
    assert!(reply.text().contains("message_stop"), "{}", reply.text());
    // A refusal: no key.
    let refused = call(
        Method::POST,
        format!("http://{addr}/v1/chat/completions"),
        &[NO_KEY, ("content-type", "application/json")],
        OPENAI_HI,
    )
    .await;
    refused.problem(401, "unauthorized");

    let scrape = scrape(addr).await;
    let openai = [
        ("http_request_method", "POST"),
        ("http_route", "/v1/chat/completions"),
        ("http_response_status_code", "200"),
        ("gen_ai_provider_name", "openai"),
    ];
    assert!(counter(&scrape, "http_server_requests_total", &openai) >= 1.0);
    let duration = histogram(&scrape, "http_server_request_duration_seconds", &openai)
        .expect("a duration histogram for the route");
    assert!(duration.last().unwrap().1 >= 1.0);
    let unauthorized = [
        ("kind", "unauthorized"),
        ("http_route", "/v1/chat/completions"),
    ];
    assert!(counter(&scrape, "spark_rejections_total", &unauthorized) >= 1.0);
    // The OpenAI answer (JSON with a known length, which hyper drops once
    // sent): its tokens, under the model that answered.
    let openai_output = [
        ("gen_ai_provider_name", "openai"),
        ("gen_ai_response_model", "gpt-4o-mini"),
        ("gen_ai_token_type", "output"),
    ];
    let tokens = histogram(&scrape, "gen_ai_client_token_usage", &openai_output)
        .expect("JSON output tokens");
    assert!(tokens.last().unwrap().1 >= 1.0);
    // The Anthropic stream: its tokens and its time to first token.
    let anthropic = [("gen_ai_provider_name", "anthropic")];
    let output = [anthropic[0], ("gen_ai_token_type", "output")];
    let tokens =
        histogram(&scrape, "gen_ai_client_token_usage", &output).expect("streamed output tokens");
    assert!(tokens.last().unwrap().1 >= 1.0);
    histogram(
        &scrape,
        "gen_ai_server_time_to_first_token_seconds",
        &anthropic,
    )
    .expect("time to first token of the stream");
    assert!(scrape.docs.contains_key("http_server_active_requests"));

    let post = call(
        Method::POST,
        format!("http://{addr}/metrics"),
        &[NO_KEY],
        "",
    )
    .await;
    post.problem(405, "method-not-allowed");
    assert_eq!(post.headers["allow"], "GET, HEAD");
}

#[tokio::test]
async fn the_admin_listing_answers_other_methods_with_a_problem() {
    const ADMIN: &str = "test-admin-key-0123456789";
    let mut config = GatewayConfig::default();
    config.admin_key = Some(AdminKey::new(ADMIN).unwrap());
    let addr = gateway(config).await;
    let url = format!("http://{addr}/admin/errors");
    call(Method::DELETE, url.clone(), &[NO_KEY], "")
        .await
        .problem(401, "unauthorized");
    let reply = call(Method::DELETE, url, &[NO_KEY, ("x-admin-key", ADMIN)], "").await;
    reply.problem(405, "method-not-allowed");
    assert_eq!(reply.headers["allow"], "GET, HEAD");
}

async fn health(addr: std::net::SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let reply = call(Method::GET, format!("http://{addr}{path}"), &[NO_KEY], "").await;
    assert_eq!(reply.headers["content-type"], "application/health+json");
    assert_eq!(reply.headers["cache-control"], "no-store");
    (reply.status.as_u16(), reply.json())
}

#[tokio::test]
async fn health_readiness_follows_the_breakers_and_liveness_does_not() {
    let mut config = GatewayConfig::default();
    // Nothing listens there: every OpenAI call fails (502) until the
    // breaker opens after two in a row.
    let dead = closed_port().await;
    config.openai = UpstreamConfig::new(format!("http://{dead}/v1").parse().unwrap(), None);
    config.circuit = Some(
        CircuitConfig::default()
            .no_failure_rate()
            .minimum_calls(2)
            .consecutive_failures(2)
            .open_for(Duration::from_secs(60), Duration::from_secs(60)),
    );
    config.rate_limit = false;
    let builder = GatewayBuilder::new(config);
    let breakers = builder.circuit_handle().expect("breakers are on");
    let addr = serve(builder.build()).await;

    let (status, report) = health(addr, "/health").await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "pass", "{report}");
    let checks = report["checks"].as_object().unwrap();
    for key in [
        "circuit:openai",
        "circuit:anthropic",
        "errors:groups",
        "errors:critical",
        "ratelimit:keys",
        "metrics:recorder",
        "memory:rss",
    ] {
        assert!(checks.contains_key(key), "{key} in {report}");
    }
    assert!(
        report["checks"]["memory:rss"][0]["observedValue"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(health(addr, "/health/ready").await.1["status"], "pass");

    for _ in 0..2 {
        post_json(addr, "/v1/chat/completions", OPENAI_HI)
            .await
            .problem(502, "upstream-unavailable");
    }
    post_json(addr, "/v1/chat/completions", OPENAI_HI)
        .await
        .problem(503, "circuit-open");
    let (status, ready) = health(addr, "/health/ready").await;
    assert_eq!((status, &ready["status"]), (200, &"warn".into()), "{ready}");
    assert_eq!(ready["checks"]["circuit:openai"][0]["status"], "warn");
    assert_eq!(ready["checks"]["circuit:anthropic"][0]["status"], "pass");
    // The provider still answering is still served.
    assert_eq!(
        post_json(addr, "/v1/messages", ANTHROPIC_HI).await.status,
        200
    );

    breakers.force_open("anthropic");
    let (status, ready) = health(addr, "/health/ready").await;
    assert_eq!((status, &ready["status"]), (503, &"fail".into()), "{ready}");
    let (status, full) = health(addr, "/health").await;
    assert_eq!((status, &full["status"]), (503, &"fail".into()));
    // The 502s and the breaker's refusals; the readiness 503s are answers,
    // not faults.
    assert_eq!(
        full["checks"]["errors:groups"][0]["observedValue"], 2,
        "{full}"
    );
    let (status, live) = health(addr, "/health/live").await;
    assert_eq!((status, &live["status"]), (200, &"pass".into()), "{live}");

    let post = call(Method::POST, format!("http://{addr}/health"), &[NO_KEY], "").await;
    post.problem(405, "method-not-allowed");
}
