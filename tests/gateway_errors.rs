//! The gateway's error tracking over real HTTP: provider failures become
//! groups, listed at `GET /admin/errors` for the admin key only.
#![cfg(feature = "gateway")]

mod common;

use common::*;
use http::{Method, StatusCode};
use spark_tower::gateway::{AdminKey, GatewayConfig, UpstreamConfig};

const ADMIN: &str = "test-admin-key-0123456789";

#[tokio::test]
async fn the_admin_listing_exists_only_with_a_key_and_only_for_it() {
    let addr = gateway(GatewayConfig::default()).await;
    let reply = call(
        Method::GET,
        format!("http://{addr}/admin/errors"),
        &[("x-admin-key", ADMIN)],
        "",
    )
    .await;
    reply.problem(404, "not-found");

    let mut config = GatewayConfig::default();
    config.admin_key = Some(AdminKey::new(ADMIN).unwrap());
    // Nothing listens here: the provider is unreachable (502).
    let dead = closed_port().await;
    config.openai = UpstreamConfig::new(format!("http://{dead}/v1").parse().unwrap(), None);
    config.circuit = None;
    let addr = gateway(config).await;
    let mut detail = String::new();
    for _ in 0..3 {
        let reply = post_json(addr, "/v1/chat/completions", OPENAI_HI).await;
        detail = reply.problem(502, "upstream-unavailable")["detail"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    // Client errors are not the service's failures.
    post_json(addr, "/v1/chat/completions", "{broken")
        .await
        .problem(400, "invalid-json");

    let url = format!("http://{addr}/admin/errors");
    call(Method::GET, url.clone(), &[], "")
        .await
        .problem(401, "unauthorized");
    let wrong = call(
        Method::GET,
        url.clone(),
        &[("x-admin-key", "test-admin-key-012345678X")],
        "",
    )
    .await;
    wrong.problem(401, "unauthorized");
    assert!(!wrong.text().contains(ADMIN));

    let reply = call(Method::GET, url, &[("x-admin-key", ADMIN)], "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers["cache-control"], "no-store");
    let listing = reply.json();
    let groups = listing["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{listing}");
    let group = &groups[0];
    assert_eq!(group["kind"], "upstream-unavailable");
    assert_eq!(group["provider"], "openai");
    assert_eq!(group["route"], "/v1/chat/completions");
    assert_eq!(group["status"], 502);
    assert_eq!(group["count"], 3);
    assert_eq!(group["severity"], "high");
    // The sample is the answer's detail (nothing in it to scrub), and the
    // group's times are in order.
    assert_eq!(group["message"], detail.as_str());
    assert!(group["first_seen"].as_u64().unwrap() <= group["last_seen"].as_u64().unwrap());
    assert_eq!(listing["groups_held"], 1);
    assert_eq!(listing["evicted"], 0);
}
