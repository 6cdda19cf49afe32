//! What an operator graphs and alerts on: counters and histograms through
//! the `metrics` facade (feature `metrics`). The application installs the
//! recorder (Prometheus, StatsD, ...); without one every call is a no-op,
//! and without the feature this module records nothing and compiles away.
//!
//! The names and labels are a stable interface, listed in the README's
//! *Metrics* section:
//!
//! - `jwt_rotate_refreshes_total{outcome}`: every [`refresh`] by how it
//!   ended ([`RefreshOutcome`]).
//! - `jwt_rotate_sessions_issued_total`: logins.
//! - `jwt_rotate_sessions_revoked_total{reason}`: sessions revoked, by
//!   [`RevocationReason`] (a `revoke_subject` adds its count).
//! - `jwt_rotate_store_call_duration_seconds{op}`: every store call the
//!   service makes, by operation ([`StoreOp`]); failed ones also count in
//!   `jwt_rotate_store_errors_total{op}`.
//!
//! The handles are registered once, when the service is built: install
//! the recorder before building the service. A refresh then records with
//! an atomic add or two, no lookup and no allocation.
//!
//! [`refresh`]: super::TokenService::refresh
//! [`RevocationReason`]: crate::session::RevocationReason

use super::hooks::Event;
use crate::error::Error;
use crate::store::{StoreError, StoreOp};

#[cfg(feature = "metrics")]
mod names {
    pub(super) const REFRESHES: &str = "jwt_rotate_refreshes_total";
    pub(super) const ISSUED: &str = "jwt_rotate_sessions_issued_total";
    pub(super) const REVOKED: &str = "jwt_rotate_sessions_revoked_total";
    pub(super) const STORE_CALLS: &str = "jwt_rotate_store_call_duration_seconds";
    pub(super) const STORE_ERRORS: &str = "jwt_rotate_store_errors_total";
}

/// How a refresh ended: the `outcome` label of
/// `jwt_rotate_refreshes_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefreshOutcome {
    /// Rotated to the next generation.
    Rotated,
    /// The previous generation replayed inside the grace window.
    Grace,
    /// An old token came back; the session was revoked.
    Reuse,
    /// The store failed after it may have rotated; a retry token was sent.
    InDoubt,
    /// The token or its session had expired.
    Expired,
    /// The session was revoked before.
    Revoked,
    /// The application's hook refused it.
    Denied,
    /// A store call other than the rotation failed.
    StoreError,
    /// Forged, garbled, or not a refresh token of ours.
    Invalid,
    /// Configuration, or claims a hook supplied that do not fit.
    Internal,
}

impl RefreshOutcome {
    /// Every outcome, in declaration order.
    #[cfg(any(feature = "metrics", test))]
    pub(crate) const ALL: [RefreshOutcome; 10] = [
        Self::Rotated,
        Self::Grace,
        Self::Reuse,
        Self::InDoubt,
        Self::Expired,
        Self::Revoked,
        Self::Denied,
        Self::StoreError,
        Self::Invalid,
        Self::Internal,
    ];

    /// The label value.
    #[cfg(any(feature = "metrics", test))]
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Self::Rotated => "rotated",
            Self::Grace => "grace",
            Self::Reuse => "reuse",
            Self::InDoubt => "in_doubt",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Denied => "denied",
            Self::StoreError => "store_error",
            Self::Invalid => "invalid",
            Self::Internal => "internal",
        }
    }

    /// The outcome of a refresh that failed with `error`.
    pub(super) fn of_error(error: &Error) -> Self {
        match error {
            Error::ReuseDetected => Self::Reuse,
            Error::RotationInDoubt { .. } => Self::InDoubt,
            Error::Expired | Error::SessionExpired => Self::Expired,
            Error::SessionRevoked => Self::Revoked,
            Error::Denied(_) => Self::Denied,
            Error::Store(_) => Self::StoreError,
            Error::Config(_) | Error::Claims { .. } => Self::Internal,
            _ => Self::Invalid,
        }
    }
}

/// The service's metric handles, registered once when it is built (so the
/// application installs its recorder before building the service): a
/// refresh then costs an atomic add or two, no lookup, no allocation.
/// Without the `metrics` feature, an empty value.
pub(super) struct Signals {
    #[cfg(feature = "metrics")]
    handles: recorder::Handles,
}

impl Signals {
    /// Registers every metric with the current recorder, with its unit
    /// and description.
    pub(super) fn register() -> Self {
        Self {
            #[cfg(feature = "metrics")]
            handles: recorder::Handles::register(),
        }
    }

    /// Counts a refresh by how it ended.
    pub(super) fn refreshed(&self, outcome: RefreshOutcome) {
        #[cfg(feature = "metrics")]
        self.handles.refreshes[outcome as usize].increment(1);
        #[cfg(not(feature = "metrics"))]
        let _ = outcome;
    }

