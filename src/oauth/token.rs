//! The refresh-token grant (RFC 6749 section 6) of a token endpoint.

use serde::Serialize;

use super::OAuthResponse;
use super::form::{Form, FormError};
use crate::error::Error;
use crate::service::TokenService;
use crate::store::RefreshStore;
use crate::token::{AppClaims, DpopRequest, TokenPair};

/// Answers `POST /oauth/token` with `grant_type=refresh_token`: rotates
/// the refresh token and returns the new pair as RFC 6749 section 5.1
/// says (`access_token`, `token_type: "Bearer"`, `expires_in`,
/// `refresh_token`). For requests with a `DPoP` header, call
/// [`token_endpoint_dpop`]; here the refresh token of a session bound to
/// a key is refused with 400 `invalid_dpop_proof`.
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
    let form = match refresh_grant(body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let refresh_token = form.get("refresh_token").unwrap_or_default();
    answer(service, service.refresh(refresh_token).await)
}

/// [`token_endpoint`] for a request that may carry DPoP proofs (RFC 9449,
/// section 5): `dpop` holds the values of its `DPoP` headers, and `url`
/// the endpoint's absolute URL as the client addressed it (scheme, host
/// and path of the public endpoint, behind any proxy), which the proof's
/// `htu` must name; the method is `POST`.
///
/// With one proof the refresh goes through
/// [`TokenService::refresh_dpop`]: a session bound to a key needs a valid
/// proof by that key, and its new access token is answered with
/// `token_type: "DPoP"`. Without a proof it is [`token_endpoint`], where a
/// bound session's refresh token is refused. Besides `token_endpoint`'s
/// errors (section 7 of RFC 9449 for the codes, all 400 with
/// `Cache-Control: no-store`):
/// - `invalid_dpop_proof`: a bound session's refresh without a proof, a
///   proof that is not valid (signature, `htm`, `htu`, `iat`, a replayed
///   `jti`, another key than the bound one), or more than one `DPoP`
///   header (section 4.3). Nothing changes and nothing is revoked: the
///   sender need not hold the key. A spent refresh token is reuse
///   whatever the proof, and answers `invalid_grant`;
/// - `use_dpop_nonce` with a `DPoP-Nonce` header: the service requires
///   server nonces ([`DpopNonces`](crate::DpopNonces)) and the proof has
///   none, or a stale one; the client signs a new proof with this nonce.
///
/// ```
/// use jwt_rotate::oauth::token_endpoint_dpop;
/// use jwt_rotate::{Dpop, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .dpop(Dpop::builder().build()?)
///     .build(MemoryStore::new())?;
/// let login = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
/// let body = format!("grant_type=refresh_token&refresh_token={}", login.refresh_token.expose_secret());
/// let url = "https://auth.example.com/oauth/token";
/// let response = token_endpoint_dpop(&service, body.as_bytes(), &["not a proof"], url).await;
/// assert_eq!(response.status, 400);
/// assert!(response.body.contains("\"error\":\"invalid_dpop_proof\""));
/// # Ok::<(), jwt_rotate::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub async fn token_endpoint_dpop<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    body: &[u8],
    dpop: &[&str],
    url: &str,
) -> OAuthResponse {
    let form = match refresh_grant(body) {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let refresh_token = form.get("refresh_token").unwrap_or_default();
    match dpop {
        [] => answer(service, service.refresh(refresh_token).await),
        [proof] => {
            let request = DpopRequest::new(proof, "POST", url);
            let mut response = answer(service, service.refresh_dpop(refresh_token, &request).await);
            // A fresh nonce with the tokens (RFC 9449, section 8.2): the
            // client's next proof carries it instead of being refused once
            // per nonce period. (A refusal for want of one has its own.)
            if response.status == 200
                && let Ok(Some(nonce)) = service.dpop_nonce()
            {
                response.headers.push(("dpop-nonce", nonce));
            }
            response
        }
        _ => OAuthResponse::error(400, "invalid_dpop_proof", "more than one DPoP header"),
    }
}

/// The form of a refresh-token grant, with a `refresh_token`; or the
/// answer refusing it.
fn refresh_grant(body: &[u8]) -> Result<Form, OAuthResponse> {
    let form = match Form::parse(body) {
        Ok(form) => form,
        Err(FormError::TooLarge) => {
            return Err(OAuthResponse::error(
                400,
                "invalid_request",
                "the body is too large",
            ));
        }
        Err(FormError::Repeated) => {
            return Err(OAuthResponse::error(
                400,
                "invalid_request",
                "a parameter is repeated",
            ));
        }
    };
    match form.get("grant_type") {
        None => {
            return Err(OAuthResponse::error(
                400,
                "invalid_request",
                "grant_type is missing",
            ));
        }
        Some("refresh_token") => {}
        Some(_) => {
            return Err(OAuthResponse::error(
                400,
                "unsupported_grant_type",
                "only the refresh_token grant is served here",
            ));
        }
    }
    if form.get("scope").is_some() {
        return Err(OAuthResponse::error(
            400,
            "invalid_scope",
            "a refresh keeps the session's scope; it cannot change it",
        ));
    }
    if form.get("refresh_token").is_none() {
        return Err(OAuthResponse::error(
            400,
            "invalid_request",
            "refresh_token is missing",
        ));
    }
    Ok(form)
}

fn answer<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    refreshed: Result<TokenPair, Error>,
) -> OAuthResponse {
    match refreshed {
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
            token_type: pair.token_type(),
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
    match error {
        Error::DpopRequired | Error::InvalidDpopProof(_) => {
            return OAuthResponse::error(
                400,
                "invalid_dpop_proof",
                "a valid DPoP proof by the session's key is required",
            );
        }
        Error::UseDpopNonce { nonce } => {
            let mut response = OAuthResponse::error(
                400,
                "use_dpop_nonce",
                "sign the DPoP proof with the nonce in the DPoP-Nonce header",
            );
            response.headers.push(("dpop-nonce", nonce.clone()));
            return response;
        }
        _ => {}
    }
    OAuthResponse::server_side(error).unwrap_or_else(|| {
        OAuthResponse::error(400, "invalid_grant", "the refresh token is not valid")
    })
}
