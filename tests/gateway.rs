//! The gateway over real HTTP on loopback: both APIs, streaming, security
//! headers, request ids, problem+json rejections and upstream failures.
#![cfg(feature = "gateway")]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use spark_tower::gateway::{ApiKey, GatewayConfig, MockConfig, UpstreamConfig, mock};

fn config() -> GatewayConfig {
    GatewayConfig::default()
}

#[tokio::test]
async fn openai_completion_with_security_headers_and_request_id() {
    let addr = gateway(config()).await;
    let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["object"], "chat.completion");
    assert_eq!(json["model"], "gpt-4o-mini");
    assert_eq!(json["choices"][0]["message"]["role"], "assistant");
    assert_eq!(json["choices"][0]["message"]["content"], "hi");
    assert!(json["usage"]["prompt_tokens"].as_u64().unwrap() >= 1);
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ] {
        assert_eq!(reply.headers[name], value, "{name}");
    }
    assert!(reply.headers.contains_key("strict-transport-security"));
    let id = reply.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "generated uuid: {id}");
}

#[tokio::test]
async fn anthropic_message_and_request_id_echo() {
    let addr = gateway(config()).await;
    let reply = call(
        Method::POST,
        format!("http://{addr}/v1/messages"),
        &[
            ("content-type", "application/json"),
            ("x-request-id", "req-from-client-42"),
        ],
        ANTHROPIC_HI,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["type"], "message");
    assert_eq!(json["role"], "assistant");
    assert_eq!(json["content"][0]["type"], "text");
    assert_eq!(json["content"][0]["text"], "hi");
    assert!(json["usage"]["input_tokens"].as_u64().unwrap() >= 1);
    assert_eq!(reply.headers["x-request-id"], "req-from-client-42");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn h2c_is_served() {
    let addr = gateway(config()).await;
    let client = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{addr}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("authorization", common::dev_bearer())
        .body(Full::new(Bytes::from_static(OPENAI_HI.as_bytes())))
        .unwrap();
    let response = client.request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn problem_json_for_bad_requests() {
    let addr = gateway(config()).await;
    let url = |path: &str| format!("http://{addr}{path}");

    let reply = call(Method::GET, url("/v1/nothing"), &[], "").await;
    reply.problem(404, "not-found");
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");

    let reply = call(Method::GET, url("/v1/chat/completions"), &[], "").await;
    let json = reply.problem(405, "method-not-allowed");
    assert_eq!(reply.headers["allow"], "POST");
    assert_eq!(json["error"]["type"], "invalid_request_error");

    let reply = call(
        Method::POST,
        url("/v1/messages"),
        &[("content-type", "text/plain")],
        ANTHROPIC_HI,
    )
    .await;
    let json = reply.problem(415, "unsupported-media-type");
    assert_eq!(json["error"]["type"], "invalid_request_error");

    let reply = call(Method::POST, url("/v1/messages"), &[], ANTHROPIC_HI).await;
    reply.problem(415, "unsupported-media-type");

    let reply = post_json(addr, "/v1/chat/completions", "{\"model\": \"m\",,}").await;
    let json = reply.problem(400, "invalid-json");
    assert_eq!(json["line"], 1);
    assert_eq!(json["column"], 15);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("column 15")
    );
}

#[tokio::test]
async fn provider_errors_pass_through_unchanged() {
    // The mock rejects a request without `model` as the real API does.
    let addr = gateway(config()).await;
    let reply = post_json(addr, "/v1/messages", r#"{"messages":[]}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.headers["content-type"], "application/json");
    let json = reply.json();
    assert_eq!(json["type"], "error");
    assert_eq!(json["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn upstream_head_timeout_gives_504() {
    let upstream = serve(mock::router(
        MockConfig::default().latency(Duration::from_secs(5)),
    ))
    .await;
    let mut config = config();
    config.openai = UpstreamConfig::new(format!("http://{upstream}/v1").parse().unwrap(), None);
    config.upstream_timeout = Duration::from_millis(200);
    let addr = gateway(config).await;
    let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
    let json = reply.problem(504, "upstream-timeout");
    assert_eq!(json["error"]["type"], "server_error");
    assert_eq!(json["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn timeout_status_is_configurable() {
    let upstream = serve(mock::router(
        MockConfig::default().latency(Duration::from_secs(5)),
    ))
    .await;
    let mut config = config();
    config.anthropic = UpstreamConfig::new(format!("http://{upstream}").parse().unwrap(), None);
    config.upstream_timeout = Duration::from_millis(200);
    config.upstream_timeout_status = StatusCode::SERVICE_UNAVAILABLE;
    let addr = gateway(config).await;
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    let json = reply.problem(503, "upstream-timeout");
    assert_eq!(json["error"]["type"], "api_error");
}

#[tokio::test]
async fn refused_connection_gives_502() {
    let dead = closed_port().await;
    let mut config = config();
    config.anthropic = UpstreamConfig::new(format!("http://{dead}").parse().unwrap(), None);
    let addr = gateway(config).await;
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    reply.problem(502, "upstream-unavailable");
}

#[tokio::test]
async fn provider_client_forwards_what_each_provider_needs() {
    let (upstream, seen) = recording_upstream((
        StatusCode::CREATED,
        "application/json",
        r#"{"upstream":true}"#,
    ))
    .await;
    let mut config = config();
    config.openai = UpstreamConfig::new(
        format!("http://{upstream}/openai/v1").parse().unwrap(),
        Some(ApiKey::new("sk-upstream-openai").unwrap()),
    );
    config.anthropic = UpstreamConfig::new(
        format!("http://{upstream}").parse().unwrap(),
        Some(ApiKey::new("sk-ant-upstream").unwrap()),
    );
    let addr = gateway(config).await;

    // Odd spacing shows the body is forwarded byte-for-byte.
    let openai_body = "{ \"model\":\"gpt-4o-mini\",  \"messages\":[{\"role\":\"user\",\"content\":\"hi\"}], \"unknown_field\": 1 }";
    let reply = call(
        Method::POST,
        format!("http://{addr}/v1/chat/completions"),
        &[
            ("content-type", "application/json"),
            ("authorization", &common::dev_bearer()),
            ("x-request-id", "req-openai-1"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ],
        openai_body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.json()["upstream"], true);
    assert_eq!(reply.headers["x-request-id"], "req-openai-1");

    let anthropic_body = r#"{"model":"claude","max_tokens":5,"messages":[]}"#;
    call(
        Method::POST,
        format!("http://{addr}/v1/messages"),
        &[
            ("content-type", "application/json"),
            ("x-api-key", spark_tower::gateway::dev_key()),
            ("anthropic-version", "2023-01-01"),
            ("anthropic-beta", "prompt-caching-2024-07-31"),
        ],
        anthropic_body,
    )
    .await;

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    // The client's key never reaches the provider, in any header.
    for request in &seen {
        for value in request.headers.values() {
            assert!(
                !value
                    .to_str()
                    .unwrap_or("")
                    .contains(spark_tower::gateway::dev_key())
            );
        }
    }
    let openai = &seen[0];
    assert_eq!(openai.method, Method::POST);
    assert_eq!(openai.path_and_query, "/openai/v1/chat/completions");
    assert_eq!(openai.headers["authorization"], "Bearer sk-upstream-openai");
    assert_eq!(openai.headers["x-request-id"], "req-openai-1");
    assert_eq!(
        openai.headers["traceparent"],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    assert!(openai.headers.get("x-api-key").is_none());
    assert_eq!(openai.body, openai_body.as_bytes());

    let anthropic = &seen[1];
    assert_eq!(anthropic.path_and_query, "/v1/messages");
    assert_eq!(anthropic.headers["x-api-key"], "sk-ant-upstream");
    assert!(anthropic.headers.get("authorization").is_none());
    assert_eq!(anthropic.headers["anthropic-version"], "2023-01-01");
    assert_eq!(
        anthropic.headers["anthropic-beta"],
        "prompt-caching-2024-07-31"
    );
    // A generated request id travels upstream too.
    assert_eq!(
        anthropic.headers["x-request-id"].len(),
        36,
        "{:?}",
        anthropic.headers
    );
    assert_eq!(anthropic.body, anthropic_body.as_bytes());
    for request in &seen {
        for value in request.headers.values() {
            assert!(!value.to_str().unwrap_or("").contains("client-key"));
        }
    }
}

/// Reads a streaming response frame by frame, noting when each SSE event
/// arrived.
async fn read_events(response: hyper::Response<hyper::body::Incoming>) -> Vec<(Instant, String)> {
    let mut body = response.into_body();
    let mut pending = String::new();
    let mut events = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.expect("stream ended cleanly");
        if let Ok(data) = frame.into_data() {
            pending.push_str(std::str::from_utf8(&data).unwrap());
            while let Some(end) = pending.find("\n\n") {
                events.push((Instant::now(), pending[..end + 2].to_owned()));
                pending.drain(..end + 2);
            }
        }
    }
    assert!(pending.is_empty(), "trailing partial event: {pending:?}");
    events
}

#[tokio::test]
async fn openai_stream_is_streamed_in_order() {
    let delay = Duration::from_millis(60);
    let mut config = config();
    config.mock = MockConfig::default().stream_delay(delay);
    let addr = gateway(config).await;
    let body = r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three four"}]}"#;
    let response = send(
        Method::POST,
        format!("http://{addr}/v1/chat/completions"),
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = read_events(response).await;
    let n = events.len();
    assert!(n >= 6, "{events:?}");
    // The mock waits `delay` between events: had the gateway buffered the
    // stream, every event would arrive at once at the end.
    let spread = events[n - 1].0 - events[0].0;
    assert!(
        spread >= delay * (n as u32 - 2),
        "events arrived together ({spread:?} for {n} events)"
    );
    let text: String = events.iter().map(|(_, e)| e.as_str()).collect();
    let parsed = sse_events(&text);
    assert_eq!(parsed.last().unwrap().1, "[DONE]");
    let mut content = String::new();
    let mut usage = None;
    for (_, data) in &parsed[..parsed.len() - 1] {
        let chunk: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
        if let Some(piece) = chunk["choices"][0]["delta"]["content"].as_str() {
            content.push_str(piece);
        }
        if chunk["usage"].is_object() {
            usage = Some(chunk["usage"].clone());
        }
    }
    assert_eq!(content, "one two three four");
    assert!(
        usage.expect("final usage chunk")["completion_tokens"]
            .as_u64()
            .unwrap()
            >= 1
    );
}

#[tokio::test]
async fn anthropic_stream_is_streamed_in_order() {
    let delay = Duration::from_millis(60);
    let mut config = config();
    config.mock = MockConfig::default().stream_delay(delay);
    let addr = gateway(config).await;
    let body = r#"{"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"alpha beta gamma"}]}"#;
    let response = send(
        Method::POST,
        format!("http://{addr}/v1/messages"),
        &[("content-type", "application/json")],
        body,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let events = read_events(response).await;
    let n = events.len();
    let spread = events[n - 1].0 - events[0].0;
    assert!(
        spread >= delay * (n as u32 - 2),
        "{spread:?} for {n} events"
    );
    let text: String = events.iter().map(|(_, e)| e.as_str()).collect();
    let parsed = sse_events(&text);
    let names: Vec<_> = parsed.iter().map(|(e, _)| e.clone().unwrap()).collect();
    assert_eq!(names.first().unwrap(), "message_start");
    assert_eq!(names.last().unwrap(), "message_stop");
    assert_eq!(names[names.len() - 2], "message_delta");
    let content: String = parsed
        .iter()
        .filter(|(e, _)| e.as_deref() == Some("content_block_delta"))
        .map(|(_, d)| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            v["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(content, "alpha beta gamma");
}

#[tokio::test]
async fn real_upstream_stream_is_forwarded_before_it_ends() {
    // An upstream that sends one event, then waits until the test has seen it
    // before sending the rest: a buffering gateway would never deliver it.
    use axum::body::Body;
    let (release_tx, release_rx) = tokio::sync::oneshot::channel::<()>();
    let release = std::sync::Arc::new(std::sync::Mutex::new(Some(release_rx)));
    let router = axum::Router::new().fallback(move || {
        let release = release.lock().unwrap().take();
        async move {
            let first = futures_util::stream::once(async {
                Ok::<_, std::convert::Infallible>(Bytes::from_static(b"data: first\n\n"))
            });
            let rest = futures_util::stream::once(async move {
                if let Some(release) = release {
                    let _ = release.await;
                }
                Ok(Bytes::from_static(b"data: last\n\n"))
            });
            http::Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(futures_util::StreamExt::chain(
                    first, rest,
                )))
                .unwrap()
        }
    });
    let upstream = serve(router).await;
    let mut config = config();
    config.openai = UpstreamConfig::new(format!("http://{upstream}/v1").parse().unwrap(), None);
    let addr = gateway(config).await;
    let response = send(
        Method::POST,
        format!("http://{addr}/v1/chat/completions"),
        &[("content-type", "application/json")],
        r#"{"model":"m","stream":true,"messages":[]}"#,
    )
    .await;
    let mut body = response.into_body();
    let first = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("first event forwarded before the upstream finished")
        .unwrap()
        .unwrap()
        .into_data()
        .unwrap();
    assert_eq!(first, "data: first\n\n");
    release_tx.send(()).unwrap();
    let rest = body.collect().await.unwrap().to_bytes();
    assert_eq!(rest, "data: last\n\n");
}

#[tokio::test]
async fn idle_upstream_stream_is_ended_cleanly() {
    let router = axum::Router::new().fallback(|| async {
        let first = futures_util::stream::once(async {
            Ok::<_, std::convert::Infallible>(Bytes::from_static(b"data: first\n\n"))
        });
        let stall = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Bytes::from_static(b"data: never\n\n"))
        });
        http::Response::builder()
            .header("content-type", "text/event-stream")
            .body(axum::body::Body::from_stream(
                futures_util::StreamExt::chain(first, stall),
            ))
            .unwrap()
    });
    let upstream = serve(router).await;
    let mut config = config();
    config.anthropic = UpstreamConfig::new(format!("http://{upstream}").parse().unwrap(), None);
    config.upstream_idle_timeout = Duration::from_millis(200);
    let addr = gateway(config).await;
    let reply = post_json(addr, "/v1/messages", ANTHROPIC_HI).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "data: first\n\n");
}
