//! The token strings handed to clients, as secret newtypes: opaque text to
//! every layer, so an error can carry one without knowing its format.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

macro_rules! secret_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// `Debug` is redacted and there is no `Display`, so the token does not
        /// end up in logs by accident; read it with
        #[doc = concat!("[`", stringify!($name), "::expose_secret`].")]
        /// The bytes are zeroized on drop.
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name(String);

        impl $name {
            /// Wraps a token received from a client.
            pub fn new(token: impl Into<String>) -> Self {
                Self(token.into())
            }

            /// The token itself, to send to the client.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }

            /// The same as [`expose_secret`](Self::expose_secret).
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(token: String) -> Self {
                Self(token)
            }
        }
    };
}

secret_token!(
    /// A signed JWT access token (`typ: at+jwt`): short-lived, sent as a
    /// Bearer token, verified without the store.
    AccessToken
);

secret_token!(
    /// A signed refresh token (`typ: rt+jwt`): long-lived, rotated on every
    /// use. Keep it where scripts cannot read it (an `HttpOnly` cookie).
    RefreshToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_redact_debug() {
        let token = RefreshToken::new("eyJhbGciOi.secret-part.sig");
        assert_eq!(format!("{token:?}"), "RefreshToken([redacted])");
        assert_eq!(token.expose_secret(), "eyJhbGciOi.secret-part.sig");
        let access = AccessToken::from("abc".to_owned());
        assert_eq!(format!("{access:?}"), "AccessToken([redacted])");
        assert_eq!(access.as_str(), "abc");
    }
}
