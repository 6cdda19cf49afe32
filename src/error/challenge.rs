//! [`Error::challenge`]: the `WWW-Authenticate` value of RFC 9470's step-up
//! challenge.

use super::Error;

impl Error {
    /// For [`Error::InsufficientAuthentication`], the value of the
    /// `WWW-Authenticate` header to send with the 401 (RFC 9470, section
    /// 3): `Bearer error="insufficient_user_authentication"`, an
    /// `error_description`, and the `acr_values` and `max_age` the request
    /// asked for. `None` for every other error.
    ///
    /// ```
    /// use jwt_rotate::Error;
    /// use time::Duration;
    ///
    /// let error = Error::InsufficientAuthentication {
    ///     max_age: Some(Duration::minutes(5)),
    ///     acr_values: vec!["urn:example:mfa".into()],
    /// };
    /// assert_eq!(
    ///     error.challenge().as_deref(),
    ///     Some(
    ///         "Bearer error=\"insufficient_user_authentication\", \
    ///          error_description=\"A different authentication level is required\", \
    ///          acr_values=\"urn:example:mfa\", max_age=300"
    ///     )
    /// );
    /// ```
    pub fn challenge(&self) -> Option<String> {
        let Error::InsufficientAuthentication {
            max_age,
            acr_values,
        } = self
        else {
            return None;
        };
        let mut value = String::from(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"A different authentication level is required\"",
        );
        // `AuthRequirement` admits only values that need no escaping in a
        // quoted string; anything else built by hand is left out rather
        // than written unescaped into a header.
        let acr: Vec<&str> = acr_values
            .iter()
            .map(String::as_str)
            .filter(|v| quotable(v))
            .collect();
        if !acr.is_empty() {
            value.push_str(&format!(", acr_values=\"{}\"", acr.join(" ")));
        }
        if let Some(age) = max_age {
            value.push_str(&format!(", max_age={}", age.whole_seconds().max(0)));
        }
        Some(value)
    }
}

/// Printable ASCII with no space, quote or backslash: an `acr` value that
/// goes into a quoted, space-separated list as it is.
pub(crate) fn quotable(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
}
