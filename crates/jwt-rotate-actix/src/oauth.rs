//! The OAuth 2.0 routes (feature `oauth`): `POST /oauth/token`,
//! `POST /oauth/revoke` and `POST /oauth/introspect`, each the flow's
//! framework-neutral method behind the body limit.

use actix_web::web::ServiceConfig;
use jwt_rotate::AppClaims;
use jwt_rotate::store::RefreshStore;
#[cfg(feature = "oauth")]
use {
    crate::response::AuthReply,
    crate::routes::{Flow, request_headers, resource},
    actix_web::HttpRequest,
    actix_web::web::{self, Bytes, PayloadConfig},
    jwt_rotate::web::{AuthFlow, MAX_BODY_BYTES},
};

/// Registers the OAuth routes, each reading at most [`MAX_BODY_BYTES`]; a
/// larger body is 400 `invalid_request`, as RFC 6749 section 5.2 words it.
/// The flow's `web::Data` is registered by the caller.
#[cfg(feature = "oauth")]
pub(crate) fn configure<S: RefreshStore, C: AppClaims>(cfg: &mut ServiceConfig) {
    let limit = || PayloadConfig::new(MAX_BODY_BYTES);
    cfg.service(resource("/oauth/token", web::post().to(token::<S, C>)).app_data(limit()))
        .service(resource("/oauth/revoke", web::post().to(revoke::<S, C>)).app_data(limit()))
        .service(
            resource("/oauth/introspect", web::post().to(introspect::<S, C>)).app_data(limit()),
        );
}

/// Without the feature: none.
#[cfg(not(feature = "oauth"))]
pub(crate) fn configure<S: RefreshStore, C: AppClaims>(_: &mut ServiceConfig) {}

#[cfg(feature = "oauth")]
async fn token<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> AuthReply {
    AuthReply(match body {
        Ok(body) => flow.oauth_token(&request_headers(&req), &body).await,
        Err(_) => AuthFlow::<S, C>::oauth_unreadable_body(),
    })
}

#[cfg(feature = "oauth")]
async fn revoke<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    body: Result<Bytes, actix_web::Error>,
) -> AuthReply {
    AuthReply(match body {
        Ok(body) => flow.oauth_revoke(&body).await,
        Err(_) => AuthFlow::<S, C>::oauth_unreadable_body(),
    })
}

#[cfg(feature = "oauth")]
async fn introspect<S: RefreshStore, C: AppClaims>(
    flow: Flow<S, C>,
    req: HttpRequest,
    body: Result<Bytes, actix_web::Error>,
) -> AuthReply {
    let peer = req.peer_addr().map(|addr| addr.ip());
    AuthReply(match body {
        Ok(body) => {
            flow.oauth_introspect(&request_headers(&req), peer, &body)
                .await
        }
        Err(_) => AuthFlow::<S, C>::oauth_unreadable_body(),
    })
}
