//! [`IntrospectionClient`]: the caller an introspection endpoint answers,
//! authenticated by HTTP Basic (RFC 7662 section 2.1, RFC 6749 section
//! 2.3.1).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::OAuthResponse;

/// The credentials of the one client (a resource server) allowed to
/// introspect tokens. `Debug` shows the id, never the secret.
///
/// ```
/// use jwt_rotate::oauth::IntrospectionClient;
///
/// let client = IntrospectionClient::new("resource-server", "a long random secret");
/// // "resource-server:a long random secret", base64 (spaces are `+` once
/// // form-encoded, as RFC 6749 section 2.3.1 asks).
/// let header = "Basic cmVzb3VyY2Utc2VydmVyOmErbG9uZytyYW5kb20rc2VjcmV0";
/// assert!(client.authenticate(Some(header)).is_ok());
/// assert_eq!(client.authenticate(None).unwrap_err().status, 401);
/// ```
#[derive(Clone)]
pub struct IntrospectionClient {
    id: String,
    secret: Zeroizing<String>,
}

impl fmt::Debug for IntrospectionClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionClient")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Proof that a request came from the [`IntrospectionClient`]: only
/// [`IntrospectionClient::authenticate`] makes one, and
/// [`introspection_endpoint`](super::introspection_endpoint) needs one.
#[derive(Debug)]
pub struct AuthenticatedClient {
    _private: (),
}

impl IntrospectionClient {
    /// The client `id` with `secret` (use a long random one).
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: Zeroizing::new(secret.into()),
        }
    }

    /// Checks a request's `Authorization` header: `Basic` with this
    /// client's id and secret, each form-urlencoded before base64 (RFC 6749
    /// section 2.3.1). Compared in constant time.
    ///
    /// # Errors
    /// A 401 `invalid_client` answer with `WWW-Authenticate: Basic`, to
    /// send as is, when the header is missing, malformed or wrong.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
    ) -> Result<AuthenticatedClient, OAuthResponse> {
        let presented = authorization.and_then(basic_credentials);
        let matches = presented.is_some_and(|(id, secret)| {
            same(id.as_bytes(), self.id.as_bytes())
                & same(secret.as_bytes(), self.secret.as_bytes())
        });
        if matches {
            Ok(AuthenticatedClient { _private: () })
        } else {
            let mut response =
                OAuthResponse::error(401, "invalid_client", "client authentication failed");
            response.headers.push((
                "www-authenticate",
                r#"Basic realm="token introspection""#.to_owned(),
            ));
            Err(response)
        }
    }
}

/// Equal, in time that depends only on the lengths of the hashes (fixed).
fn same(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.ct_eq(&b).into()
}

/// The id and secret of a `Basic` header, decoded.
fn basic_credentials(header: &str) -> Option<(Zeroizing<String>, Zeroizing<String>)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(STANDARD.decode(encoded.trim()).ok()?);
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| -> Zeroizing<String> {
        Zeroizing::new(
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default(),
        )
    };
    Some((decode(id), decode(secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(credentials: &str) -> String {
        format!("Basic {}", STANDARD.encode(credentials))
    }

    #[test]
    fn only_the_right_credentials_pass() {
        let client = IntrospectionClient::new("rs", "s3cret:with colon");
        assert!(
            client
                .authenticate(Some(&basic("rs:s3cret%3Awith+colon")))
                .is_ok()
        );
        assert!(
            client
                .authenticate(Some(&basic("rs:s3cret:with colon")))
                .is_ok()
        );
        for bad in [
            basic("rs:wrong"),
            basic("other:s3cret%3Awith+colon"),
            basic("rs"),
            "Bearer abc".to_owned(),
            "Basic !!!".to_owned(),
            String::new(),
        ] {
            let refused = client.authenticate(Some(&bad)).unwrap_err();
            assert_eq!(refused.status, 401, "{bad}");
            assert!(refused.header("www-authenticate").is_some());
        }
        assert!(!format!("{client:?}").contains("s3cret"));
    }
}
