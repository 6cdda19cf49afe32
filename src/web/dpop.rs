//! DPoP (RFC 9449) on the session routes: a `DPoP` header on login binds
//! the new session to the proof's key, a bound session's refresh needs a
//! proof by that key, and protected routes take `Authorization: DPoP` with
//! a proof. Each proof is checked against the method and the absolute URL
//! the client used: the public origin (configured on the cookie, or
//! `http://` and `Host`; never `X-Forwarded-*`) and the request's path.
//!
//! A service built without [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop)
//! ignores `DPoP` headers, as RFC 9449 lets a server without DPoP do.

use super::error::{HttpError, scheme_token};
use super::flow::AuthFlow;
use super::reply::Reply;
use super::verification::Verification;
use crate::cookie::RequestHeaders;
use crate::error::{ConfigError, DpopProblem, Error};
use crate::secret::RefreshToken;
use crate::service::{IssueOptions, TokenService};
use crate::session::SessionInfo;
use crate::store::RefreshStore;
use crate::token::{AccessClaims, AppClaims, DpopProof, DpopRequest, TokenPair};

/// The token of an `Authorization: DPoP <token>` header value (RFC 9449,
/// section 7.1); `None` for no header, another scheme, or no token.
///
/// ```
/// use jwt_rotate::web::dpop_token;
///
/// assert_eq!(dpop_token(Some(b"DPoP abc.def.ghi")), Some("abc.def.ghi"));
/// assert_eq!(dpop_token(Some(b"Bearer abc.def.ghi")), None);
/// ```
pub fn dpop_token(authorization: Option<&[u8]>) -> Option<&str> {
    scheme_token(authorization, "dpop")
}

/// The request's proof: `None` without a `DPoP` header.
///
/// # Errors
/// [`Error::InvalidDpopProof`] for two headers (a request carries one
/// proof) or one that is not text.
fn proof_header<'a>(headers: &RequestHeaders<'a>) -> Result<Option<&'a str>, Error> {
    let malformed = Error::InvalidDpopProof(DpopProblem::Malformed);
    match headers.dpop() {
        [] => Ok(None),
        [one] => std::str::from_utf8(one).map(Some).map_err(|_| malformed),
        _ => Err(malformed),
    }
}

/// Whether `err` refuses a proof (missing, invalid, or without the nonce):
/// it proves nothing about who holds the refresh token, so the refresh
/// cookie stays and the client may retry with a good proof.
pub(super) fn is_proof_error(err: &Error) -> bool {
    matches!(
        err,
        Error::DpopRequired | Error::InvalidDpopProof(_) | Error::UseDpopNonce { .. }
    )
}

/// The headers of a refused proof's 401 (RFC 9449, sections 7.1 and 8):
/// `WWW-Authenticate: DPoP error="invalid_dpop_proof"`, or
/// `error="use_dpop_nonce"` with the nonce to use in `DPoP-Nonce`.
pub(super) fn challenge(err: &Error) -> Vec<(&'static str, String)> {
    let error = match err {
        Error::UseDpopNonce { .. } => "use_dpop_nonce",
        _ => "invalid_dpop_proof",
    };
    let value = format!(
        "DPoP error=\"{error}\", error_description=\"{}\"",
        err.code()
    );
    let mut headers = vec![("www-authenticate", value)];
    if let Error::UseDpopNonce { nonce } = err {
        headers.push(("dpop-nonce", nonce.clone()));
    }
    headers
}

/// `reply` with the service's nonce of the moment in `DPoP-Nonce`, when
/// the request carried a proof and the service requires nonces (RFC 9449,
/// section 8.2): the client's next proof then carries a fresh nonce,
/// instead of being refused once per nonce period. A nonce the backend
/// fails to make leaves the answer as it was: the next proof is asked for
/// one, as without this.
pub(super) fn with_fresh_nonce<S: RefreshStore, C: AppClaims>(
    service: &TokenService<S, C>,
    headers: &RequestHeaders<'_>,
    reply: Reply,
) -> Reply {
    if !matches!(proof_header(headers), Ok(Some(_))) {
        return reply;
    }
    match service.dpop_nonce() {
        Ok(Some(nonce)) => reply.with_header("dpop-nonce", nonce),
        _ => reply,
    }
}

