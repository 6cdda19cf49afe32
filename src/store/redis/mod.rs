//! [`RedisStore`]: sessions in Redis, one Lua script per atomic operation.

mod builder;
mod connection;
mod error;
mod feed;
mod keys;
mod many;
mod record;
mod replay;
mod scan;
mod status;
mod wait;

pub use self::builder::RedisStoreBuilder;
pub use self::feed::ClusterFeedUnsupported;
pub use self::wait::ReplicationShortfall;

use std::fmt;
use std::ops::Range;

use async_trait::async_trait;
use redis::{RedisError, Value};
use time::OffsetDateTime;

use self::connection::Connection;
use self::error::store_error;
use self::keys::{Keys, scripts};
use self::record::instant;
use self::wait::WaitFor;
use super::{ExpectedGeneration, RefreshStore, Replay, ReplayKey, RotationUpdate};
use crate::error::{StoreError, StoreErrorKind};
use crate::session::{Revocation, SessionId, SessionRecord};

/// Keys asked of each SCAN step, and scripts sent in one pipeline.
const BATCH: usize = 500;

/// Sessions in Redis (feature `redis`): shared by every instance of a
/// service, kept across restarts (as far as the server persists), expired
/// by Redis itself.
///
/// ```no_run
/// use jwt_rotate::{Key, TokenService};
/// use jwt_rotate::store::RedisStore;
/// use time::Duration;
///
/// # async fn run() -> Result<(), jwt_rotate::Error> {
/// let store = RedisStore::builder()
///     .key_prefix("myapp:sessions")
///     .retention(Duration::hours(2))
///     .connect("redis://127.0.0.1:6379/")
///     .await?;
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256(b"an access secret of at least 32 bytes")?)
///     .refresh_key(Key::hs256(b"another secret, for refresh tokens!!")?)
///     .build(store)?;
/// # let _ = service;
/// # Ok(())
/// # }
/// ```
///
/// Needs Redis 5 or newer (the scripts read the server's clock, which
/// needs scripts replicated by effects) or Valkey; tested on Redis 7.0.
/// The store talks to one server through a
/// [`ConnectionManager`](redis::aio::ConnectionManager), which reconnects
/// by itself, or to a Redis Cluster through the `redis` crate's cluster
/// client (feature `redis-cluster`); clones of the store share it.
///
/// # Keys
///
/// - `<prefix>:s:{<session id>}`, a hash per session: the record's fields
///   (secret hashes as raw bytes, instants to the nanosecond, claims and
///   device info as JSON; never a token or a secret).
/// - `<prefix>:u:{<subject>}`, a sorted set per subject: the ids of the
///   subject's sessions, each scored with the millisecond by which its key
///   is gone for sure. Each new session drops the entries past that, so the
///   index of a subject who logs in daily for years stays small.
///
/// - `<prefix>:feed`, a stream (one server only): the revocation feed,
///   below.
///
/// The braces are Redis Cluster hash tags: a session's key lands in the
/// slot of its id, an index in the slot of its subject.
///
/// # Revocation feed
///
/// On one server the store is a [`RevocationFeed`](super::RevocationFeed):
/// the script that revokes a session (or a subject's sessions) appends the
/// event to `<prefix>:feed` in the same script, so there is no revocation
/// without its event and no event without its revocation. The stream keeps
/// the last [`feed_capacity`](RedisStoreBuilder::feed_capacity) events
/// (default 100,000, about 95 bytes each). An event's cursor is its entry
/// id `<n>-0`: the server's millisecond, or one past the last entry's when
/// that is later, so cursors only rise; each entry names the one before
/// it, so `since` answers [`CatchUp::TooOld`](super::CatchUp::TooOld) for
/// a cursor whose successors were trimmed or lost in a failover, never a
/// silent gap; each entry also bounds the instants of those before it, so
/// `TooOld` after a trim says up to when revocations were missed. `subscribe` reads with `XREAD BLOCK` on a connection of its
/// own and says [`FeedMessage::Current`](super::FeedMessage::Current) after
/// each quiet second. On a Redis Cluster a script may touch one slot only
/// and each session has its own, so no script could revoke and publish at
/// once: the store publishes nothing there, and `since` and `subscribe`
/// fail with a [`ClusterFeedUnsupported`] source.
///
/// # Expiry
///
/// A session's key expires by TTL [`retention`](RedisStoreBuilder::retention)
/// (default 1 hour) after the later of the session's expiry and the
/// key's last write, as the server's clock counts. Until then an old
/// refresh token presented again is still recognised as reuse (a token never
/// outlives its session, plus the service's leeway of at most 5 minutes),
/// and `get` and `sessions` return the record, expired or not. After that it
/// is gone with no call: the store contract lets a store drop records that
/// expired that long ago. [`purge_expired`](RefreshStore::purge_expired)
/// also deletes expired records at once: it walks this prefix's session
/// keys with `SCAN` (cost in proportion to the keys in the database, not to
/// the expired ones; a maintenance call), which a global sorted set of
/// expiries would avoid at the price of a hot key that no session's script
/// could update atomically in Cluster. Set `retention` above any clock skew
/// between the service's hosts and Redis.
///
/// # Atomicity, and Redis Cluster
///
/// Every script touches one key, so one slot: each holds in Cluster as on
/// one server.
/// - `rotate` is one script on the session's key, a compare-and-swap: of
///   any number of concurrent refreshes of one token exactly one wins. One
///   round trip (`EVALSHA`; the `redis` crate loads the script and retries
///   after `NOSCRIPT`).
/// - `revoke` is one script, keeping the first revocation (and, on one
///   server, publishing it).
/// - `create` is two scripts, in this order: add the id to the subject's
///   index, then create the record if the id is free. Each is atomic; the
///   pair is not, but the order means a session that exists is always in its
///   index. A failed create leaves an index entry that names another
///   subject's session or none, which readers check and skip. Two round
///   trips (a login, not a refresh).
/// - `revoke_subject` reads the subject's index, then, on one server, runs
///   one script on all the sessions it names and the feed; on a cluster,
///   one script per session's slot, all at once. Each checks the session's
///   subject.
///   Every session created before the call began is revoked; one created
///   while it runs may survive it (as in [`MemoryStore`](crate::MemoryStore)).
///   On a cluster each revocation is atomic and none can be undone by
///   another call, so doing them one by one gives up nothing a single
///   script would give there (no feed to publish to), and a failure
///   half-way leaves the rest to a retry.
/// - `sessions` reads the index, then the records, the same way.
/// - `purge_expired` walks the prefix with `SCAN` on every primary.
///
/// [`RedisStoreBuilder::connect_cluster`] (feature `redis-cluster`) makes
/// the store over the `redis` crate's cluster client, which follows
/// `MOVED` and `ASK`, waits out `TRYAGAIN` and `CLUSTERDOWN`, and finds a
/// new primary after a failover, all within the call timeout.
///
/// # Failover
///
/// Redis replicates asynchronously. A write the primary acknowledged and
/// lost in a failover before its replica copied it is undone:
/// - a lost rotation puts the session back one generation: the client's new
///   token then looks like reuse and revokes the session (the user logs in
///   again), and the spent token is accepted once more if presented first;
/// - a lost revocation (logout, reuse, password change) brings the session
///   back to life.
///
/// [`wait_for_replicas`](RedisStoreBuilder::wait_for_replicas) closes that
/// window for rotations and revocations: each is acknowledged only once
/// the replicas asked for have it, and one they do not confirm in time is
/// a retryable error (a rotation in doubt for the service). The README's
/// failover section says what is lost with and without it.
///
/// # Timeouts and lost answers
///
/// The `redis` crate gives up on an answer after its response timeout
/// (500 ms by default in `ConnectionManager`; set it with
/// `ConnectionManagerConfig` and [`RedisStoreBuilder::build`]). A stalled
/// server (a fork, a slow disk, a pause) may still run the script later, so
/// a timed-out rotation may have happened: the commonest lost answer. The
/// service reports it as [`Error::RotationInDoubt`](crate::Error::RotationInDoubt),
/// whose retry token gets the successor for up to `outage_tolerance`, so
/// the client is not logged out.
///
/// # Errors
///
/// Connection refused, dropped or timed out, any I/O error, and a server
/// that cannot serve now (`LOADING`, `BUSY`, `NOSCRIPT`, `TRYAGAIN`,
/// `CLUSTERDOWN`, `MASTERDOWN`, `READONLY`, `OOM`), a redirection a
/// cluster connection gave up following, and fewer replicas than waited
/// for ([`ReplicationShortfall`]) are retryable
/// ([`StoreErrorKind::Unavailable`]); a Cluster redirection (`MOVED`,
/// `ASK`) on a single-server connection is a permanent error that says
/// to use a cluster connection; a record the store cannot read is
/// [`StoreErrorKind::Corrupt`]; the [`RedisError`](redis::RedisError) is
/// the source.
#[derive(Clone)]
pub struct RedisStore {
    conn: Connection,
    keys: Keys,
    retention_ms: i64,
    wait: Option<WaitFor>,
    /// The revocation feed: on one server only.
    feed: Option<feed::Feed>,
}

