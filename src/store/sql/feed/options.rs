//! The revocation feed's settings and statements, and the builder's
//! setters for them.

use time::Duration;

use super::super::options::positive;
use super::super::queries::{shared, sql};
use super::super::{Dialect, SqlStore, SqlStoreBuilder};
use crate::error::ConfigError;
use sqlx::SqlStr;

/// How often a polling subscription reads the table when none is set.
const DEFAULT_POLL_INTERVAL: Duration = Duration::milliseconds(100);

/// How long entries are kept when no retention is set.
const DEFAULT_RETENTION: Duration = Duration::DAY;

/// The builder's feed settings, as set.
#[derive(Debug, Clone)]
pub(in crate::store::sql) struct FeedOptions {
    poll_interval: Duration,
    retention: Duration,
}

impl Default for FeedOptions {
    fn default() -> Self {
        Self {
            poll_interval: DEFAULT_POLL_INTERVAL,
            retention: DEFAULT_RETENTION,
        }
    }
}

/// Checked feed settings.
#[derive(Debug, Clone, Copy)]
pub(in crate::store::sql) struct Checked {
    poll_interval: std::time::Duration,
    retention: Duration,
}

impl Default for Checked {
    fn default() -> Self {
        Self {
            poll_interval: std::time::Duration::from_millis(100),
            retention: DEFAULT_RETENTION,
        }
    }
}

impl FeedOptions {
    /// These settings, checked.
    ///
    /// # Errors
    /// A poll interval not positive or over a day; a retention not
    /// positive.
    pub(in crate::store::sql) fn check(&self) -> Result<Checked, ConfigError> {
        let poll_interval = positive(self.poll_interval, "feed_poll_interval")?;
        if !self.retention.is_positive() {
            return Err(ConfigError::new("feed_retention must be positive"));
        }
        Ok(Checked {
            poll_interval,
            retention: self.retention,
        })
    }
}

impl<D: Dialect> SqlStoreBuilder<D> {
    /// How often a subscription to the store's
    /// [`RevocationFeed`](crate::store::RevocationFeed) reads the
    /// revocations table, with SQLite and MySQL: a revocation reaches a
    /// following [`Verifier`](crate::Verifier) within about this long and
    /// a read, and each poll is one indexed read per subscriber. Default
    /// 100 ms; positive, at most a day. PostgreSQL's subscriptions are
    /// woken by `NOTIFY` instead and never poll.
    pub fn feed_poll_interval(mut self, interval: Duration) -> Self {
        self.feed.poll_interval = interval;
        self
    }

    /// How long the revocation feed keeps an entry: `purge_expired(now)`
    /// trims those revoked at or before `now - retention`, and a follower
    /// whose cursor is older than what is kept must resync (`since` says
    /// `TooOld`, with the latest instant trimmed): a
    /// [`Verifier`](crate::Verifier) then refuses the tokens issued up to
    /// that instant, for an access token's lifetime after it. Default one
    /// day; positive. Keep it well above your access tokens' lifetime and
    /// the longest a resource server may be away: then a restarted
    /// verifier refuses nothing still valid.
    pub fn feed_retention(mut self, retention: Duration) -> Self {
        self.feed.retention = retention;
        self
    }
}

/// The feed's statements for one table prefix, and its settings.
#[derive(Debug)]
pub(in crate::store::sql) struct Feed {
    pub(super) poll_interval: std::time::Duration,
    pub(super) retention: Duration,
    /// Takes the next id, locking the head row until the commit.
    pub(super) take_id: SqlStr,
    /// Writes the entry with the id just taken.
    pub(super) insert: SqlStr,
    /// The dialect's wake-up for subscribers, if any.
    pub(super) notify: Option<SqlStr>,
    /// The head, the last id trimmed, the latest instant trimmed, and the
    /// entries after `$1`.
    pub(super) since: SqlStr,
    /// Locks the head row for trimming.
    pub(super) lock: SqlStr,
    /// Records the last id revoked at or before `$1` as trimmed.
    pub(super) mark: SqlStr,
    /// Records the latest instant of the entries about to be trimmed.
    pub(super) mark_at: SqlStr,
    /// Deletes the entries up to the last id trimmed.
    pub(super) trim: SqlStr,
    /// PostgreSQL's channel.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(super) channel: String,
}

impl Feed {
    /// `D`'s statements for tables named with `prefix` (which passed
    /// `check_prefix`), with `settings`.
    pub(in crate::store::sql) fn new<D: Dialect>(prefix: &str, settings: Checked) -> Self {
        let (r, h) = (
            format!("{prefix}revocations"),
            format!("{prefix}revocations_head"),
        );
        Self {
            poll_interval: settings.poll_interval,
            retention: settings.retention,
            take_id: shared::<D>(format!("UPDATE {h} SET head = head + 1 WHERE id = 1")),
            insert: shared::<D>(format!(
                "INSERT INTO {r} (id, session_id, subject, except_id, at) \
                 SELECT head, $1, $2, $3, $4 FROM {h} WHERE id = 1"
            )),
            notify: D::notify_statement(prefix).map(sql),
            // A LEFT JOIN, so that the head row comes back even with no
            // entry after the cursor; one statement, so one snapshot.
            since: shared::<D>(format!(
                "SELECT h.head, h.trimmed, h.trimmed_at, r.id, r.session_id, r.subject, r.except_id, r.at \
                 FROM {h} h LEFT JOIN {r} r ON r.id > $1 WHERE h.id = 1 ORDER BY r.id"
            )),
            lock: shared::<D>(format!("UPDATE {h} SET trimmed = trimmed WHERE id = 1")),
            // Under the head lock, and with every id up to `trimmed`
            // already deleted, the largest old id is past `trimmed`.
            mark: shared::<D>(format!(
                "UPDATE {h} SET trimmed = \
                 COALESCE((SELECT MAX(id) FROM {r} WHERE at <= $1), trimmed) WHERE id = 1"
            )),
            // A maximum, not the last entry's instant: instants come from
            // the revokers' clocks, which need not follow the ids' order.
            // Unqualified `trimmed` and `trimmed_at` are the head row's,
            // `id` and `at` the entries'.
            mark_at: shared::<D>(format!(
                "UPDATE {h} SET trimmed_at = COALESCE((SELECT MAX(at) FROM {r} \
                 WHERE id <= trimmed AND (trimmed_at IS NULL OR at > trimmed_at)), trimmed_at) \
                 WHERE id = 1"
            )),
            trim: shared::<D>(format!(
                "DELETE FROM {r} WHERE id <= (SELECT trimmed FROM {h} WHERE id = 1)"
            )),
            channel: r,
        }
    }
}

impl<D: Dialect> SqlStore<D> {
    /// This store with the feed's settings `settings`.
    pub(in crate::store::sql) fn with_feed(mut self, settings: Checked) -> Self {
        self.feed = std::sync::Arc::new(Feed::new::<D>(&self.queries.prefix, settings));
        self
    }
}
