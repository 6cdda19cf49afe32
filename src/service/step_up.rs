//! Step-up authentication (RFC 9470): what a request requires of the
//! user's authentication, checking it on verify, and recording a step-up.

use time::Duration;

use super::TokenService;
use super::rotation::Extras;
use crate::error::{ConfigError, Error, quotable};
use crate::session::AuthContext;
use crate::store::RefreshStore;
use crate::token::{AccessClaims, AppClaims, DpopRequest, TokenPair};

/// What a request requires of the user's authentication: a recent enough
/// `auth_time` (`max_age`), an `acr` among `acr_values`, or both. Checked
/// by [`TokenService::verify_with`]; a token that falls short gets
/// [`Error::InsufficientAuthentication`], whose
/// [`challenge`](Error::challenge) is RFC 9470's `WWW-Authenticate` value.
///
/// ```
/// use jwt_rotate::AuthRequirement;
/// use time::Duration;
///
/// let payment = AuthRequirement::new(Some(Duration::minutes(5)), ["urn:example:mfa"])?;
/// # let _ = payment;
/// # Ok::<(), jwt_rotate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequirement {
    max_age: Option<Duration>,
    acr_values: Vec<String>,
}

impl AuthRequirement {
    /// Requires `auth_time` at most `max_age` ago (if set) and an `acr`
    /// among `acr_values` (if any are given).
    ///
    /// # Errors
    /// [`Error::Config`] if `max_age` is negative or not whole seconds, or
    /// an `acr` value is empty or not printable ASCII without space, quote
    /// or backslash (it goes into the challenge header as it is).
    pub fn new<I, A>(max_age: Option<Duration>, acr_values: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = A>,
        A: Into<String>,
    {
        let acr_values: Vec<String> = acr_values.into_iter().map(Into::into).collect();
        if max_age.is_some_and(|age| age.is_negative() || age.subsec_nanoseconds() != 0) {
            return Err(ConfigError::new(
                "AuthRequirement: max_age must be whole, non-negative seconds",
            )
            .into());
        }
        if !acr_values.iter().all(|v| quotable(v)) {
            return Err(ConfigError::new(
                "AuthRequirement: an acr value is empty or not printable ASCII without space, quote or backslash",
            )
            .into());
        }
        Ok(Self {
            max_age,
            acr_values,
        })
    }

    /// The largest accepted age of `auth_time`, if any.
    pub fn max_age(&self) -> Option<Duration> {
        self.max_age
    }

    /// The accepted `acr` values (empty: any).
    pub fn acr_values(&self) -> &[String] {
        &self.acr_values
    }

    /// Whether `claims` meet it at `now`. A token without `auth_time`
    /// fails a `max_age`; one without `acr` fails `acr_values`.
    fn met_by<C>(&self, claims: &AccessClaims<C>, now: time::OffsetDateTime) -> bool {
        let recent = self
            .max_age
            .is_none_or(|max_age| claims.auth_time.is_some_and(|at| now - at <= max_age));
        let strong = self.acr_values.is_empty()
            || claims
                .acr
                .as_ref()
                .is_some_and(|acr| self.acr_values.contains(acr));
        recent && strong
    }
}

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// [`verify`](Self::verify), then checks the token's authentication
    /// against `requirement` (RFC 9470): `auth_time` no older than its
    /// `max_age`, `acr` among its `acr_values`. No store access.
    ///
    /// # Errors
    /// As `verify`; [`Error::InsufficientAuthentication`] if the token is
    /// valid but its authentication falls short: answer 401 with
    /// [`Error::challenge`], and step the user up
    /// ([`reauthenticate`](Self::reauthenticate)).
    pub fn verify_with(
        &self,
        access_token: impl AsRef<str>,
        requirement: &AuthRequirement,
    ) -> Result<AccessClaims<C>, Error> {
        let claims = self.verify(access_token)?;
        if requirement.met_by(&claims, self.now()) {
            Ok(claims)
        } else {
            Err(Error::InsufficientAuthentication {
                max_age: requirement.max_age,
                acr_values: requirement.acr_values.clone(),
            })
        }
    }

    /// Records a step-up: the user of the session behind `refresh_token`
    /// just authenticated again (the app checked the second factor, the
    /// password...) with methods `amr` reaching class `acr`. The session's
    /// `auth_time` becomes now, its `amr` and `acr` these, and the refresh
    /// token rotates in the same store call: the pair returned carries the
    /// new context, and the old refresh token is spent (a session's
    /// privileges never rise without a new token).
    ///
    /// Atomic like a refresh: a revoked, expired or reused session is not
    /// stepped up (and reuse revokes it, as in `refresh`).
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh); [`Error::Claims`] for values a token
    /// cannot carry (see [`IssueOptions::authenticated`](crate::IssueOptions::authenticated)),
    /// before any store access; [`Error::Denied`] for the previous
    /// refresh token inside the grace window (nothing written: refresh,
    /// then step up with the new token); [`Error::DpopRequired`] for a
    /// session bound to a key: use
    /// [`reauthenticate_dpop`](Self::reauthenticate_dpop).
    pub async fn reauthenticate(
        &self,
        refresh_token: impl AsRef<str>,
        amr: Vec<String>,
        acr: Option<String>,
    ) -> Result<TokenPair, Error> {
        self.step_up(refresh_token.as_ref(), amr, acr, None).await
    }

    /// [`reauthenticate`](Self::reauthenticate) for a session bound to a
    /// client's key (DPoP, RFC 9449): the step-up's refresh carries the
    /// request's proof, checked as [`refresh_dpop`](Self::refresh_dpop)
    /// checks it (by the bound key, `htm`, `htu`, `iat`, never seen
    /// before), and the new access token is bound again. A bound session
    /// cannot step up through `reauthenticate`, which has no proof.
    ///
    /// # Errors
    /// As [`reauthenticate`](Self::reauthenticate) and
    /// [`refresh_dpop`](Self::refresh_dpop): a refused proof
    /// ([`Error::InvalidDpopProof`], [`Error::UseDpopNonce`]) changes
    /// nothing, and the session keeps its old authentication context.
    pub async fn reauthenticate_dpop(
        &self,
        refresh_token: impl AsRef<str>,
        request: &DpopRequest<'_>,
        amr: Vec<String>,
        acr: Option<String>,
    ) -> Result<TokenPair, Error> {
        self.step_up(refresh_token.as_ref(), amr, acr, Some(request))
            .await
    }

    /// The step-up of both: one refresh recording the new context.
    async fn step_up(
        &self,
        refresh_token: &str,
        amr: Vec<String>,
        acr: Option<String>,
        proof: Option<&DpopRequest<'_>>,
    ) -> Result<TokenPair, Error> {
        let auth = AuthContext::new(self.now(), amr, acr);
        if let Some(problem) = auth.problem() {
            return Err(Error::Claims {
                problem,
                source: None,
            });
        }
        let extras = Extras {
            auth: Some(auth),
            proof,
            ..Extras::default()
        };
        self.refresh_recording(refresh_token, extras).await
    }
}
