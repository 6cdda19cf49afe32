//! [`OAuthResponse`]: what an endpoint answers, ready to copy into any
//! framework's response.

use serde::Serialize;

use crate::error::{Error, ErrorClass};

/// An endpoint's answer: status, headers and a JSON body.
///
/// `Debug` leaves the body out: a token endpoint's body holds tokens.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers to send, names in lowercase: always `content-type`
    /// (`application/json`), `cache-control` (`no-store`) and `pragma`
    /// (`no-cache`); `retry-after` on a 503; `www-authenticate` on a 401;
    /// `dpop-nonce` with a `use_dpop_nonce` error, and with the tokens of
    /// a refresh that carried a proof when the service requires nonces.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: String,
}

impl std::fmt::Debug for OAuthResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// How long a client should wait after a 503, in seconds.
const RETRY_AFTER_SECONDS: &str = "5";

impl OAuthResponse {
    /// A response of `status` with `body` serialized as JSON; a 503 also
    /// says when to retry.
    pub(super) fn json(status: u16, body: &impl Serialize) -> Self {
        let body =
            serde_json::to_string(body).unwrap_or_else(|_| r#"{"error":"server_error"}"#.into());
        let mut response = Self {
            status,
            headers: vec![
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("pragma", "no-cache".to_owned()),
            ],
            body,
        };
        if status == 503 {
            response
                .headers
                .push(("retry-after", RETRY_AFTER_SECONDS.to_owned()));
        }
        response
    }

    /// An RFC 6749 section 5.2 error: `{"error": code}` (and a
    /// description, never text from the request).
    pub(crate) fn error(status: u16, code: &'static str, description: &'static str) -> Self {
        #[derive(Serialize)]
        struct Body {
            error: &'static str,
            error_description: &'static str,
        }
        Self::json(
            status,
            &Body {
                error: code,
                error_description: description,
            },
        )
    }

    /// The answer to a library error that is not the token's fault: 503
    /// `temporarily_unavailable` (try later) or 500 `server_error`; `None`
    /// for a token error, which each endpoint answers its own way.
    pub(super) fn server_side(error: &Error) -> Option<Self> {
        match error.class() {
            ErrorClass::TryLater => Some(Self::error(
                503,
                "temporarily_unavailable",
                "the session store is unavailable; retry later",
            )),
            ErrorClass::Unauthorized => None,
            _ => Some(Self::error(500, "server_error", "the server failed")),
        }
    }

    /// The value of header `name` (lowercase), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}
