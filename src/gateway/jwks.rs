//! [`JwksUrl`]: fetching a JWKS document over HTTP(S) for
//! [`JwtKeys::refresh`](crate::auth::JwtKeys::refresh).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;

use super::ConfigError;
use crate::auth::JwksFetch;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest JWKS document read.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Fetches the JWKS document at a URL (`http` or `https`, with rustls and
/// the webpki roots), with a timeout, for a [`JwtLayer`](crate::auth::JwtLayer)
/// that refreshes its keys on an unknown `kid`.
///
/// ```no_run
/// use std::time::Duration;
/// use jsonwebtoken::Algorithm;
/// use jsonwebtoken::jwk::JwkSet;
/// use spark_tower::auth::{JwtKeys, JwtLayer};
/// use spark_tower::gateway::JwksUrl;
///
/// let url = JwksUrl::new("https://login.example.com/.well-known/jwks.json".parse().unwrap()).unwrap();
/// let keys = JwtKeys::jwks(JwkSet { keys: vec![] }).refresh(url, Duration::from_secs(300));
/// let layer = JwtLayer::builder(Algorithm::RS256, keys).build().unwrap();
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct JwksUrl {
    url: Uri,
    timeout: Duration,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl JwksUrl {
    /// Fetches from `url`, with a 10 s timeout.
    ///
    /// # Errors
    /// A URL that is not absolute `http` or `https`.
    pub fn new(url: Uri) -> Result<Self, ConfigError> {
        let scheme_ok = matches!(url.scheme_str(), Some("http" | "https"));
        if !scheme_ok || url.authority().is_none() {
            return Err(ConfigError::Invalid {
                var: "JWKS URL",
                reason: "must be an absolute http:// or https:// URL".to_owned(),
            });
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            url,
            timeout: Duration::from_secs(10),
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// The longest a fetch may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn get(
        client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
        url: Uri,
    ) -> Result<JwkSet, BoxError> {
        let request = Request::get(url)
            .header("accept", "application/json")
            .body(Empty::new())?;
        let response = client.request(request).await?;
        if response.status() != StatusCode::OK {
            return Err(format!("the JWKS endpoint answered {}", response.status()).into());
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await?
            .to_bytes();
        Ok(serde_json::from_slice(&body)?)
    }
}

impl JwksFetch for JwksUrl {
    fn fetch(&self) -> BoxFuture<'static, Result<JwkSet, BoxError>> {
        let (client, url, timeout) = (self.client.clone(), self.url.clone(), self.timeout);
        async move {
            tokio::time::timeout(timeout, Self::get(client, url))
                .await
                .map_err(|_| BoxError::from("the JWKS fetch timed out"))?
        }
        .boxed()
    }
}

impl fmt::Debug for JwksUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksUrl")
            .field("url", &self.url)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
