//! The application's own claims: the bound on their type, and how they are
//! kept with a session and spliced into every access token.

use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Claim names the service writes itself; app claims may not use them.
const REGISTERED: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "sid",
    "cnf",
    "auth_time",
    "amr",
    "acr",
    "status",
];

/// What an application's claims type must be: serializable to a JSON
/// object, readable back, and shareable across threads.
///
/// Implemented for every type that is; never implement it by hand. It only
/// names the bound once, so that signatures read `C: AppClaims`.
///
/// ```
/// use jwt_rotate::AppClaims;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Roles {
///     roles: Vec<String>,
/// }
///
/// fn takes_claims<C: AppClaims>() {}
/// takes_claims::<Roles>();
/// ```
pub trait AppClaims: Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> AppClaims for T {}

/// No application claims: the default `C` of
/// [`TokenService`](crate::TokenService).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoClaims {}

/// Serializes the app's claims for storage: a JSON object using none of
/// the registered names.
pub(crate) fn claims_to_json<C: Serialize>(claims: &C) -> Result<String, Error> {
    let value = serde_json::to_value(claims).map_err(|e| Error::Claims {
        problem: "serialization failed",
        source: Some(e),
    })?;
    let Some(map) = value.as_object() else {
        return Err(Error::Claims {
            problem: "must serialize to a JSON object",
            source: None,
        });
    };
    if map.keys().any(|k| REGISTERED.contains(&k.as_str())) {
        return Err(Error::Claims {
            problem: "must not use a registered claim name",
            source: None,
        });
    }
    Ok(value.to_string())
}

/// The members of a stored claims object, the text between its braces:
/// what [`sign_for`](super::access::sign_for) splices after the registered claims.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimMembers<'a>(&'a str);

impl<'a> ClaimMembers<'a> {
    /// The members of `json`, if it is an object (as every stored claims
    /// value is, unless the store was tampered with).
    pub(crate) fn of(json: &'a str) -> Option<Self> {
        json.trim()
            .strip_prefix('{')?
            .strip_suffix('}')
            .map(|members| Self(members.trim()))
    }

    /// The members, trimmed; empty for `{}`.
    pub(crate) fn as_str(self) -> &'a str {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Roles {
        roles: Vec<&'static str>,
    }

    #[test]
    fn app_claims_must_be_an_object_without_registered_names() {
        assert_eq!(claims_to_json(&NoClaims {}).unwrap(), "{}");
        assert_eq!(
            claims_to_json(&Roles {
                roles: vec!["admin"]
            })
            .unwrap(),
            r#"{"roles":["admin"]}"#
        );
        assert!(matches!(claims_to_json(&42), Err(Error::Claims { .. })));
        assert!(matches!(
            claims_to_json(&serde_json::json!({"sub": "root"})),
            Err(Error::Claims { .. })
        ));
    }

    #[test]
    fn members_are_the_text_between_the_braces() {
        let members = |json| ClaimMembers::of(json).map(ClaimMembers::as_str);
        assert_eq!(members("{}"), Some(""));
        assert_eq!(members(" { } "), Some(""));
        assert_eq!(members(r#"{"a": 1}"#), Some(r#""a": 1"#));
        assert_eq!(members("[1]"), None);
    }
}
