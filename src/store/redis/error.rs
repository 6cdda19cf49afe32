//! Redis errors as [`StoreError`]s: which ones a retry may cure.

use redis::{ErrorKind, RedisError, ServerErrorKind};

use super::connection::Topology;
use crate::error::{StoreError, StoreErrorKind};

/// The error code our scripts give a record they cannot read.
const CORRUPT: &str = "CORRUPT";

/// Server error codes that the `redis` crate has no kind for, after which the
/// same call may succeed: a script running past its time limit (`BUSY`), a
/// full server (`OOM`) that eviction or expiry may relieve.
const RETRYABLE_CODES: [&str; 2] = ["BUSY", "OOM"];

/// `err`, met while `doing` something on a store of `topology`, as a store
/// error that keeps it as its source.
pub(super) fn store_error(err: RedisError, doing: &'static str, topology: Topology) -> StoreError {
    if redirected(&err) && topology == Topology::Single {
        return StoreError::other(format!(
            "{doing}: a Redis Cluster node redirected the call (MOVED/ASK), which a \
             single-server connection cannot follow; connect to a cluster with a \
             cluster connection"
        ))
        .with_source(err);
    }
    let kind = kind_of(&err);
    StoreError::new(kind, doing).with_source(err)
}

/// A Cluster redirection reached us. On one server's connection, which
/// cannot follow it, every retry meets the same answer: a configuration
/// mistake, not an outage. A cluster connection follows redirections by
/// itself and gives up only when the slot keeps moving (resharding or a
/// failover under way): retryable, as [`kind_of`] says.
fn redirected(err: &RedisError) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Server(ServerErrorKind::Moved | ServerErrorKind::Ask)
    ) || server_code(err).is_some_and(|c| c == "MOVED" || c == "ASK")
}

/// Retryable: the connection (refused, dropped, timed out, any I/O error)
/// and a server that cannot serve now (loading, busy, a script missing
/// after a restart, failover, a cluster that is down or resharding, a
/// redirection a cluster connection gave up following, a cluster node the
/// client has no connection to yet). A malformed record is `Corrupt`;
/// anything else (a wrong password, a bad reply, `CROSSSLOT`) is `Other`.
fn kind_of(err: &RedisError) -> StoreErrorKind {
    let code = server_code(err);
    if code.as_deref() == Some(CORRUPT) {
        return StoreErrorKind::Corrupt;
    }
    if err.is_io_error()
        || err.is_timeout()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
    {
        return StoreErrorKind::Unavailable;
    }
    let retryable_server = matches!(
        err.kind(),
        ErrorKind::Server(
            ServerErrorKind::Moved
                | ServerErrorKind::Ask
                | ServerErrorKind::BusyLoading
                | ServerErrorKind::NoScript
                | ServerErrorKind::TryAgain
                | ServerErrorKind::ClusterDown
                | ServerErrorKind::MasterDown
                | ServerErrorKind::ReadOnly
        ) | ErrorKind::ClusterConnectionNotFound
    );
    if retryable_server
        || code.is_some_and(|c| RETRYABLE_CODES.contains(&c.as_str()) || c == "MOVED" || c == "ASK")
    {
        return StoreErrorKind::Unavailable;
    }
    StoreErrorKind::Other
}

