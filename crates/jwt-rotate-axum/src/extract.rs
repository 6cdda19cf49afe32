//! The extractors: [`Authenticated`] (and `Option<Authenticated>`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, Verification, bearer_token};
use jwt_rotate::{AccessClaims, AppClaims, NoClaims};

use crate::response::AuthError;

type Verified<C> = Result<AccessClaims<C>, HttpError>;

type Checked<'a, C> = Pin<Box<dyn Future<Output = Verified<C>> + Send + 'a>>;

/// What the extractors need of an [`AuthFlow`], with its store type
/// erased, so that `Authenticated<C>` names the claims only.
pub(crate) trait Authenticator<C>: Send + Sync + 'static {
    /// The check's result at once when it needs no store read
    /// ([`Verification::Signature`]), else `None`: the common path of a
    /// resource route pays no allocation for a future.
    fn verify_now(&self, authorization: Option<&[u8]>) -> Option<Verified<C>>;

    fn authenticate<'a>(&'a self, authorization: Option<&'a [u8]>) -> Checked<'a, C>;
}

impl<S: RefreshStore, C: AppClaims> Authenticator<C> for AuthFlow<S, C> {
    fn verify_now(&self, authorization: Option<&[u8]>) -> Option<Verified<C>> {
        if self.verification() != Verification::Signature {
            return None;
        }
        let verified =
            bearer_token(authorization).and_then(|token| Ok(self.service().verify(token)?));
        Some(verified)
    }

    fn authenticate<'a>(&'a self, authorization: Option<&'a [u8]>) -> Checked<'a, C> {
        Box::pin(self.authenticate_bearer(authorization))
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
/// `Authorization: Bearer` access token, checked as the flow's
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
        Ok(Self(flow.authenticate(authorization).await?))
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

/// The `Authorization` value, `None` when absent or sent twice.
fn single_authorization(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    match (values.next(), values.next()) {
        (Some(one), None) => Some(one.as_bytes()),
        _ => None,
    }
}
