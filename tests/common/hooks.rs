//! Hooks that write down what the service tells them.

use std::sync::{Arc, Mutex};

use jwt_rotate::{Event, Hooks, ManualClock, MemoryStore, TokenService};

/// Hooks that write every event down as one line, e.g.
/// `refreshed alice <sid> 1` or `revoked <sid> logout`.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    /// Every event so far, oldest first.
    pub(crate) fn events(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// The `revoked` and `subject_revoked` events so far, oldest first.
    pub(crate) fn revocations(&self) -> Vec<String> {
        let mut events = self.events();
        events.retain(|e| e.starts_with("revoked ") || e.starts_with("subject_revoked "));
        events
    }
}

impl<C> Hooks<C> for Recorder {
    fn on_event(&self, event: &Event<'_>) {
        let line = match event {
            Event::Issued {
                subject,
                session_id,
            } => format!("issued {subject} {session_id}"),
            Event::Refreshed {
                subject,
                session_id,
                generation,
            } => format!("refreshed {subject} {session_id} {generation}"),
            Event::GraceReplay {
                subject,
                session_id,
                generation,
            } => format!("grace_replay {subject} {session_id} {generation}"),
            Event::ReuseDetected {
                subject,
                session_id,
                presented,
                current,
            } => format!("reuse_detected {subject} {session_id} {presented} {current}"),
            Event::Revoked { session_id, reason } => {
                format!("revoked {session_id} {}", reason.as_str())
            }
            Event::SubjectRevoked {
                subject,
                count,
                reason,
            } => format!("subject_revoked {subject} {count} {}", reason.as_str()),
            other => format!("{other:?}"),
        };
        self.0.lock().unwrap().push(line);
    }
}

/// A service like [`super::service`] whose events go to a [`Recorder`].
pub(crate) fn recorded() -> (TokenService<MemoryStore>, ManualClock, Recorder) {
    let clock = ManualClock::new(super::start());
    let recorder = Recorder::default();
    let service = super::builder(&clock)
        .hooks(recorder.clone())
        .build(MemoryStore::new())
        .unwrap();
    (service, clock, recorder)
}
