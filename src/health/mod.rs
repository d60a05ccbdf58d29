//! Health reports in `application/health+json`, liveness and readiness.
