//! `BodyLimitLayer` in an axum router over real HTTP on loopback: chunked
//! request bodies without `Content-Length` over and under the limit.
#![cfg(all(feature = "limit", feature = "gateway"))]

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use spark_tower::limit::BodyLimitLayer;
use spark_tower::problem::PROBLEM_JSON;
use tokio::net::TcpListener;

const LIMIT: usize = 4096;

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// An echo route behind the layer; the handler reads the whole body.
async fn server() -> SocketAddr {
    let router = Router::new()
        .route("/v1/messages", post(|body: Bytes| async move { body }))
        .layer(BodyLimitLayer::new(LIMIT));
    serve(router).await
}

type Chunked =
    StreamBody<futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

/// A body of `chunks` chunks of 1 KiB, sent with `Transfer-Encoding: chunked`
/// (a stream has no known length, so hyper sends no `Content-Length`).
fn chunked(chunks: usize) -> Chunked {
    let frames: Vec<_> = (0..chunks)
        .map(|_| Ok(Frame::data(Bytes::from(vec![b'x'; 1024]))))
        .collect();
    StreamBody::new(futures_util::stream::iter(frames))
}

async fn send(addr: SocketAddr, chunks: usize) -> (StatusCode, http::HeaderMap, Bytes) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Chunked>();
    let request = Request::post(format!("http://{addr}/v1/messages"))
        .header("content-type", "application/octet-stream")
        .body(chunked(chunks))
        .unwrap();
    assert!(!request.headers().contains_key("content-length"));
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

#[tokio::test]
async fn chunked_body_over_limit_gets_413_problem() {
    let addr = server().await;
    let (status, headers, body) = send(addr, 8).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers["content-type"], PROBLEM_JSON);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["type"], "urn:spark-tower:problem:payload-too-large");
    assert_eq!(problem["status"], 413);
    assert_eq!(problem["limit"], LIMIT);
    assert_eq!(
        problem["detail"],
        format!("the request body exceeds the limit of {LIMIT} bytes")
    );
}

#[tokio::test]
async fn chunked_body_under_limit_is_served() {
    let addr = server().await;
    for chunks in [0, 1, 4] {
        let (status, _, body) = send(addr, chunks).await;
        assert_eq!(status, StatusCode::OK, "{chunks} chunks");
        assert_eq!(body.len(), chunks * 1024, "{chunks} chunks");
    }
}