    /// Counts what `event` says happened to sessions: logins and
    /// revocations.
    pub(super) fn heard(&self, event: &Event<'_>) {
        #[cfg(feature = "metrics")]
        {
            let handles = &self.handles;
            match *event {
                Event::Issued { .. } => handles.issued.increment(1),
                Event::Revoked { reason, .. } => handles.revoked(reason, 1),
                Event::SubjectRevoked { reason, count, .. } => handles.revoked(reason, count),
                Event::ReuseDetected { .. } => {
                    handles.revoked(crate::session::RevocationReason::ReuseDetected, 1)
                }
                _ => {}
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = event;
    }

    /// Runs one store call, timing it by operation.
    pub(super) async fn timed<T>(
        &self,
        op: StoreOp,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        #[cfg(feature = "metrics")]
        let started = std::time::Instant::now();
        let result = call.await;
        #[cfg(feature = "metrics")]
        self.handles
            .store_call(op, started.elapsed(), result.is_ok());
        #[cfg(not(feature = "metrics"))]
        let _ = op;
        result
    }
}

/// The calls into the `metrics` facade.
#[cfg(feature = "metrics")]
mod recorder {
    use std::time::Duration;

    use metrics::{Counter, Histogram, Unit};

    use super::{RefreshOutcome, StoreOp, names};
    use crate::session::RevocationReason;

    pub(super) struct Handles {
        /// By `RefreshOutcome`, in declaration order.
        pub(super) refreshes: [Counter; RefreshOutcome::ALL.len()],
        pub(super) issued: Counter,
        revoked: [(RevocationReason, Counter); RevocationReason::ALL.len()],
        /// By `StoreOp`, in declaration order: the time, the errors.
        store_calls: [(Histogram, Counter); StoreOp::ALL.len()],
    }

    impl Handles {
        pub(super) fn register() -> Self {
            describe();
            Self {
                refreshes: RefreshOutcome::ALL
                    .map(|o| metrics::counter!(names::REFRESHES, "outcome" => o.as_str())),
                issued: metrics::counter!(names::ISSUED),
                revoked: RevocationReason::ALL
                    .map(|r| (r, metrics::counter!(names::REVOKED, "reason" => r.as_str()))),
                store_calls: StoreOp::ALL.map(|op| {
                    (
                        metrics::histogram!(names::STORE_CALLS, "op" => op.name()),
                        metrics::counter!(names::STORE_ERRORS, "op" => op.name()),
                    )
                }),
            }
        }

        pub(super) fn revoked(&self, reason: RevocationReason, by: u64) {
            if let Some((_, counter)) = self.revoked.iter().find(|(r, _)| *r == reason) {
                counter.increment(by);
            }
        }

        pub(super) fn store_call(&self, op: StoreOp, took: Duration, succeeded: bool) {
            let (timing, errors) = &self.store_calls[op as usize];
            timing.record(took.as_secs_f64());
            if !succeeded {
                errors.increment(1);
            }
        }
    }

    fn describe() {
        metrics::describe_counter!(names::REFRESHES, "Refreshes, by how they ended.");
        metrics::describe_counter!(names::ISSUED, "Sessions started by a login.");
        metrics::describe_counter!(names::REVOKED, "Sessions revoked, by reason.");
        metrics::describe_histogram!(
            names::STORE_CALLS,
            Unit::Seconds,
            "Store calls made by the token service, by operation."
        );
        metrics::describe_counter!(
            names::STORE_ERRORS,
            "Store calls that failed, by operation."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Denied;
    use crate::store::StoreError;

    #[test]
    fn outcome_labels_are_distinct_snake_case() {
        let labels: Vec<_> = RefreshOutcome::ALL.iter().map(|o| o.as_str()).collect();
        for (i, label) in labels.iter().enumerate() {
            assert!(
                label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{label}"
            );
            assert!(!labels[..i].contains(label), "{label} twice");
        }
    }

    /// The handles are indexed by `as usize`: `ALL` must list each enum
    /// in declaration order.
    #[test]
    fn the_lists_are_in_declaration_order() {
        for (i, outcome) in RefreshOutcome::ALL.into_iter().enumerate() {
            assert_eq!(outcome as usize, i, "{outcome:?}");
        }
        for (i, op) in StoreOp::ALL.into_iter().enumerate() {
            assert_eq!(op as usize, i, "{op:?}");
        }
    }

    #[test]
    fn each_refresh_error_has_its_outcome() {
        let cases = [
            (Error::ReuseDetected, RefreshOutcome::Reuse),
            (Error::Expired, RefreshOutcome::Expired),
            (Error::SessionExpired, RefreshOutcome::Expired),
            (Error::SessionRevoked, RefreshOutcome::Revoked),
            (
                Error::Denied(Denied::new("disabled")),
                RefreshOutcome::Denied,
            ),
            (
                Error::Store(StoreError::other("down")),
                RefreshOutcome::StoreError,
            ),
            (Error::InvalidSignature, RefreshOutcome::Invalid),
            (Error::Malformed("not a JWS"), RefreshOutcome::Invalid),
            (
                Error::Claims {
                    problem: "too large",
                    source: None,
                },
                RefreshOutcome::Internal,
            ),
        ];
        for (error, outcome) in cases {
            assert_eq!(RefreshOutcome::of_error(&error), outcome, "{error:?}");
        }
    }
}
