//! The `application/x-www-form-urlencoded` bodies of the endpoints.

use std::borrow::Cow;

use zeroize::Zeroizing;

use super::OAuthResponse;

/// The largest body read: tokens are capped well below this, and a form
/// holds at most a few of them.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed form: each parameter at most once (RFC 6749 section 3.2 and
/// RFC 7009/7662: parameters MUST NOT be repeated). Values are zeroized on
/// drop: they are tokens.
pub(super) struct Form {
    fields: Vec<(String, Zeroizing<String>)>,
}

/// Why a body is not a usable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FormError {
    /// Larger than [`MAX_BODY_BYTES`].
    TooLarge,
    /// A parameter given twice.
    Repeated,
}

impl Form {
    /// Parses `body`. Names and values are percent-decoded (`+` is a
    /// space); invalid UTF-8 is replaced, which makes any token in it fail
    /// verification rather than the parse.
    pub(super) fn parse(body: &[u8]) -> Result<Self, FormError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(FormError::TooLarge);
        }
        let mut fields: Vec<(String, Zeroizing<String>)> = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if fields.iter().any(|(n, _)| *n == name) {
                return Err(FormError::Repeated);
            }
            let value = match value {
                Cow::Borrowed(v) => Zeroizing::new(v.to_owned()),
                Cow::Owned(v) => Zeroizing::new(v),
            };
            fields.push((name.into_owned(), value));
        }
        Ok(Self { fields })
    }

    /// The value of parameter `name`, if present and not empty (RFC 6749
    /// section 3.1: a parameter sent without a value is treated as absent).
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The body of a revocation or introspection request (RFC 7009 section
/// 2.1, RFC 7662 section 2.1): `token`, required, and `token_type_hint`.
pub(super) struct TokenForm {
    form: Form,
}

impl TokenForm {
    /// Parses `body`, answering 400 `invalid_request` for a malformed or
    /// oversized body, a repeated parameter or no `token`.
    pub(super) fn parse(body: &[u8]) -> Result<Self, OAuthResponse> {
        let form = Form::parse(body)
            .map_err(|_| OAuthResponse::error(400, "invalid_request", "a malformed body"))?;
        if form.get("token").is_none() {
            return Err(OAuthResponse::error(
                400,
                "invalid_request",
                "token is missing",
            ));
        }
        Ok(Self { form })
    }

    /// The token (present: `parse` checked).
    pub(super) fn token(&self) -> &str {
        self.form.get("token").unwrap_or_default()
    }

    /// The `token_type_hint`, if any.
    pub(super) fn hint(&self) -> Option<&str> {
        self.form.get("token_type_hint")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded_once_each() {
        let form = Form::parse(b"grant_type=refresh_token&refresh_token=a%2Eb+c&scope=").unwrap();
        assert_eq!(form.get("grant_type"), Some("refresh_token"));
        assert_eq!(form.get("refresh_token"), Some("a.b c"));
        assert_eq!(form.get("scope"), None, "empty is absent");
        assert_eq!(form.get("missing"), None);
        assert!(matches!(
            Form::parse(b"token=a&token=b"),
            Err(FormError::Repeated)
        ));
        let huge = vec![b'a'; MAX_BODY_BYTES + 1];
        assert!(matches!(Form::parse(&huge), Err(FormError::TooLarge)));
        // Bytes that are not UTF-8 do not fail the parse.
        assert!(Form::parse(b"token=%FF%FE").is_ok());
    }
}
