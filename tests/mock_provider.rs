//! The mock provider served over a real TCP socket, as the example binary does.
#![cfg(feature = "gateway")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use spark_tower::gateway::mock::{self, MockConfig};

async fn serve(config: MockConfig) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, mock::router(config)).await.unwrap();
    });
    addr
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> Request<Full<Bytes>> {
    Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

#[tokio::test]
async fn openai_stream_over_tcp() {
    let addr = serve(MockConfig::default()).await;
    let body = json!({
        "model": "gpt-4o-mini",
        "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hello over the wire"}],
    });
    let response = client()
        .request(post(addr, "/v1/chat/completions", &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let events: Vec<&str> = text
        .split_terminator("\n\n")
        .map(|event| event.strip_prefix("data: ").unwrap())
        .collect();
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|data| serde_json::from_str(data).unwrap())
        .collect();
    let reply: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(reply, "hello over the wire");
    let usage = &chunks.last().unwrap()["usage"];
    assert_eq!(usage["completion_tokens"], 5);
}

#[tokio::test]
async fn anthropic_over_tcp_with_stream_delay() {
    let delay = Duration::from_millis(20);
    let addr = serve(MockConfig::default().stream_delay(delay)).await;
    let body = json!({
        "model": "claude-haiku",
        "max_tokens": 32,
        "stream": true,
        "messages": [{"role": "user", "content": "one two"}],
    });
    let start = Instant::now();
    let response = client()
        .request(post(addr, "/v1/messages", &body))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let names: Vec<&str> = text
        .split_terminator("\n\n")
        .map(|event| {
            event
                .lines()
                .next()
                .unwrap()
                .strip_prefix("event: ")
                .unwrap()
        })
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    // Seven gaps between eight events.
    assert!(start.elapsed() >= delay * 7, "{:?}", start.elapsed());
}

#[tokio::test]
async fn errors_over_tcp() {
    let addr = serve(MockConfig::default()).await;
    let response = client()
        .request(post(addr, "/v1/messages", &json!({"model": "m"})))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["error"]["message"], "messages: Field required");

    let get = Request::builder()
        .method(Method::GET)
        .uri(format!("http://{addr}/v1/chat/completions"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = client().request(get).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}
