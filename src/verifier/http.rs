//! [`HttpJwks`]: a [`JwksSource`] over HTTP(S), with reqwest (rustls).

use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::jwk::JwkSet;

use super::{JwksResponse, JwksSource};
use crate::error::{ConfigError, Error};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A key set larger than this is refused: a JWKS holds a few keys.
const MAX_BYTES: usize = 256 * 1024;

/// Fetches a JWKS from a URL (an auth server's `/.well-known/jwks.json`):
/// a GET with a 10-second timeout, no redirects, a 2xx answer of at most
/// 256 KiB of JSON. The answer's `Cache-Control` says how long the keys
/// are kept (`max-age` less the `Age` a shared cache added; `no-cache` and
/// `no-store` as zero), within the verifier's `jwks_min_refetch` and
/// `jwks_max_age`.
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
        Ok(self.fetch_with_max_age().await?.set)
    }

    async fn fetch_with_max_age(&self) -> Result<JwksResponse, BoxError> {
        let mut response = self
            .client
            .get(self.url.clone())
            .header("accept", "application/json")
            .send()
            .await?
            .error_for_status()?;
        let max_age = max_age(response.headers());
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BYTES {
                return Err("the key set is larger than 256 KiB".into());
            }
            body.extend_from_slice(&chunk);
        }
        let set = serde_json::from_slice(&body)?;
        Ok(match max_age {
            Some(age) => JwksResponse::new(set).with_max_age(age),
            None => JwksResponse::new(set),
        })
    }
}

/// How long an answer stays fresh for a private cache (RFC 9111 section
/// 4.2): the smallest `max-age` (the most restrictive of repeated ones),
/// zero for `no-cache`, `no-store` or a `max-age` that does not parse,
/// less the `Age` a shared cache in between has already kept it. `None`
/// without any of these directives. `s-maxage` is for shared caches only.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<time::Duration> {
    let directives = headers
        .get_all(reqwest::header::CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim);
    let mut fresh: Option<u64> = None;
    for directive in directives {
        let (name, value) = directive.split_once('=').unwrap_or((directive, ""));
        let seconds = if name.trim().eq_ignore_ascii_case("max-age") {
            value.trim().trim_matches('"').parse::<u64>().unwrap_or(0)
        } else if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
            0
        } else {
            continue;
        };
        fresh = Some(fresh.map_or(seconds, |f| f.min(seconds)));
    }
    let age = headers
        .get(reqwest::header::AGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(0);
    // Bounded first: the verifier's own bound is far below this anyway.
    let seconds = fresh?.saturating_sub(age).min(u64::from(u32::MAX));
    Some(time::Duration::seconds(
        i64::try_from(seconds).unwrap_or(i64::MAX),
    ))
}
