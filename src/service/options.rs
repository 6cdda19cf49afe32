//! [`IssueOptions`]: what a login asks of its session beyond the subject
//! and the claims.

use time::{Duration, OffsetDateTime};

use super::limit::SessionLimitMode;
use super::settings::Settings;
use crate::error::{ConfigError, Error};
use crate::session::{AuthContext, Jkt, SessionInfo};
use crate::token::DpopProof;

/// How [`issue_with`](super::TokenService::issue_with) sets up a session:
/// everything a login chooses beside the subject and the claims. The
/// default is what [`issue`](super::TokenService::issue) does.
///
/// Lifetimes asked for here are checked against the builder's maximums
/// ([`max_refresh_ttl`](crate::TokenServiceBuilder::max_refresh_ttl),
/// [`max_session_ttl`](crate::TokenServiceBuilder::max_session_ttl)) and
/// refused above them, never clamped: a login that gets a shorter session
/// than it asked for would be a silent surprise.
///
/// ```
/// use jwt_rotate::{IssueOptions, SessionInfo};
/// use time::Duration;
///
/// // "Remember me": 30 idle days within 90 absolute ones, on a service
/// // built with max_refresh_ttl(30 days) and max_session_ttl(90 days).
/// let options = IssueOptions::new()
///     .info(SessionInfo::default().with_label("Work laptop").with_kind("web"))
///     .idle_ttl(Duration::days(30))
///     .session_ttl(Duration::days(90))
///     .authenticated(None, vec!["pwd".into(), "otp".into()], Some("urn:example:mfa".into()));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct IssueOptions {
    pub(super) info: SessionInfo,
    pub(super) jkt: Option<Jkt>,
    pub(super) idle_ttl: Option<Duration>,
    pub(super) session_ttl: Option<Duration>,
    pub(super) authenticated: Authenticated,
    pub(super) limit_mode: Option<SessionLimitMode>,
}

/// What [`IssueOptions::authenticated`] was told.
#[derive(Debug, Clone, Default)]
pub(super) struct Authenticated {
    pub(super) at: Option<OffsetDateTime>,
    pub(super) amr: Vec<String>,
    pub(super) acr: Option<String>,
}

impl IssueOptions {
    /// The defaults: no device information, the builder's lifetimes, an
    /// authentication at the login instant with no `amr` or `acr`.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the app knows about the device (default: nothing), its label
    /// and kind included.
    pub fn info(mut self, info: SessionInfo) -> Self {
        self.info = info;
        self
    }

    /// This session's idle lifetime (default: the builder's
    /// `refresh_ttl`). Kept for the session's life: every rotation extends
    /// it by this much. Must exceed `access_ttl`, be at most the builder's
    /// `max_refresh_ttl` and this session's absolute lifetime, whole
    /// seconds; `issue_with` refuses it otherwise.
    pub fn idle_ttl(mut self, ttl: Duration) -> Self {
        self.idle_ttl = Some(ttl);
        self
    }

    /// This session's absolute lifetime from login (default: the
    /// builder's `session_ttl`). At most the builder's `max_session_ttl`,
    /// whole seconds; `issue_with` refuses it otherwise.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = Some(ttl);
        self
    }

    /// How the user authenticated for this login (RFC 8176 `amr` values,
    /// an `acr`), and when: `auth_time` `None` (the default) means at the
    /// login instant. Recorded with the session and carried unchanged into
    /// every access token it gets. Default: now, no `amr`, no `acr`.
    ///
    /// At most [`AuthContext::MAX_AMR_VALUES`](crate::AuthContext::MAX_AMR_VALUES)
    /// values, each and `acr` at most 128 bytes of printable ASCII without
    /// space, quote or backslash; `auth_time` not after the login; else
    /// `issue_with` refuses them.
    pub fn authenticated(
        mut self,
        auth_time: Option<OffsetDateTime>,
        amr: Vec<String>,
        acr: Option<String>,
    ) -> Self {
        self.authenticated = Authenticated {
            at: auth_time,
            amr,
            acr,
        };
        self
    }
}

