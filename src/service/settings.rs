//! [`Settings`]: every setting of a service, written once, with its default
//! and the checks `build()` makes.

use time::Duration;

use super::limit::SessionLimitMode;
use super::status_list::StatusListSettings;
use crate::error::ConfigError;
use crate::token::TokenRules;

/// The longest any lifetime setting may be: 100 years. Far beyond any
/// sensible session, and far enough inside the range of an instant (years
/// -9999 to 9999) that `now + setting` stays representable for any clock of
/// this millennium; a clock outside it gets a typed error, never a panic.
pub(crate) const LONGEST: Duration = Duration::days(36_525);

/// The settings a service runs with. The builder holds one, filled with the
/// defaults; [`check`](Self::check) validates it at `build()`.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// What the token formats need (issuer, audience, access lifetime,
    /// leeway, size cap).
    pub(crate) rules: TokenRules,
    pub(crate) refresh_ttl: Duration,
    pub(crate) session_ttl: Duration,
    pub(crate) reuse_grace: Duration,
    pub(crate) outage_tolerance: Duration,
    pub(crate) max_sessions_per_subject: Option<usize>,
    pub(crate) session_limit_mode: SessionLimitMode,
    /// The longest idle and absolute lifetimes a login may ask for
    /// (`IssueOptions`); `None`: `refresh_ttl` and `session_ttl`.
    pub(crate) max_refresh_ttl: Option<Duration>,
    pub(crate) max_session_ttl: Option<Duration>,
    /// Token status lists: off unless set.
    pub(crate) status_list: Option<StatusListSettings>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rules: TokenRules {
                issuer: String::new(),
                audience: String::new(),
                access_ttl: Duration::minutes(15),
                leeway: Duration::seconds(5),
                max_token_bytes: 8 * 1024,
            },
            refresh_ttl: Duration::days(7),
            session_ttl: Duration::days(30),
            reuse_grace: Duration::seconds(10),
            outage_tolerance: Duration::minutes(5),
            max_sessions_per_subject: None,
            session_limit_mode: SessionLimitMode::RevokeOldest,
            max_refresh_ttl: None,
            max_session_ttl: None,
            status_list: None,
        }
    }
}

impl Settings {
    /// The longest idle lifetime a login may ask for.
    pub(crate) fn max_refresh_ttl(&self) -> Duration {
        self.max_refresh_ttl.unwrap_or(self.refresh_ttl)
    }

    /// The longest absolute lifetime a login may ask for.
    pub(crate) fn max_session_ttl(&self) -> Duration {
        self.max_session_ttl.unwrap_or(self.session_ttl)
    }

    /// Refuses settings the service cannot run with; see
    /// [`TokenServiceBuilder::build`](super::TokenServiceBuilder::build).
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let rules = &self.rules;
        for (name, value) in [("issuer", &rules.issuer), ("audience", &rules.audience)] {
            if value.is_empty() {
                return Err(ConfigError::new(format!("{name} is required")));
            }
        }
        let durations = [
            ("access_ttl", rules.access_ttl),
            ("refresh_ttl", self.refresh_ttl),
            ("session_ttl", self.session_ttl),
            ("reuse_grace", self.reuse_grace),
            ("outage_tolerance", self.outage_tolerance),
            ("leeway", rules.leeway),
            ("max_refresh_ttl", self.max_refresh_ttl()),
            ("max_session_ttl", self.max_session_ttl()),
        ];
        if let Some((name, _)) = durations.iter().find(|(_, d)| d.subsec_nanoseconds() != 0) {
            return Err(ConfigError::new(format!(
                "{name} must be whole seconds (JWT time)"
            )));
        }
        if let Some((name, _)) = durations.iter().find(|(_, d)| *d > LONGEST) {
            return Err(ConfigError::new(format!(
                "{name} must be at most 100 years (36,525 days)"
            )));
        }
        let checks = [
            (
                rules.access_ttl > Duration::ZERO,
                "access_ttl must be positive",
            ),
            (
                self.refresh_ttl > rules.access_ttl,
                "refresh_ttl must exceed access_ttl",
            ),
            (
                self.session_ttl >= self.refresh_ttl,
                "session_ttl must be at least refresh_ttl",
            ),
            (
                !self.reuse_grace.is_negative(),
                "reuse_grace must not be negative",
            ),
            (
                self.reuse_grace < rules.access_ttl,
                "reuse_grace must be below access_ttl",
            ),
            (
                self.outage_tolerance >= self.reuse_grace,
                "outage_tolerance must be at least reuse_grace",
            ),
            (
                self.outage_tolerance <= self.refresh_ttl,
                "outage_tolerance must be at most refresh_ttl",
            ),
            (!rules.leeway.is_negative(), "leeway must not be negative"),
            (
                rules.leeway <= Duration::minutes(5),
                "leeway must be at most 5 minutes",
            ),
            (
                rules.max_token_bytes >= 512,
                "max_token_bytes must be at least 512",
            ),
            (
                self.max_sessions_per_subject != Some(0),
                "max_sessions_per_subject must be at least 1",
            ),
            (
                self.max_refresh_ttl() >= self.refresh_ttl,
                "max_refresh_ttl must be at least refresh_ttl",
            ),
            (
                self.max_session_ttl() >= self.session_ttl,
                "max_session_ttl must be at least session_ttl",
            ),
            (
                self.session_limit_mode != SessionLimitMode::RefuseNew
                    || self.max_sessions_per_subject.is_some(),
                "session_limit_mode RefuseNew needs max_sessions_per_subject",
            ),
        ];
        if let Some(status_list) = &self.status_list {
            status_list.check()?;
        }
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err(ConfigError::new(*message)),
            None => Ok(()),
        }
    }
}
