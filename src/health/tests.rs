//! Health reports: status mapping, readiness from breakers, liveness,
//! the built-in checks and bad requests.

use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;

async fn get(service: &HealthService) -> (StatusCode, http::HeaderMap, Value) {
    let response = service.clone().oneshot(Request::new(())).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&body).expect("a JSON report");
    (status, headers, json)
}

fn fixed(key: &'static str, status: Status) -> impl HealthCheck {
    move |report: &mut Report| {
        report.add(key, Check::new(status).output(format!("{key} says so")));
    }
}

#[tokio::test]
async fn the_worst_check_decides_and_fail_is_503() {
    let cases = [
        (vec![Status::Pass, Status::Pass], "pass", StatusCode::OK),
        (vec![Status::Pass, Status::Warn], "warn", StatusCode::OK),
        (
            vec![Status::Warn, Status::Fail, Status::Pass],
            "fail",
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ];
    for (statuses, expected, http_status) in cases {
        let keys = ["a:one", "b:two", "c:three"];
        let service = statuses
            .iter()
            .zip(keys)
            .fold(HealthService::builder(), |builder, (&status, key)| {
                builder.check(fixed(key, status))
            })
            .version("1.2.3")
            .service_id("gateway-test")
            .build();
        let (status, headers, report) = get(&service).await;
        assert_eq!(status, http_status, "{report}");
        assert_eq!(headers["content-type"], "application/health+json");
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(report["status"], expected);
        assert_eq!(report["version"], "1.2.3");
        assert_eq!(report["serviceId"], "gateway-test");
        let checks = report["checks"].as_object().unwrap();
        assert_eq!(checks.len(), statuses.len());
        for (key, list) in checks {
            assert!(key.contains(':'), "{key} is component:measurement");
            let check = &list[0];
            // `output` is for warn and fail only; every check has a time.
            assert_eq!(
                check["output"].is_string(),
                check["status"] != "pass",
                "{check}"
            );
            let time = check["time"].as_str().unwrap();
            assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");
        }
    }
}

#[cfg(feature = "circuit")]
#[tokio::test]
async fn readiness_warns_with_one_breaker_open_and_fails_with_all() {
    use crate::circuit::CircuitBreakerLayer;

    let breakers = CircuitBreakerLayer::new();
    let handle = breakers.handle();
    let readiness = HealthService::builder()
        .check(CircuitCheck::new(handle.clone()).providers(["openai", "anthropic"]))
        .build();
    let liveness = HealthService::liveness();

    // No traffic yet: both providers count as closed.
    let (status, _, report) = get(&readiness).await;
    assert_eq!(
        (status, &report["status"]),
        (StatusCode::OK, &Value::from("pass"))
    );
    assert_eq!(
        report["checks"]["circuit:openai"][0]["observedValue"],
        "closed"
    );

    handle.force_open("openai");
    let (status, _, report) = get(&readiness).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["status"], "warn");
    let openai = &report["checks"]["circuit:openai"][0];
    assert_eq!(openai["status"], "warn");
    assert_eq!(openai["componentId"], "openai");
    assert!(openai["output"].as_str().unwrap().starts_with("open"));
    assert_eq!(report["checks"]["circuit:anthropic"][0]["status"], "pass");
    let (status, _, live) = get(&liveness).await;
    assert_eq!(
        (status, &live["status"]),
        (StatusCode::OK, &Value::from("pass"))
    );

    handle.force_open("anthropic");
    let (status, _, report) = get(&readiness).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(report["status"], "fail");
    assert_eq!(report["checks"]["circuit:anthropic"][0]["status"], "fail");
    // Liveness does not look at providers.
    let (status, _, live) = get(&liveness).await;
    assert_eq!(
        (status, &live["status"]),
        (StatusCode::OK, &Value::from("pass"))
    );
    assert!(live.get("checks").is_none());

    handle.reset("openai");
    let (status, _, report) = get(&readiness).await;
    assert_eq!(
        (status, &report["status"]),
        (StatusCode::OK, &Value::from("warn"))
    );
}