impl IssueOptions {
    /// Binds the session to the client key with thumbprint `jkt` (DPoP,
    /// RFC 9449): its access tokens carry `cnf.jkt`, and every refresh
    /// needs a proof by that key
    /// ([`refresh_dpop`](super::TokenService::refresh_dpop)). Only for a
    /// key the client proved it holds: prefer [`dpop`](Self::dpop) with the
    /// login request's checked proof. Default: not bound.
    pub fn bound_to(mut self, jkt: Jkt) -> Self {
        self.jkt = Some(jkt);
        self
    }

    /// Binds the session to the key of `proof`, the login request's DPoP
    /// proof as [`Dpop::verify_proof`](crate::Dpop::verify_proof) accepted
    /// it; see [`bound_to`](Self::bound_to). Default: not bound.
    pub fn dpop(self, proof: DpopProof) -> Self {
        self.bound_to(*proof.jkt())
    }
}

impl IssueOptions {
    /// What this login does about the subject's other sessions, instead of
    /// the builder's
    /// [`session_limit_mode`](crate::TokenServiceBuilder::session_limit_mode)
    /// (the default): e.g. a kiosk login that ends every other session
    /// ([`SessionLimitMode::SingleSession`]), or a login refused at the
    /// limit ([`SessionLimitMode::RefuseNew`], which needs
    /// `max_sessions_per_subject`: `issue_with` refuses it otherwise,
    /// before any session is created).
    pub fn session_limit_mode(mut self, mode: SessionLimitMode) -> Self {
        self.limit_mode = Some(mode);
        self
    }

    /// The session limit mode of this login: its own, else the builder's.
    ///
    /// # Errors
    /// [`Error::Config`] for `RefuseNew` on a service with no limit.
    pub(super) fn limit_mode(&self, settings: &Settings) -> Result<SessionLimitMode, Error> {
        let mode = self.limit_mode.unwrap_or(settings.session_limit_mode);
        if mode == SessionLimitMode::RefuseNew && settings.max_sessions_per_subject.is_none() {
            return Err(ConfigError::new(
                "IssueOptions: session_limit_mode RefuseNew needs max_sessions_per_subject",
            )
            .into());
        }
        Ok(mode)
    }
}

impl From<SessionInfo> for IssueOptions {
    fn from(info: SessionInfo) -> Self {
        Self::new().info(info)
    }
}

impl IssueOptions {
    /// The session's idle and absolute lifetimes.
    ///
    /// # Errors
    /// [`Error::Config`] for a lifetime the settings do not allow.
    pub(super) fn lifetimes(&self, settings: &Settings) -> Result<(Duration, Duration), Error> {
        let idle = self.idle_ttl.unwrap_or(settings.refresh_ttl);
        let whole = self.session_ttl.unwrap_or(settings.session_ttl);
        let checks = [
            (
                idle.subsec_nanoseconds() == 0 && whole.subsec_nanoseconds() == 0,
                "IssueOptions: lifetimes must be whole seconds (JWT time)",
            ),
            (
                idle > settings.rules.access_ttl,
                "IssueOptions: idle_ttl must exceed access_ttl",
            ),
            (
                idle <= settings.max_refresh_ttl(),
                "IssueOptions: idle_ttl is above the service's max_refresh_ttl",
            ),
            (
                whole <= settings.max_session_ttl(),
                "IssueOptions: session_ttl is above the service's max_session_ttl",
            ),
            (
                whole >= idle,
                "IssueOptions: session_ttl must be at least idle_ttl",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, problem)) => Err(ConfigError::new(*problem).into()),
            None => Ok((idle, whole)),
        }
    }

    /// The authentication context of a login at `now` (whole seconds).
    ///
    /// # Errors
    /// [`Error::Claims`] for values a token cannot carry, or an
    /// `auth_time` after the login.
    pub(super) fn auth_context(&self, now: OffsetDateTime) -> Result<AuthContext, Error> {
        let Authenticated { at, amr, acr } = &self.authenticated;
        let auth_time = at.map_or(now, |at| at.replace_nanosecond(0).unwrap_or(at));
        let context = AuthContext::new(auth_time, amr.clone(), acr.clone());
        let problem = if auth_time > now {
            Some("authentication context: auth_time is after the login")
        } else {
            context.problem()
        };
        match problem {
            Some(problem) => Err(Error::Claims {
                problem,
                source: None,
            }),
            None => Ok(context),
        }
    }
}
