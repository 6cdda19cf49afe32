//! The OAuth 2.0 routes of an [`AuthFlow`] (feature `oauth`): the
//! framework-neutral endpoints of [`crate::oauth`] behind the flow's body
//! limit, client address and login throttle.

use std::net::IpAddr;

use super::error::HttpError;
use super::flow::AuthFlow;
use super::reply::Reply;
use crate::cookie::RequestHeaders;
use crate::oauth::{
    IntrospectionClient, OAuthResponse, introspection_endpoint, revocation_endpoint,
    token_endpoint, token_endpoint_dpop,
};
use crate::store::RefreshStore;
use crate::token::AppClaims;

impl<S: RefreshStore, C: AppClaims> AuthFlow<S, C> {
    /// `POST /oauth/token`, the refresh-token grant (RFC 6749 section 6):
    /// see [`token_endpoint`]. The form body is the request's, at most
    /// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES) (framework glue answers a
    /// larger one with [`oauth_unreadable_body`](Self::oauth_unreadable_body)).
    ///
    /// No client authentication (the clients are public: browsers and
    /// native apps) and no CSRF check: nothing in the request is ambient,
    /// the refresh token is in the body.
    ///
    /// With a `DPoP` header, when the service takes DPoP, the proof is
    /// checked against `POST` and the URL the client used
    /// ([`request_url`](Self::request_url)) and a bound session answers
    /// `token_type: "DPoP"`: see [`token_endpoint_dpop`].
    pub async fn oauth_token(&self, headers: &RequestHeaders<'_>, body: &[u8]) -> Reply {
        let service = self.service();
        if headers.dpop().is_empty() || !service.accepts_dpop() {
            return token_endpoint(service, body).await.into();
        }
        let Ok(url) = self.request_url(headers) else {
            let unknown = "the URL the client used is unknown (no Host)";
            return OAuthResponse::error(400, "invalid_dpop_proof", unknown).into();
        };
        // A header that is not text is no proof: judged as one that does
        // not parse, not dropped (that would be a request without one).
        let proofs: Vec<&str> = headers
            .dpop()
            .iter()
            .map(|value| std::str::from_utf8(value).unwrap_or_default())
            .collect();
        token_endpoint_dpop(service, body, &proofs, &url)
            .await
            .into()
    }

    /// `POST /oauth/revoke`, token revocation (RFC 7009): see
    /// [`revocation_endpoint`]. Holding a token is what allows revoking
    /// it, so, like the token route, no client authentication.
    pub async fn oauth_revoke(&self, body: &[u8]) -> Reply {
        revocation_endpoint(self.service(), body).await.into()
    }

    /// `POST /oauth/introspect`, token introspection (RFC 7662) for the
    /// [`IntrospectionClient`] given to
    /// [`AuthFlowBuilder::introspection_client`](super::AuthFlowBuilder::introspection_client),
    /// authenticated by HTTP Basic: see [`introspection_endpoint`].
    ///
    /// - Without an introspection client the endpoint is disabled: 404
    ///   `{"error": "not_found"}`, the answer of a route that is not
    ///   served, before the body or the credentials are looked at.
    /// - Each request takes a token from the login throttle's bucket of
    ///   its client address (the peer, or what a trusted proxy forwarded)
    ///   before the credentials are compared, and one that authenticates
    ///   gives it back: only failed authentications count, against the
    ///   same per-address budget as wrong passwords (a client secret is a
    ///   password). Past it, 429 `too_many_attempts` with `Retry-After`,
    ///   right credentials or not. No per-user bucket is charged, so
    ///   guesses from elsewhere never lock the resource server out.
    /// - Wrong or missing credentials: 401 `invalid_client` with
    ///   `WWW-Authenticate: Basic`.
    ///
    /// Every answer has `Cache-Control: no-store` and `Pragma: no-cache`.
    pub async fn oauth_introspect(
        &self,
        headers: &RequestHeaders<'_>,
        peer: Option<IpAddr>,
        body: &[u8],
    ) -> Reply {
        let Some(client) = self.inner.introspection.as_ref() else {
            return no_store(HttpError::not_found().reply());
        };
        let address = self.client_address(headers, peer);
        let ticket = match self.inner.throttle.try_take_address(address) {
            Ok(ticket) => ticket,
            Err(throttled) => return no_store(HttpError::from(throttled).reply()),
        };
        let authorization = headers
            .authorization()
            .and_then(|value| std::str::from_utf8(value).ok());
        let caller = match client.authenticate(authorization) {
            // A wrong secret: the ticket keeps its charge.
            Err(refused) => return refused.into(),
            Ok(caller) => caller,
        };
        ticket.refund();
        introspection_endpoint(self.service(), &caller, body)
            .await
            .into()
    }

    /// The answer of an OAuth route whose body could not be read (over
    /// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES), or the connection
    /// failed): 400 `invalid_request` (RFC 6749 section 5.2), not cached.
    pub fn oauth_unreadable_body() -> Reply {
        OAuthResponse::error(
            400,
            "invalid_request",
            "the body is too large or unreadable",
        )
        .into()
    }

    /// The introspection client, if the endpoint is enabled.
    pub fn introspection_client(&self) -> Option<&IntrospectionClient> {
        self.inner.introspection.as_ref()
    }
}

impl From<OAuthResponse> for Reply {
    fn from(response: OAuthResponse) -> Self {
        Reply {
            status: response.status,
            headers: response.headers,
            body: response.body,
        }
    }
}

/// `reply`, with the headers RFC 6749 section 5.1 asks of every answer of
/// a token endpoint; [`HttpError`] already sends `Cache-Control: no-store`.
fn no_store(reply: Reply) -> Reply {
    reply.with_header("pragma", "no-cache")
}