impl RedisStore {
    /// A handle on the shared connection (the calls take `&mut`).
    fn conn(&self) -> Connection {
        self.conn.clone()
    }

    /// Maps a Redis error met while `doing` something, as this store's
    /// topology says.
    fn failed(&self, doing: &'static str) -> impl Fn(RedisError) -> StoreError + use<> {
        let topology = self.conn.topology();
        move |e| store_error(e, doing, topology)
    }

    /// `create`, with `status_index` in place of the record's when given.
    async fn insert(
        &self,
        session: &SessionRecord,
        status_index: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let scripts = scripts();
        if session.revoked.is_none() {
            let mut index = scripts.index.key(self.keys.subject(&session.subject));
            index
                .arg(session.id.to_string())
                .arg(instant(session.absolute_expires_at))
                .arg(self.retention_ms);
            let _: i64 = index
                .invoke_async(&mut conn)
                .await
                .map_err(self.failed("indexing a new session"))?;
        }
        let mut create = scripts.create.key(self.keys.session(&session.id));
        create.arg(self.retention_ms);
        let mut fields = record::fields(session);
        if let Some(index) = status_index {
            fields.retain(|(field, _)| *field != "sidx");
            fields.push(("sidx", index.to_string().into_bytes()));
        }
        for (field, value) in fields {
            create.arg(field).arg(value);
        }
        let created: i64 = create
            .invoke_async(&mut conn)
            .await
            .map_err(self.failed("creating a session"))?;
        match created {
            1 => Ok(()),
            _ => Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                "session id already exists",
            )),
        }
    }
}

