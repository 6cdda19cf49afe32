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
/// `jwt_rotate`), with no token or secret in any field; the subject (a user
/// identifier) only at `DEBUG`, the `INFO` and `WARN` lines name the
/// session.
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
    /// The store failed while rotating `generation`, after the rotation
    /// may have been written: the client was handed a token to retry with
    /// ([`Error::RotationInDoubt`](crate::Error::RotationInDoubt)). Many of
    /// these at once mean the store is failing under the service.
    RotationInDoubt {
        /// Whose.
        subject: &'a str,
        /// Which.
        session_id: &'a SessionId,
        /// The generation of the presented token.
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
///
/// The subject is a user identifier, personal data in most places: it goes
/// only into a `DEBUG` line of its own, while the `INFO`/`WARN` line names
/// the session. The hooks get the whole event.
pub(super) fn emit<C: 'static>(hooks: &dyn Hooks<C>, event: Event<'_>) {
    const T: &str = "jwt_rotate";
    match event {
        Event::Issued { session_id, .. } => {
            tracing::info!(target: T, %session_id, "session issued")
        }
        Event::Refreshed {
            session_id,
            generation,
            ..
        } => tracing::debug!(target: T, %session_id, generation, "session refreshed"),
        Event::GraceReplay {
            session_id,
            generation,
            ..
        } => tracing::info!(target: T, %session_id, generation, "grace replay"),
        Event::RotationInDoubt {
            session_id,
            generation,
            ..
        } => tracing::warn!(
            target: T,
            %session_id, generation,
            "rotation in doubt: the store failed after it may have written it"
        ),
        Event::ReuseDetected {
            session_id,
            presented,
            current,
            ..
        } => tracing::warn!(
            target: T,
            %session_id, presented, current,
            "refresh token reuse detected; session revoked"
        ),
        Event::Revoked { session_id, reason } => {
            tracing::info!(target: T, %session_id, reason = reason.as_str(), "session revoked")
        }
        Event::SubjectRevoked { count, reason, .. } => tracing::info!(
            target: T,
            count, reason = reason.as_str(),
            "subject sessions revoked"
        ),
    }
    if let Some(subject) = event.subject() {
        tracing::debug!(target: T, subject, "the subject of the event above");
    }
    hooks.on_event(&event);
}

impl Event<'_> {
    /// The subject the event is about, when it names one.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Event::Issued { subject, .. }
            | Event::Refreshed { subject, .. }
            | Event::GraceReplay { subject, .. }
            | Event::RotationInDoubt { subject, .. }
            | Event::ReuseDetected { subject, .. }
            | Event::SubjectRevoked { subject, .. } => Some(subject),
            Event::Revoked { .. } => None,
        }
    }
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

    /// What `emit` logs at `level` and above.
    fn logged_at(level: tracing::Level, event: Event<'_>) -> String {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || emit::<()>(&NoHooks, event));
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn the_subject_is_logged_only_at_debug() {
        let id = SessionId::from_bytes([7; 16]);
        let issued = || Event::Issued {
            subject: "alice@example.com",
            session_id: &id,
        };
        let info = logged_at(tracing::Level::INFO, issued());
        assert!(info.contains("session issued"), "{info}");
        assert!(info.contains(&id.to_string()), "{info}");
        assert!(!info.contains("alice@example.com"), "{info}");
        let debug = logged_at(tracing::Level::DEBUG, issued());
        assert!(debug.contains("alice@example.com"), "{debug}");
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
