//! [`Revocations`]: what a [`Verifier`](super::Verifier) knows of revoked
//! sessions, kept only as long as their access tokens could still verify.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use time::{Duration, OffsetDateTime};

use crate::error::Error;
use crate::session::SessionId;
use crate::store::{Cursor, RevocationEvent, Revoked};

/// The revoked sessions and subjects a feed reported, each kept until
/// `access_ttl + leeway` after its revocation: by then every access token
/// issued before it has expired, so the entry can refuse nothing more and
/// memory stays bounded by the revocations of one access lifetime.
#[derive(Debug)]
pub(super) struct Revocations {
    /// Revoked sessions, with the second at which each entry is dropped.
    sessions: HashMap<SessionId, i64, BuildHasherDefault<IdHasher>>,
    /// Revoked subjects: tokens of the subject issued at or before `at`
    /// are refused, but those of the session spared.
    subjects: HashMap<String, Vec<SubjectRevocation>>,
    /// After a resync that could not learn what was missed: every token
    /// issued at or before `at` (when the missed events may have happened)
    /// is refused until `drop_at`.
    floor: Option<SubjectRevocation>,
    /// Entries in arrival order with their drop instants, to drop them
    /// without scanning. Arrival order is the feed's, so the instants
    /// nearly always rise; one that does not only delays those behind it.
    /// Two queues, so that a session's entry costs 24 bytes, not 40.
    session_queue: VecDeque<(i64, SessionId)>,
    subject_queue: VecDeque<(i64, String)>,
    /// `access_ttl + leeway`, in whole seconds rounded up.
    keep: i64,
    /// The last event applied.
    cursor: Cursor,
    /// When the feed last confirmed this view was current.
    last_synced: Option<OffsetDateTime>,
    /// `last_synced + max_staleness`: past it, every token is refused.
    stale_at: Option<OffsetDateTime>,
    max_staleness: Duration,
}

/// Session ids are 128 random bits the store drew, and lookups use the
/// `sid` of a token whose signature held: no attacker picks them, so a
/// multiply-and-rotate over their words spreads them as well as SipHash,
/// at a fraction of its cost on every request.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy)]
struct SubjectRevocation {
    /// Tokens issued at or before this second are refused.
    at: i64,
    except: Option<SessionId>,
    drop_at: i64,
}

/// What a [`Verifier`](super::Verifier)'s revocation view holds, for
/// health checks and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RevocationStatus {
    /// Revoked sessions held.
    pub sessions: usize,
    /// Subject revocations held.
    pub subjects: usize,
    /// The last event applied.
    pub cursor: Cursor,
    /// When the feed last confirmed the view was current; `None` if never.
    pub last_synced: Option<OffsetDateTime>,
}

impl Revocations {
    /// An empty view, never synced, keeping entries for `keep`, stale
    /// `max_staleness` after each sync.
    pub(super) fn new(keep: Duration, max_staleness: Duration) -> Self {
        let whole = keep.whole_seconds();
        let keep = whole.saturating_add(i64::from(keep.subsec_nanoseconds() > 0));
        Self {
            sessions: HashMap::default(),
            subjects: HashMap::new(),
            floor: None,
            session_queue: VecDeque::new(),
            subject_queue: VecDeque::new(),
            keep,
            cursor: Cursor::START,
            last_synced: None,
            stale_at: None,
            max_staleness,
        }
    }

    pub(super) fn cursor(&self) -> Cursor {
        self.cursor
    }

    pub(super) fn last_synced(&self) -> Option<OffsetDateTime> {
        self.last_synced
    }

    /// Applies one event, unless it is not after the last one applied.
    pub(super) fn apply(&mut self, event: &RevocationEvent) {
        if event.cursor <= self.cursor {
            return;
        }
        self.cursor = event.cursor;
        // Rounded up: a token issued later in the revocation's second
        // could come from before it.
        let at = event.at.unix_timestamp() + i64::from(event.at.nanosecond() > 0);
        let drop_at = at.saturating_add(self.keep);
        match &event.revoked {
            Revoked::Session(id) => {
                let entry = self.sessions.entry(*id).or_insert(drop_at);
                *entry = (*entry).max(drop_at);
                self.session_queue.push_back((drop_at, *id));
            }
            Revoked::Subject { subject, except } => {
                let except = *except;
                let revocation = SubjectRevocation {
                    at,
                    except,
                    drop_at,
                };
                self.subjects
                    .entry(subject.clone())
                    .or_default()
                    .push(revocation);
                self.subject_queue.push_back((drop_at, subject.clone()));
            }
        }
    }