/// The server's error code, also for an error inside a pipeline (where the
/// crate reports no code for codes it has no kind for).
fn server_code(err: &RedisError) -> Option<String> {
    if let Some(code) = err.code() {
        return Some(code.to_owned());
    }
    let errors = err.clone().into_server_errors()?;
    errors.first().map(|(_, e)| e.code().to_owned())
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::io;

    use super::*;
    use crate::store::redis::connection::Topology::{Cluster, Single};

    fn server(code: &str) -> RedisError {
        redis::make_extension_error(code.to_owned(), Some("from the server".to_owned()))
    }

    fn known(kind: ServerErrorKind) -> RedisError {
        RedisError::from((ErrorKind::Server(kind), "from the server"))
    }

    #[test]
    fn connection_failures_are_retryable() {
        for io_kind in [
            io::ErrorKind::ConnectionRefused,
            io::ErrorKind::TimedOut,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::UnexpectedEof,
        ] {
            let err = store_error(io::Error::from(io_kind).into(), "rotating", Single);
            assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{io_kind:?}");
        }
    }

    #[test]
    fn a_server_that_cannot_serve_now_is_retryable() {
        let known_kinds = [
            ServerErrorKind::BusyLoading,
            ServerErrorKind::NoScript,
            ServerErrorKind::TryAgain,
            ServerErrorKind::ClusterDown,
            ServerErrorKind::MasterDown,
            ServerErrorKind::ReadOnly,
        ];
        for kind in known_kinds {
            let err = store_error(known(kind), "rotating", Single);
            assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{kind:?}");
        }
        for code in ["BUSY", "OOM"] {
            let err = store_error(server(code), "rotating", Single);
            assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{code}");
        }
    }

    #[test]
    fn our_corrupt_code_is_corrupt_and_the_rest_is_other() {
        let err = store_error(server("CORRUPT"), "rotating", Single);
        assert_eq!(err.kind(), StoreErrorKind::Corrupt);
        for err in [
            known(ServerErrorKind::ResponseError),
            known(ServerErrorKind::NoPerm),
            server("WRONGTYPE"),
            RedisError::from((ErrorKind::AuthenticationFailed, "bad password")),
        ] {
            let kind = store_error(err.clone(), "rotating", Single).kind();
            assert_eq!(kind, StoreErrorKind::Other, "{err:?}");
        }
    }

    #[test]
    fn a_cluster_redirection_is_a_permanent_error_that_says_what_to_do() {
        for err in [
            known(ServerErrorKind::Moved),
            known(ServerErrorKind::Ask),
            server("MOVED"),
        ] {
            let store = store_error(err.clone(), "rotating", Single);
            assert!(!store.is_retryable(), "{err:?}");
            assert_eq!(store.kind(), StoreErrorKind::Other);
            assert!(store.to_string().contains("cluster connection"), "{store}");
            assert!(store.source().is_some());
        }
    }

    #[test]
    fn on_a_cluster_every_error_a_failover_or_resharding_gives_is_retryable() {
        let known_kinds = [
            ServerErrorKind::Moved,
            ServerErrorKind::Ask,
            ServerErrorKind::TryAgain,
            ServerErrorKind::ClusterDown,
            ServerErrorKind::MasterDown,
            ServerErrorKind::ReadOnly,
            ServerErrorKind::BusyLoading,
        ];
        for kind in known_kinds {
            let err = store_error(known(kind), "rotating", Cluster);
            assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{kind:?}");
            assert!(err.source().is_some());
        }
        for code in ["MOVED", "ASK", "BUSY", "OOM"] {
            let err = store_error(server(code), "rotating", Cluster);
            assert_eq!(err.kind(), StoreErrorKind::Unavailable, "{code}");
        }
        let lost = RedisError::from((ErrorKind::ClusterConnectionNotFound, "no connection"));
        assert!(store_error(lost, "rotating", Cluster).is_retryable());
        // A script touching two slots is our bug: no retry cures it.
        let cross = known(ServerErrorKind::CrossSlot);
        assert_eq!(
            store_error(cross, "rotating", Cluster).kind(),
            StoreErrorKind::Other
        );
    }

    #[test]
    fn the_redis_error_is_kept_as_the_source() {
        let err = store_error(server("BUSY"), "revoking a session", Single);
        assert_eq!(err.to_string(), "revoking a session");
        let source = err.source().expect("the redis error is the source");
        let redis = source.downcast_ref::<RedisError>().expect("a RedisError");
        assert_eq!(redis.code(), Some("BUSY"));
    }
}
