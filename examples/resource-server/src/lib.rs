//! A resource server in its own process: it holds no session store and no
//! signing key, only the auth server's public keys (fetched from its
//! JWKS) and a live view of revocations (followed from the session
//! store's feed). `GET /me` is answered from memory, with no store read
//! per request:
//!
//! - 200 `{"sub": ...}` for a valid access token of a live session;
//! - 401 `{"error": code}` and `WWW-Authenticate: Bearer ...` for no
//!   token, a bad one, or one whose session was revoked;
//! - 503 `{"error": "temporarily_unavailable"}` and `Retry-After` while
//!   the revocation view is staler than `max_staleness` or the token's key
//!   cannot be fetched: it fails closed.

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::routing::get;
use jwt_rotate::Verifier;
use jwt_rotate::store::RevocationFeed;
use jwt_rotate::time::Duration;
use jwt_rotate::web::{HttpError, bearer_token};
use jwt_rotate_axum::AuthError;
use serde::Serialize;

mod feed;

pub use feed::revocation_feed;

/// Errors of the set-up, for `main` to print.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How the server runs, from the environment ([`Settings::from_env`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen. Env `BIND_ADDR`; default `127.0.0.1:3001`.
    pub bind_addr: String,
    /// The auth server's key set. Env `JWKS_URL`; required.
    pub jwks_url: String,
    /// The session store whose revocation feed to follow: env
    /// `DATABASE_URL` (PostgreSQL, MySQL) or `REDIS_URL`, not both.
    /// Default: none, and a revoked session's access tokens pass until
    /// they expire.
    pub feed_url: Option<String>,
    /// The Redis store's key prefix. Env `REDIS_KEY_PREFIX`; default the
    /// store's own, as the auth server's `SESSIONS_DB` uses it.
    pub redis_prefix: Option<String>,
    /// The auth server's `iss` and `aud`. Env `ISSUER`, `AUDIENCE`;
    /// default `jwt-rotate-demo`, the demo auth servers'.
    pub issuer: String,
    /// See [`issuer`](Self::issuer).
    pub audience: String,
    /// The auth server's access-token lifetime. Env `ACCESS_TTL_SECS`, as
    /// the auth server's; default 15 minutes.
    pub access_ttl: Duration,
    /// Past this age of the revocation view, answers are 503. Env
    /// `MAX_STALENESS_SECS`; default 30 seconds.
    pub max_staleness: Duration,
}

impl Settings {
    /// The settings from the environment variables each field names.
    ///
    /// # Errors
    /// A required variable unset, both feed URLs set, a number that does
    /// not parse; the message names the variable.
    pub fn from_env() -> Result<Self, BoxError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let seconds = |name: &str, default: i64| -> Result<Duration, BoxError> {
            match var(name) {
                None => Ok(Duration::seconds(default)),
                Some(value) => match value.parse::<u32>() {
                    Ok(secs) if secs > 0 => Ok(Duration::seconds(secs.into())),
                    _ => Err(format!("{name} must be a positive whole number of seconds").into()),
                },
            }
        };
        let feed_url = match (var("DATABASE_URL"), var("REDIS_URL")) {
            (Some(_), Some(_)) => {
                return Err("set DATABASE_URL or REDIS_URL, not both: one store's feed".into());
            }
            (database, redis) => database.or(redis),
        };
        Ok(Self {
            bind_addr: var("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:3001".to_owned()),
            jwks_url: var("JWKS_URL").ok_or("JWKS_URL must be the auth server's key set URL")?,
            feed_url,
            redis_prefix: var("REDIS_KEY_PREFIX"),
            issuer: var("ISSUER").unwrap_or_else(|| "jwt-rotate-demo".to_owned()),
            audience: var("AUDIENCE").unwrap_or_else(|| "jwt-rotate-demo".to_owned()),
            access_ttl: seconds("ACCESS_TTL_SECS", 15 * 60)?,
            max_staleness: seconds("MAX_STALENESS_SECS", 30)?,
        })
    }

    /// The verifier these settings describe, with `feed` as its revocation
    /// source; spawn its [`follow`](Verifier::follow) task to keep it
    /// current.
    ///
    /// # Errors
    /// A `jwks_url` that is not an `http(s)` URL, an invalid setting.
    pub fn verifier(&self, feed: Option<Arc<dyn RevocationFeed>>) -> Result<Verifier, BoxError> {
        let builder = Verifier::builder()
            .issuer(&self.issuer)
            .audience(&self.audience)
            .access_ttl(self.access_ttl)
            .max_staleness(self.max_staleness)
            .jwks_url(&self.jwks_url);
        let builder = match feed {
            Some(feed) => builder.revocation_feed(feed),
            None => builder,
        };
        Ok(builder.build()?)
    }
}

/// `GET /me` over `verifier`; every other path is the JSON 404.
pub fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/me", get(me))
        .fallback(|| async { AuthError(HttpError::not_found()) })
        .with_state(verifier)
}

/// Serves [`router`] on `listener` until `shutdown` completes.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    verifier: Verifier,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(verifier))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The body of a 200 from `GET /me`.
#[derive(Debug, Serialize)]
pub struct MeBody {
    /// The user the token was issued to.
    pub sub: String,
}

async fn me(
    State(verifier): State<Verifier>,
    headers: HeaderMap,
) -> Result<Json<MeBody>, AuthError> {
    let token = bearer_token(headers.get(AUTHORIZATION).map(|value| value.as_bytes()))?;
    let claims = verifier.verify(token).await?;
    Ok(Json(MeBody { sub: claims.sub }))
}