/// A new session's options: its device `info`, and bound to the key of
/// the login's `proof` if there is one.
pub(super) fn bound_to(info: SessionInfo, proof: Option<DpopProof>) -> IssueOptions {
    let options = IssueOptions::from(info);
    match proof {
        Some(proof) => options.dpop(proof),
        None => options,
    }
}

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// The absolute URL the client addressed, which a proof's `htu` must
    /// name: the public origin the refresh cookie knows
    /// ([`RefreshCookie::request_origin`](crate::RefreshCookie::request_origin))
    /// and the path given by [`RequestHeaders::with_target`].
    ///
    /// # Errors
    /// [`Error::InvalidDpopProof`] (`Url`) without a usable `Host` (and no
    /// public origin configured); [`Error::Config`] when the framework
    /// glue gave no path.
    pub fn request_url(&self, headers: &RequestHeaders<'_>) -> Result<String, Error> {
        let path = headers.path().ok_or_else(no_target)?;
        let origin = self.cookie().request_origin(headers);
        let origin = origin.ok_or(Error::InvalidDpopProof(DpopProblem::Url))?;
        Ok(format!("{origin}{path}"))
    }

    /// The login's proof, checked: the key the new session is bound to.
    /// `None` without a `DPoP` header, or when the service takes none.
    pub(super) async fn login_proof(
        &self,
        headers: &RequestHeaders<'_>,
    ) -> Result<Option<DpopProof>, Error> {
        let service = self.service();
        let Some(proof) = proof_header(headers)?.filter(|_| service.accepts_dpop()) else {
            return Ok(None);
        };
        let (method, url) = (self.method(headers)?, self.request_url(headers)?);
        let request = DpopRequest::new(proof, method, &url);
        service.verify_dpop_proof(&request).await.map(Some)
    }

    /// Rotates `token`, with the request's proof when it has one: a bound
    /// session's refresh without a proof is [`Error::DpopRequired`].
    pub(super) async fn rotate(
        &self,
        token: &RefreshToken,
        headers: &RequestHeaders<'_>,
    ) -> Result<TokenPair, Error> {
        let service = self.service();
        let Some(proof) = proof_header(headers)?.filter(|_| service.accepts_dpop()) else {
            return service.refresh(token).await;
        };
        let (method, url) = (self.method(headers)?, self.request_url(headers)?);
        let request = DpopRequest::new(proof, method, &url);
        service.refresh_dpop(token, &request).await
    }

    /// The access token of `Authorization: DPoP`, when the service takes
    /// DPoP tokens.
    pub(super) fn dpop_authorization<'a>(&self, headers: &RequestHeaders<'a>) -> Option<&'a str> {
        let token = dpop_token(headers.authorization())?;
        self.service().accepts_dpop().then_some(token)
    }

    /// The caller of a protected route from a DPoP-bound access token and
    /// the request's proof (`ath` included), checked as configured
    /// ([`Verification`]).
    pub(super) async fn authenticate_dpop(
        &self,
        token: &str,
        headers: &RequestHeaders<'_>,
    ) -> Result<AccessClaims<C>, HttpError> {
        let proof = proof_header(headers)?.ok_or(Error::DpopRequired)?;
        let (method, url) = (self.method(headers)?, self.request_url(headers)?);
        let request = DpopRequest::new(proof, method, &url);
        let service = self.service();
        let claims = service.verify_dpop(token, &request).await?;
        Ok(match self.verification() {
            Verification::Live => service.check_live(claims).await?,
            Verification::Signature => claims,
        })
    }

    fn method<'a>(&self, headers: &RequestHeaders<'a>) -> Result<&'a str, Error> {
        headers.method().ok_or_else(no_target)
    }
}

/// Framework glue that did not give the request's method and path.
fn no_target() -> Error {
    ConfigError::new("DPoP needs the request's method and path: RequestHeaders::with_target").into()
}