    /// The feed said we missed events we cannot get back, which happened
    /// at or before `missed_until` (up to `now` when it cannot say): refuse
    /// every token issued up to then (their holders refresh, which asks
    /// the store) until those tokens would have expired, and follow on
    /// from `head`. After a retention longer than the tokens' lifetime,
    /// that refuses nothing.
    pub(super) fn resync(
        &mut self,
        head: Cursor,
        missed_until: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) {
        let missed_until = missed_until.unwrap_or(now);
        // Rounded up, as in `apply`: `iat` is in whole seconds.
        let at = missed_until.unix_timestamp() + i64::from(missed_until.nanosecond() > 0);
        let drop_at = at.saturating_add(self.keep);
        if drop_at > now.unix_timestamp() {
            self.refuse_all_until(at, drop_at);
        }
        self.cursor = head;
    }

    fn refuse_all_until(&mut self, at: i64, drop_at: i64) {
        // An earlier floor may reach further in either direction.
        let (at, drop_at) = self.floor.map_or((at, drop_at), |old| {
            (old.at.max(at), old.drop_at.max(drop_at))
        });
        self.floor = Some(SubjectRevocation {
            at,
            except: None,
            drop_at,
        });
    }

    /// The feed confirmed that nothing happened after our cursor up to
    /// `now`; entries past their time are dropped.
    pub(super) fn synced(&mut self, now: OffsetDateTime) {
        let synced = self.last_synced.map_or(now, |last| last.max(now));
        self.last_synced = Some(synced);
        // Past the last instant, nothing is stale (and nothing is valid).
        self.stale_at = synced.checked_add(self.max_staleness);
        self.prune(now);
    }

    fn prune(&mut self, now: OffsetDateTime) {
        let now = now.unix_timestamp();
        while let Some((drop_at, id)) = self.session_queue.front().copied() {
            if drop_at > now {
                break;
            }
            self.session_queue.pop_front();
            // A later entry for the same session keeps it.
            if self.sessions.get(&id) == Some(&drop_at) {
                self.sessions.remove(&id);
            }
        }
        while self.subject_queue.front().is_some_and(|(at, _)| *at <= now) {
            let Some((_, subject)) = self.subject_queue.pop_front() else {
                break;
            };
            if let Some(list) = self.subjects.get_mut(&subject) {
                list.retain(|r| r.drop_at > now);
                if list.is_empty() {
                    self.subjects.remove(&subject);
                }
            }
        }
        if self.floor.is_some_and(|floor| floor.drop_at <= now) {
            self.floor = None;
        }
        let queue = &mut self.session_queue;
        if queue.capacity() > 64 && queue.len() < queue.capacity() / 4 {
            queue.shrink_to(queue.len() * 2);
            self.sessions.shrink_to(self.sessions.len() * 2);
        }
    }

    /// Refuses a token of session `sid`, subject `sub`, issued at second
    /// `iat`, if it was revoked, or if the view is older than
    /// `max_staleness` at `now`.
    pub(super) fn check(
        &self,
        sid: &SessionId,
        sub: &str,
        iat: i64,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let fresh = match (self.last_synced, self.stale_at) {
            (Some(_), Some(stale_at)) => now <= stale_at,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !fresh {
            let last_synced = self.last_synced;
            return Err(Error::RevocationsStale { last_synced });
        }
        let refuses = |r: &SubjectRevocation| iat <= r.at && r.except.as_ref() != Some(sid);
        let revoked = self.sessions.contains_key(sid)
            || self.floor.as_ref().is_some_and(refuses)
            || (!self.subjects.is_empty()
                && self
                    .subjects
                    .get(sub)
                    .is_some_and(|list| list.iter().any(refuses)));
        if revoked {
            Err(Error::SessionRevoked)
        } else {
            Ok(())
        }
    }

    pub(super) fn status(&self) -> RevocationStatus {
        RevocationStatus {
            sessions: self.sessions.len(),
            subjects: self.subjects.len(),
            cursor: self.cursor,
            last_synced: self.last_synced,
        }
    }
}
