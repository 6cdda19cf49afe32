//! The refresh-token grant (RFC 6749 section 6) of a token endpoint.

use serde::Serialize;

use super::OAuthResponse;
use super::form::{Form, FormError};
use crate::error::Error;
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::{AppClaims, TokenPair};

/// Answers `POST /oauth/token` with `grant_type=refresh_token`: rotates
/// the refresh token and returns the new pair as RFC 6749 section 5.1
/// says (`access_token`, `token_type: "Bearer"`, `expires_in`,
/// `refresh_token`).
///
/// Errors (section 5.2), all with `Cache-Control: no-store`:
/// - 400 `invalid_request`: a malformed or oversized body, a repeated
///   parameter, no `grant_type` or no `refresh_token`;
/// - 400 `unsupported_grant_type`: any grant but `refresh_token` (the
///   others belong to your login);
/// - 400 `invalid_scope`: a `scope` parameter: a refresh keeps the
///   session's claims, it cannot change them;
/// - 400 `invalid_grant`: the refresh token is not good (forged, expired,
///   spent and so reuse, its session revoked or expired, or refused by
///   your hooks);
/// - 503 `temporarily_unavailable` with `Retry-After`: the store failed.
///   When the rotation itself is in doubt, the body also carries
///   `refresh_token`, the token to retry with (see
///   [`Error::RotationInDoubt`]); a client that keeps its old token
///   instead is covered only by the grace window;
/// - 500 `server_error`: a failure on the server's side.
///
/// Client authentication is yours: a public client (a browser or native
/// app) sends none; for a confidential client, check its credentials
/// before calling this.
pub async fn token_endpoint<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    body: &[u8],
) -> OAuthResponse {
    let form = match Form::parse(body) {
        Ok(form) => form,
        Err(FormError::TooLarge) => {
            return OAuthResponse::error(400, "invalid_request", "the body is too large");
        }
        Err(FormError::Repeated) => {
            return OAuthResponse::error(400, "invalid_request", "a parameter is repeated");
        }
    };
    match form.get("grant_type") {
        None => return OAuthResponse::error(400, "invalid_request", "grant_type is missing"),
        Some("refresh_token") => {}
        Some(_) => {
            return OAuthResponse::error(
                400,
                "unsupported_grant_type",
                "only the refresh_token grant is served here",
            );
        }
    }
    if form.get("scope").is_some() {
        return OAuthResponse::error(
            400,
            "invalid_scope",
            "a refresh keeps the session's scope; it cannot change it",
        );
    }
    let Some(refresh_token) = form.get("refresh_token") else {
        return OAuthResponse::error(400, "invalid_request", "refresh_token is missing");
    };
    match service.refresh(refresh_token).await {
        Ok(pair) => success(service, &pair),
        Err(error) => failure(&error),
    }
}

fn success<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    pair: &TokenPair,
) -> OAuthResponse {
    #[derive(Serialize)]
    struct Body<'a> {
        access_token: &'a str,
        token_type: &'static str,
        expires_in: i64,
        refresh_token: &'a str,
    }
    let expires_in = (pair.access_expires_at - service.now())
        .whole_seconds()
        .max(0);
    OAuthResponse::json(
        200,
        &Body {
            access_token: pair.access_token.expose_secret(),
            token_type: "Bearer",
            expires_in,
            refresh_token: pair.refresh_token.expose_secret(),
        },
    )
}

fn failure(error: &Error) -> OAuthResponse {
    if let Error::RotationInDoubt { retry_with, .. } = error {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'static str,
            error_description: &'static str,
            refresh_token: &'a str,
        }
        return OAuthResponse::json(
            503,
            &Body {
                error: "temporarily_unavailable",
                error_description: "the rotation is in doubt; retry later with this refresh_token",
                refresh_token: retry_with.expose_secret(),
            },
        );
    }
    OAuthResponse::server_side(error).unwrap_or_else(|| {
        OAuthResponse::error(400, "invalid_grant", "the refresh token is not valid")
    })
}
