//! The extractors: [`Authenticated`] and [`MaybeAuthenticated`].

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::{FromRequest, HttpRequest};
use jwt_rotate::store::RefreshStore;
use jwt_rotate::web::{AuthFlow, HttpError, Verification, bearer_token, dpop_token};
use jwt_rotate::{AccessClaims, AppClaims, NoClaims, RequestHeaders};

use crate::response::AuthError;

/// A boxed future, for the check that reads the store (no `Send`: each
/// worker runs on one thread).
type Boxed<T> = Pin<Box<dyn Future<Output = T>>>;

type Checked<C> = Boxed<Result<AccessClaims<C>, HttpError>>;

/// What the extractors need of an [`AuthFlow`], with its store type
/// erased, so that `Authenticated<C>` names the claims only.
pub(crate) trait Authenticator<C>: 'static {
    /// The check's result at once when it needs no store read
    /// ([`Verification::Signature`] and a Bearer token), else `None`.
    fn verify_now(&self, authorization: Option<&HeaderValue>) -> Option<Verified<C>>;

    /// The check that reads the store or the DPoP replay cache: of the
    /// `Authorization` value for a Bearer token, of the whole request
    /// (proof, `Host`, method, path) for a DPoP one.
    fn authenticate(&self, authorization: Option<HeaderValue>, req: &HttpRequest) -> Checked<C>;
}

type Verified<C> = Result<AccessClaims<C>, HttpError>;

impl<S: RefreshStore, C: AppClaims> Authenticator<C> for AuthFlow<S, C> {
    fn verify_now(&self, authorization: Option<&HeaderValue>) -> Option<Verified<C>> {
        let value = authorization.map(HeaderValue::as_bytes);
        // A DPoP proof goes through the replay cache: not now.
        let dpop = dpop_token(value).is_some() && self.service().accepts_dpop();
        if dpop || self.verification() != Verification::Signature {
            return None;
        }
        let verified = bearer_token(value).and_then(|token| Ok(self.service().verify(token)?));
        Some(verified)
    }

    fn authenticate(&self, authorization: Option<HeaderValue>, req: &HttpRequest) -> Checked<C> {
        let flow = self.clone();
        if dpop_token(authorization.as_ref().map(HeaderValue::as_bytes)).is_some() {
            // The request, shared (an `Rc`): its headers, method and path.
            let req = req.clone();
            return Box::pin(async move {
                AuthFlow::authenticate(&flow, &crate::routes::request_headers(&req)).await
            });
        }
        Box::pin(async move {
            let mut headers = RequestHeaders::new();
            if let Some(value) = &authorization {
                headers.push("authorization", value.as_bytes());
            }
            flow.authenticate(&headers).await
        })
    }
}

/// The [`AuthFlow`] the extractors use, registered as app data by
/// [`JwtAuth::configure`](crate::JwtAuth::configure) or
/// [`JwtAuth::app_data`](crate::JwtAuth::app_data).
pub(crate) struct Installed<C>(pub(crate) Arc<dyn Authenticator<C>>);

impl<C> Clone for Installed<C> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C> std::fmt::Debug for Installed<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Installed")
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
/// if the store fails. Needs the flow registered as app data, which
/// [`JwtAuth::configure`](crate::JwtAuth::configure) does when given to
/// `App::configure` (without it: 500, logged). For routes open to
/// everyone, take [`MaybeAuthenticated`]: actix-web's `Option<T>` extractor
/// would turn a bad token into `None` too.
///
/// ```
/// use jwt_rotate_actix::Authenticated;
///
/// async fn me(Authenticated(claims): Authenticated) -> String {
///     format!("hello {}", claims.sub)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Authenticated<C = NoClaims>(pub AccessClaims<C>);

impl<C: AppClaims> FromRequest for Authenticated<C> {
    type Error = AuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match check::<C>(req) {
            Check::Done(verified) => Extracting::done(verified.map(Self)),
            Check::Pending(checked) => Extracting::pending(async move { Ok(Self(checked.await?)) }),
        }
    }
}

/// The caller of a route open to everyone: `None` for a request without
/// an `Authorization` header, the claims for a good token, and a bad token
/// still rejected as by [`Authenticated`] (401), so that the client learns
/// to refresh it rather than being served as a stranger.
///
/// ```
/// use jwt_rotate_actix::MaybeAuthenticated;
///
/// async fn greeting(MaybeAuthenticated(caller): MaybeAuthenticated) -> String {
///     caller.map_or("hello stranger".into(), |claims| format!("hello {}", claims.sub))
/// }
/// ```
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated<C = NoClaims>(pub Option<AccessClaims<C>>);

impl<C: AppClaims> FromRequest for MaybeAuthenticated<C> {
    type Error = AuthError;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if !req.headers().contains_key(AUTHORIZATION) {
            return Extracting::done(Ok(Self(None)));
        }
        match check::<C>(req) {
            Check::Done(verified) => Extracting::done(verified.map(|claims| Self(Some(claims)))),
            Check::Pending(checked) => {
                Extracting::pending(async move { Ok(Self(Some(checked.await?))) })
            }
        }
    }
}

/// The future of the extractors [`Authenticated`] and
/// [`MaybeAuthenticated`]: ready at once when the check needs no store
/// read ([`Verification::Signature`]), so that path allocates nothing;
/// else the check, boxed.
pub struct Extracting<T>(Stage<T>);

enum Stage<T> {
    Done(Ready<Result<T, AuthError>>),
    Pending(Boxed<Result<T, AuthError>>),
}

impl<T> Extracting<T> {
    fn done(verified: Result<T, HttpError>) -> Self {
        Self(Stage::Done(ready(verified.map_err(AuthError))))
    }

    fn pending(check: impl Future<Output = Result<T, AuthError>> + 'static) -> Self {
        Self(Stage::Pending(Box::pin(check)))
    }
}

impl<T> Future for Extracting<T> {
    type Output = Result<T, AuthError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both stages are `Unpin` (a `Ready`, a `Pin<Box<_>>`), so is this.
        match &mut self.get_mut().0 {
            Stage::Done(done) => Pin::new(done).poll(cx),
            Stage::Pending(pending) => pending.as_mut().poll(cx),
        }
    }
}

impl<T> std::fmt::Debug for Extracting<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Stage::Done(_) => "Extracting::Done",
            Stage::Pending(_) => "Extracting::Pending",
        })
    }
}

/// The check of a request's access token: done, or a future that owns
/// what it needs of the request.
#[allow(
    clippy::large_enum_variant,
    reason = "lives for one call on the stack; boxing the claims would cost the allocation per request this type exists to avoid"
)]
enum Check<C> {
    Done(Verified<C>),
    Pending(Checked<C>),
}

fn check<C: AppClaims>(req: &HttpRequest) -> Check<C> {
    let Some(Installed(flow)) = req.app_data::<Installed<C>>() else {
        return Check::Done(Err(HttpError::internal(
            "Authenticated needs JwtAuth::configure or JwtAuth::app_data, with the same claims type",
        )));
    };
    let authorization = single_authorization(req);
    match flow.verify_now(authorization) {
        Some(verified) => Check::Done(verified),
        None => Check::Pending(flow.authenticate(authorization.cloned(), req)),
    }
}

/// The `Authorization` value, `None` when absent or sent twice.
fn single_authorization(req: &HttpRequest) -> Option<&HeaderValue> {
    let mut values = req.headers().get_all(AUTHORIZATION);
    match (values.next(), values.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}
