//! Helpers shared by the integration tests: servers on ephemeral loopback
//! ports and a small HTTP client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use spark_tower::gateway::{GatewayBuilder, GatewayConfig};
use tokio::net::TcpListener;

/// The first user message of the README's curl line.
pub const OPENAI_HI: &str =
    r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
/// The Anthropic equivalent.
pub const ANTHROPIC_HI: &str =
    r#"{"model":"claude-sonnet-4-5","max_tokens":256,"messages":[{"role":"user","content":"hi"}]}"#;

/// Serves `router` on an ephemeral loopback port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Starts a gateway with `config`, without rate limits unless the test
/// turned them on (`with_limits`): earlier issues' tests send more requests
/// than the development tier allows.
pub async fn gateway(mut config: GatewayConfig) -> SocketAddr {
    config.rate_limit = false;
    serve(GatewayBuilder::new(config).build()).await
}

/// Starts a gateway with `config` as it is, rate limits included.
pub async fn gateway_with_limits(config: GatewayConfig) -> SocketAddr {
    serve(GatewayBuilder::new(config).build()).await
}

/// A port on which nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The `authorization` header with the development key, which requests
/// of [`send`] carry unless they bring their own credential (or
/// [`NO_KEY`]).
pub fn dev_bearer() -> String {
    format!("Bearer {}", spark_tower::gateway::dev_key())
}

/// A header that makes [`send`] send no credential at all.
pub const NO_KEY: (&str, &str) = ("x-test-no-key", "1");

/// Sends a request and returns the response with its body still streaming.
/// It carries the development key unless `headers` hold a credential or
/// [`NO_KEY`].
pub async fn send(
    method: Method,
    url: String,
    headers: &[(&str, &str)],
    body: &str,
) -> Response<Incoming> {
    let mut builder = Request::builder().method(method).uri(url);
    let own_credential = headers.iter().any(|(name, _)| {
        ["authorization", "x-api-key", NO_KEY.0].contains(&name.to_ascii_lowercase().as_str())
    });
    if !own_credential {
        builder = builder.header("authorization", dev_bearer());
    }
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), client().request(request))
        .await
        .expect("response in time")
        .expect("response")
}

/// A whole response.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    /// Asserts a problem+json body of `kind_slug` and returns it.
    pub fn problem(&self, status: u16, slug: &str) -> serde_json::Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text());
        assert_eq!(self.headers["content-type"], "application/problem+json");
        let json = self.json();
        assert_eq!(json["type"], format!("urn:spark-tower:problem:{slug}"));
        assert_eq!(json["status"], status);
        assert!(json["title"].is_string());
        json
    }
}

pub async fn call(method: Method, url: String, headers: &[(&str, &str)], body: &str) -> Reply {
    let response = send(method, url, headers, body).await;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn post_json(addr: SocketAddr, path: &str, body: &str) -> Reply {
    call(
        Method::POST,
        format!("http://{addr}{path}"),
        &[("content-type", "application/json")],
        body,
    )
    .await
}

/// What a recording upstream saw of one request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A plain-HTTP upstream on loopback that records every request and answers
/// with `reply` (status, content type, body).
pub async fn recording_upstream(
    reply: (StatusCode, &'static str, &'static str),
) -> (SocketAddr, Arc<Mutex<Vec<Recorded>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().fallback(move |request: Request<Body>| {
        let log = log.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            log.lock().unwrap().push(Recorded {
                method: parts.method,
                path_and_query: parts.uri.path_and_query().unwrap().to_string(),
                headers: parts.headers,
                body,
            });
            Response::builder()
                .status(reply.0)
                .header("content-type", reply.1)
                .body(Body::from(reply.2))
                .unwrap()
        }
    });
    (serve(router).await, seen)
}

/// Splits a server-sent-events text into (event name, data) pairs.
pub fn sse_events(text: &str) -> Vec<(Option<String>, String)> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            (event, data)
        })
        .collect()
}

/// A built example: `cargo test` builds the examples next to the test
/// binaries' folder.
pub fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.push("examples");
    path.push(name);
    assert!(
        path.exists(),
        "{} not built: run `cargo test` (which builds examples)",
        path.display()
    );
    path
}

/// The address a started example (gateway or mock provider) prints as its
/// first line on stdout: `listening on http://ADDR`.
pub fn listening_addr(child: &mut std::process::Child) -> SocketAddr {
    use std::io::BufRead;
    let mut first_line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout piped"))
        .read_line(&mut first_line)
        .unwrap();
    first_line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .parse()
        .unwrap()
}
