//! [`HttpJwks`]: a [`JwksSource`] over HTTP(S), with reqwest (rustls).

use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;

use super::JwksSource;
use crate::error::{ConfigError, Error};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A key set larger than this is refused: a JWKS holds a few keys.
const MAX_BYTES: usize = 256 * 1024;

/// Fetches a JWKS from a URL (an auth server's `/.well-known/jwks.json`):
/// a GET with a 10-second timeout, no redirects, a 2xx answer of at most
/// 256 KiB of JSON.
#[derive(Debug, Clone)]
pub struct HttpJwks {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl HttpJwks {
    /// A source for `url`.
    ///
    /// # Errors
    /// [`Error::Config`] if `url` is not an `http` or `https` URL, or the
    /// HTTP client cannot be made (no TLS roots).
    pub fn new(url: &str) -> Result<Self, Error> {
        let url = reqwest::Url::parse(url)
            .map_err(|e| ConfigError::with_source("the JWKS URL does not parse", e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new("the JWKS URL must be http or https").into());
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::with_source("cannot make the HTTP client", e))?;
        Ok(Self { client, url })
    }
}

#[async_trait]
impl JwksSource for HttpJwks {
    async fn fetch(&self) -> Result<JwkSet, BoxError> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header("accept", "application/json")
            .send()
            .await?
            .error_for_status()?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err("the key set is larger than 256 KiB".into());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(serde_json::from_slice(&body)?)
    }
}