// The connection's Debug shows the client's address and options.
impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.keys.prefix())
            .field("retention_ms", &self.retention_ms)
            .field("topology", &self.conn.topology())
            .field("wait", &self.wait)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl RefreshStore for RedisStore {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.insert(session, None).await
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let reply: Value = redis::cmd("HGETALL")
            .arg(self.keys.session(id))
            .query_async(&mut self.conn())
            .await
            .map_err(self.failed("reading a session"))?;
        record::decode(*id, reply)
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let previous = &next.previous;
        let mut rotate = scripts().rotate.key(self.keys.session(id));
        rotate
            .arg(expected.generation)
            .arg(&expected.secret_hash.as_bytes()[..])
            .arg(instant(next.refreshed_at))
            .arg(self.retention_ms)
            .arg(next.generation)
            .arg(&next.secret_hash.as_bytes()[..])
            .arg(instant(next.idle_expires_at))
            .arg(previous.generation)
            .arg(&previous.secret_hash.as_bytes()[..])
            .arg(instant(previous.rotated_at))
            .arg(&previous.wrapped_secret.as_bytes()[..])
            .arg(next.claims_json.as_deref().unwrap_or(""))
            .arg(
                next.last_seen
                    .as_ref()
                    .map(record::json)
                    .unwrap_or_default(),
            )
            .arg(next.auth.as_ref().map(record::json).unwrap_or_default());
        let doing = "rotating a session";
        let reply = self
            .conn
            .invoke(&rotate, self.wait)
            .await
            .map_err(self.failed(doing))?;
        match reply.value {
            Value::Nil => Ok(None),
            value => {
                let record = record::decode(*id, value)?;
                self.check_replicated(reply.acknowledged, doing)?;
                Ok(record)
            }
        }
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        let mut revoke = scripts().revoke.key(self.keys.session(id));
        revoke.arg(why.reason.as_str()).arg(instant(why.at));
        if let Some(feed) = &self.feed {
            revoke
                .key(&feed.stream)
                .arg(feed.capacity)
                .arg(id.to_string());
        }
        let doing = "revoking a session";
        let reply = self
            .conn
            .invoke(&revoke, self.wait)
            .await
            .map_err(self.failed(doing))?;
        let changed = matches!(reply.value, Value::Int(1));
        if changed {
            self.check_replicated(reply.acknowledged, doing)?;
        }
        Ok(changed)
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        self.revoke_indexed(subject, except, why).await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.read_indexed(subject).await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.purge_scanned(now).await
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        self.insert_proof(key, now, expires_at).await
    }

    async fn create_indexed(&self, session: &SessionRecord) -> Result<Option<u64>, StoreError> {
        let index = self.next_status_index().await?;
        self.insert(session, Some(index)).await?;
        self.record_status_index(&session.id, index).await?;
        Ok(Some(index))
    }

    async fn revoked_status_indexes(&self, range: Range<u64>) -> Result<Vec<u64>, StoreError> {
        self.revoked_in(range).await
    }
}
