//! Application hooks: veto or re-claim a refresh, hear security events.

use async_trait::async_trait;

use crate::error::Denied;
use crate::session::{RevocationReason, SessionId};

/// What a refresh is about, for [`Hooks::before_refresh`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RefreshContext<'a> {
    /// The session's subject (the user).
    pub subject: &'a str,
    /// The session being refreshed.
    pub session_id: &'a SessionId,
    /// The generation of the presented refresh token.
    pub generation: u64,
}

/// A security-relevant event. Also logged to `tracing` (target
/// `jwt_rotate`), with no token or secret in any field.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A login created a session.
    Issued {
        /// Whose.
        subject: &'a str,
        /// Which.
        session_id: &'a SessionId,
    },
    /// A refresh rotated a session to `generation`.
    Refreshed {
        /// Whose.
        subject: &'a str,
        /// Which.
        session_id: &'a SessionId,
        /// The new generation.
        generation: u64,
    },
    /// The previous generation came back inside the grace window and got the
    /// current tokens again (a lost response, two tabs).
    GraceReplay {
        /// Whose.
        subject: &'a str,
        /// Which.
        session_id: &'a SessionId,
        /// The current generation, handed out again.
        generation: u64,
    },
    /// An old refresh token came back: the session has been revoked.
    ReuseDetected {
        /// Whose.
        subject: &'a str,
        /// Which.
        session_id: &'a SessionId,
        /// The generation of the token presented.
        presented: u64,
        /// The session's generation when it was presented.
        current: u64,
    },
    /// One session was revoked.
    Revoked {
        /// Which.
        session_id: &'a SessionId,
        /// Why.
        reason: RevocationReason,
    },
    /// Sessions of one subject were revoked together.
    SubjectRevoked {
        /// Whose.
        subject: &'a str,
        /// How many.
        count: u64,
        /// Why.
        reason: RevocationReason,
    },
}

/// The application's say in the session lifecycle. Every method has a
/// no-op default; implement only what you need.
///
/// ```
/// use async_trait::async_trait;
/// use jwt_rotate::{Denied, Hooks, NoClaims, RefreshContext};
///
/// struct DisabledUsers;
///
/// #[async_trait]
/// impl Hooks<NoClaims> for DisabledUsers {
///     async fn before_refresh(&self, ctx: &RefreshContext<'_>) -> Result<Option<NoClaims>, Denied> {
///         if ctx.subject == "mallory" {
///             return Err(Denied::new("user disabled"));
///         }
///         Ok(None)
///     }
/// }
/// ```
#[async_trait]
pub trait Hooks<C>: Send + Sync + 'static {
    /// Runs before every refresh whose token is genuine and unexpired,
    /// before the store is touched. `Err` refuses the refresh with
    /// [`Error::Denied`](crate::Error::Denied) and leaves the session as it
    /// was (not revoked: re-enable the user and the same token works).
    /// `Ok(Some(claims))` replaces the session's claims from this refresh on.
    ///
    /// # Errors
    /// Return [`Denied`] to refuse the refresh.
    async fn before_refresh(&self, ctx: &RefreshContext<'_>) -> Result<Option<C>, Denied> {
        let _ = ctx;
        Ok(None)
    }

    /// Hears every [`Event`], after it happened. Keep it quick: it runs
    /// inline.
    fn on_event(&self, event: &Event<'_>) {
        let _ = event;
    }
}

/// The default: no veto, no new claims, events only to `tracing`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl<C> Hooks<C> for NoHooks {}

/// Sends `event` to `tracing` and to the application's hooks.
pub(super) fn emit<C: 'static>(hooks: &dyn Hooks<C>, event: Event<'_>) {
    match event {
        Event::Issued {
            subject,
            session_id,
        } => tracing::info!(target: "jwt_rotate", subject, %session_id, "session issued"),
        Event::Refreshed {
            subject,
            session_id,
            generation,
        } => {
            tracing::debug!(target: "jwt_rotate", subject, %session_id, generation, "session refreshed")
        }
        Event::GraceReplay {
            subject,
            session_id,
            generation,
        } => tracing::info!(target: "jwt_rotate", subject, %session_id, generation, "grace replay"),
        Event::ReuseDetected {
            subject,
            session_id,
            presented,
            current,
        } => tracing::warn!(
            target: "jwt_rotate",
            subject, %session_id, presented, current,
            "refresh token reuse detected; session revoked"
        ),
        Event::Revoked { session_id, reason } => {
            tracing::info!(target: "jwt_rotate", %session_id, reason = reason.as_str(), "session revoked")
        }
        Event::SubjectRevoked {
            subject,
            count,
            reason,
        } => tracing::info!(
            target: "jwt_rotate",
            subject, count, reason = reason.as_str(),
            "subject sessions revoked"
        ),
    }
    hooks.on_event(&event);
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Heard(Mutex<Vec<String>>);

    impl Hooks<()> for Heard {
        fn on_event(&self, event: &Event<'_>) {
            self.0.lock().unwrap().push(format!("{event:?}"));
        }
    }

    #[test]
    fn emit_passes_each_event_to_the_hooks() {
        let heard = Heard::default();
        let id = SessionId::from_bytes([7; 16]);
        emit(
            &heard,
            Event::ReuseDetected {
                subject: "alice",
                session_id: &id,
                presented: 1,
                current: 3,
            },
        );
        emit(
            &heard,
            Event::Revoked {
                session_id: &id,
                reason: RevocationReason::Logout,
            },
        );
        let heard = heard.0.into_inner().unwrap();
        assert_eq!(heard.len(), 2);
        assert!(heard[0].starts_with("ReuseDetected"), "{heard:?}");
        assert!(heard[0].contains("presented: 1"), "{heard:?}");
        assert!(heard[1].contains("Logout"), "{heard:?}");
    }

    #[tokio::test]
    async fn default_hooks_allow_and_keep_claims() {
        let id = SessionId::random();
        let ctx = RefreshContext {
            subject: "alice",
            session_id: &id,
            generation: 0,
        };
        assert_eq!(Hooks::<()>::before_refresh(&NoHooks, &ctx).await, Ok(None));
    }
}