#[tokio::test]
async fn memory_is_reported_in_bytes_and_warns_above_its_threshold() {
    let quiet = HealthService::builder().memory(None).build();
    let (status, _, report) = get(&quiet).await;
    assert_eq!(status, StatusCode::OK);
    let rss = &report["checks"]["memory:rss"][0];
    assert_eq!(rss["status"], "pass", "{rss}");
    assert_eq!(rss["observedUnit"], "bytes");
    assert!(
        rss["observedValue"].as_u64().unwrap() > 1024 * 1024,
        "{rss}"
    );

    let tight = HealthService::builder().memory(Some(1024)).build();
    let (status, _, report) = get(&tight).await;
    assert_eq!(status, StatusCode::OK, "a warning is still healthy");
    let rss = &report["checks"]["memory:rss"][0];
    assert_eq!(rss["status"], "warn");
    assert!(rss["output"].as_str().unwrap().contains("1024"));
}

#[cfg(feature = "errors")]
#[tokio::test]
async fn a_recent_critical_error_group_warns() {
    use crate::errors::{ErrorEvent, ErrorSource, ErrorTracker};

    let tracker = ErrorTracker::new();
    let health = HealthService::builder()
        .check(ErrorTrackerCheck::new(tracker.clone()))
        .build();
    let (_, _, report) = get(&health).await;
    assert_eq!(report["status"], "pass");
    assert_eq!(report["checks"]["errors:groups"][0]["observedValue"], 0);

    let event = |source, message| ErrorEvent {
        source,
        provider: Some("openai"),
        route: "/v1/chat/completions",
        status: Some(500),
        message,
    };
    tracker.record(&event(ErrorSource::Status, "upstream said 500"));
    let (_, _, report) = get(&health).await;
    assert_eq!(report["status"], "pass", "a high group is not critical");
    assert_eq!(report["checks"]["errors:groups"][0]["observedValue"], 1);

    tracker.record(&event(ErrorSource::Panic, "index out of bounds"));
    let (status, _, report) = get(&health).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["status"], "warn");
    let critical = &report["checks"]["errors:critical"][0];
    assert_eq!(critical["observedValue"], 1);
    assert_eq!(critical["status"], "warn");
}

#[cfg(feature = "rate-limit")]
#[tokio::test]
async fn the_rate_limiter_reports_its_keys() {
    use std::num::NonZeroU32;

    use crate::rate_limit::{Policy, Quota, RateLimitLayer};

    let policy = Policy::new().requests(Quota::per_minute(NonZeroU32::new(5).unwrap()));
    let layer = RateLimitLayer::builder()
        .default_policy(policy.clone())
        .build();
    for key in ["alice", "bob", "carol"] {
        layer.store().try_acquire(key, &policy, &[1, 0, 0, 0, 0, 0]);
    }
    let health = HealthService::builder()
        .check(RateLimitCheck::new(layer))
        .build();
    let (_, _, report) = get(&health).await;
    let keys = &report["checks"]["ratelimit:keys"][0];
    assert_eq!(keys["observedValue"], 3);
    assert_eq!(keys["observedUnit"], "keys");
}

#[tokio::test]
async fn a_panicking_check_fails_the_report_and_the_others_still_run() {
    let health = HealthService::builder()
        .check(|_: &mut Report| panic!("bug in a check"))
        .check(fixed("queue:depth", Status::Pass))
        .build();
    let (status, _, report) = get(&health).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(report["checks"]["health:checks"][0]["status"], "fail");
    assert_eq!(report["checks"]["queue:depth"][0]["status"], "pass");
}

#[tokio::test]
async fn other_methods_get_a_problem() {
    let health = HealthService::liveness();
    for method in [Method::POST, Method::DELETE] {
        let request = Request::builder().method(method).body(()).unwrap();
        let response = health.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()["allow"], "GET, HEAD");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let head = Request::head("/health").body(()).unwrap();
    let response = health.oneshot(head).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
