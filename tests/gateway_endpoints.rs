//! The gateway's operational endpoints over real HTTP: `GET /metrics`,
//! `GET /health`, `/health/live`, `/health/ready`, and `/admin/errors`.
#![cfg(feature = "gateway")]

mod common;

use common::*;
use http::Method;
use spark_tower::gateway::{AdminKey, GatewayConfig};

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
