//! The extractors: [`Authenticated`] (and `Option<Authenticated>`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, Verification, bearer_token, dpop_token};
use jwt_rotate::{AccessClaims, AppClaims, NoClaims, RequestHeaders};

use crate::response::AuthError;

type Verified<C> = Result<AccessClaims<C>, HttpError>;

type Checked<'a, C> = Pin<Box<dyn Future<Output = Verified<C>> + Send + 'a>>;

/// What the extractors need of an [`AuthFlow`], with its store type
/// erased, so that `Authenticated<C>` names the claims only.
pub(crate) trait Authenticator<C>: Send + Sync + 'static {
    /// The check's result at once when it needs no store read
    /// ([`Verification::Signature`] and a Bearer token), else `None`: the
    /// common path of a resource route pays no allocation for a future.
    fn verify_now(&self, authorization: Option<&[u8]>) -> Option<Verified<C>>;

    /// The check of `authorization`; of the whole request (`parts`: the
    /// proof, `Host`, the method and the URL) for a DPoP token.
    fn authenticate<'a>(
        &'a self,
        authorization: Option<&'a [u8]>,
        parts: &'a Parts,
    ) -> Checked<'a, C>;
}

impl<S: RefreshStore, C: AppClaims> Authenticator<C> for AuthFlow<S, C> {
    fn verify_now(&self, authorization: Option<&[u8]>) -> Option<Verified<C>> {
        // A DPoP proof goes through the replay cache: not now.
        let dpop = dpop_token(authorization).is_some() && self.service().accepts_dpop();
        if dpop || self.verification() != Verification::Signature {
            return None;
        }
        let verified =
            bearer_token(authorization).and_then(|token| Ok(self.service().verify(token)?));
        Some(verified)
    }

    fn authenticate<'a>(
        &'a self,
        authorization: Option<&'a [u8]>,
        parts: &'a Parts,
    ) -> Checked<'a, C> {
        if dpop_token(authorization).is_none() {
            // The common path: the header alone, nothing gathered.
            return Box::pin(self.authenticate_bearer(authorization));
        }
        let headers = dpop_headers(parts);
        Box::pin(async move { AuthFlow::authenticate(self, &headers).await })
    }
}

/// The [`AuthFlow`] the extractors use, put in the request's extensions
/// by [`JwtAuth::layer`](crate::JwtAuth::layer).
pub(crate) struct Installed<C>(pub(crate) Arc<dyn Authenticator<C>>);

impl<C> Clone for Installed<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

/// The caller of a protected route: the claims of its verified
/// `Authorization: Bearer` access token (or `Authorization: DPoP` with the
/// request's `DPoP` proof, when the flow's service takes DPoP), checked as
/// the flow's
/// [`Verification`](jwt_rotate::web::Verification) says (by default the
/// session must also still be live).
///
/// Rejects with 401 (`WWW-Authenticate: Bearer`, the cause's code), or 503
/// if the store fails. Needs [`JwtAuth::layer`](crate::JwtAuth::layer) on
/// the router (without it: 500, logged). As `Option<Authenticated<C>>` it
/// is `None` for a request without an `Authorization` header, and still
/// rejects a bad token, so that the client learns to refresh it.
///
/// ```
/// use jwt_rotate_axum::Authenticated;
///
/// async fn me(Authenticated(claims): Authenticated) -> String {
///     format!("hello {}", claims.sub)
/// }
/// async fn greeting(caller: Option<Authenticated>) -> String {
///     caller.map_or("hello stranger".into(), |Authenticated(c)| format!("hello {}", c.sub))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Authenticated<C = NoClaims>(pub AccessClaims<C>);

impl<St: Send + Sync, C: AppClaims> FromRequestParts<St> for Authenticated<C> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, AuthError> {
        // Borrowed, not cloned: the future holds the request's parts anyway.
        let Some(Installed(flow)) = parts.extensions.get::<Installed<C>>() else {
            return Err(AuthError(HttpError::internal(
                "Authenticated needs JwtAuth::layer on the router, with the same claims type",
            )));
        };
        let authorization = single_authorization(&parts.headers);
        if let Some(verified) = flow.verify_now(authorization) {
            return verified.map(Self).map_err(AuthError);
        }
        Ok(Self(flow.authenticate(authorization, parts).await?))
    }
}

impl<St: Send + Sync, C: AppClaims> OptionalFromRequestParts<St> for Authenticated<C> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Option<Self>, AuthError> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<St>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// What a DPoP token's check reads: the headers (the proof, `Host`), the
/// method and the URL the client sent (`OriginalUri`, whole inside a
/// `nest`).
fn dpop_headers(parts: &Parts) -> RequestHeaders<'_> {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |OriginalUri(uri)| uri);
    crate::routes::request_headers(&parts.headers, uri, &parts.method)
}

/// The `Authorization` value, `None` when absent or sent twice.
fn single_authorization(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(one), None) => Some(one.as_bytes()),
        _ => None,
    }
}
