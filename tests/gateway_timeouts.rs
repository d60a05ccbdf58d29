//! Slow clients cannot hold the gateway: a request head must arrive within
//! the header timeout, and a stalled body is answered with a 400 problem.
#![cfg(feature = "gateway")]

use std::net::SocketAddr;
use std::time::Duration;

use spark_tower::gateway::{self, GatewayBuilder, GatewayConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(config: GatewayConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let header_timeout = config.header_timeout;
    let router = GatewayBuilder::new(config).build();
    tokio::spawn(gateway::serve(
        listener,
        router,
        Duration::from_secs(1),
        header_timeout,
        std::future::pending(),
    ));
    addr
}

/// Reads until the server closes the connection; fails the test rather than
/// waiting forever if it never does.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut out))
        .await
        .expect("the server closed the connection")
        .ok();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn trickled_headers_are_cut_off() {
    let mut config = GatewayConfig::default();
    config.header_timeout = Duration::from_millis(300);
    let addr = start(config).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // The head never ends: the server must give up on it.
    let answer = read_until_closed(&mut stream).await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn stalled_body_is_answered_with_400() {
    let mut config = GatewayConfig::default();
    config.body_timeout = Duration::from_millis(300);
    let addr = start(config).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
         authorization: Bearer {}\r\ncontent-length: 100\r\nconnection: close\r\n\r\n{{\"model\":",
        gateway::dev_key()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");
    assert!(
        answer.contains("urn:spark-tower:problem:bad-request"),
        "{answer}"
    );
}
