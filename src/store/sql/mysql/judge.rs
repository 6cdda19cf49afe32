//! MySQL's and MariaDB's error numbers, judged: which a retry may get past.

use crate::error::StoreErrorKind;
use crate::store::sql::error::Judged;

/// What a MySQL or MariaDB error number means for the caller. Retryable
/// only where a retry may get past it by itself: the same statement again,
/// or on a new connection; everything else the same request meets again.
pub(super) fn judge_number(number: u16) -> Judged {
    let unavailable = Judged::kind(StoreErrorKind::Unavailable);
    match number {
        // Deadlock: the transaction was rolled back, and a new try runs
        // against the winner's row.
        1213 => unavailable.hint("deadlock"),
        // `innodb_lock_wait_timeout`, or NOWAIT: the holder of the lock
        // may be done by the retry.
        1205 | 3572 => unavailable.hint("a lock wait timed out"),
        // MySQL's `max_execution_time`, MariaDB's `max_statement_time`,
        // `KILL QUERY`.
        3024 | 1969 | 1317 => unavailable.hint("the statement timed out or was interrupted"),
        // Out of resources for now: connections, memory, disk, concurrent
        // transactions.
        1040 | 1203 | 1037 | 1038 | 1041 | 1021 | 1114 | 1637 => unavailable,
        // The server is shutting down, killed this connection, or closed
        // it for idling, or the line failed: a new one may work.
        1053 | 1927 | 4031 | 1158 | 1159 | 1160 | 1161 | 2006 | 2013 => Judged::lost(),
        // A read-only server (a replica, `read_only`, InnoDB read-only):
        // permanent, so it is seen; closed, as a new connection may reach
        // the primary once the name follows a failover.
        1290 | 1792 | 1836 | 1874 => Judged::kind(StoreErrorKind::Other)
            .hint("the server is read-only (a replica, or read_only)")
            .unfit(),
        // Packets out of order, an unknown command: a bug, met again, and
        // the connection's state is unknown.
        1156 | 1047 => Judged::kind(StoreErrorKind::Other).unfit(),
        // The table, or the rotate procedure, is not there yet.
        1146 | 1305 => Judged::missing_table(),
        _ => Judged::kind(StoreErrorKind::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::error::Link;

    #[test]
    fn only_errors_a_retry_may_get_past_are_retryable() {
        let transient = [
            1213, 1205, 3572, 3024, 1969, 1317, 1040, 1203, 1037, 1038, 1041, 1021, 1114, 1637,
            1053, 1927, 4031, 1158, 1159, 1160, 1161, 2006, 2013,
        ];
        for number in transient {
            assert_eq!(
                judge_number(number).kind,
                StoreErrorKind::Unavailable,
                "{number}"
            );
        }
        // A syntax error, a value too long, a check constraint, a bad
        // login, an unknown database, a read-only server, a protocol bug.
        for number in [1064, 1406, 3819, 4025, 1045, 1049, 1290, 1792, 1836, 1156] {
            assert_eq!(judge_number(number).kind, StoreErrorKind::Other, "{number}");
        }
        assert_eq!(judge_number(1205).hint, Some("a lock wait timed out"));
        assert_eq!(judge_number(1213).hint, Some("deadlock"));
        assert!(
            judge_number(1290)
                .hint
                .is_some_and(|h| h.contains("read-only"))
        );
    }

    #[test]
    fn a_lost_connection_is_told_from_an_unfit_one() {
        for number in [1053, 1927, 4031, 2013] {
            assert_eq!(judge_number(number).link, Link::Lost, "{number}");
        }
        for number in [1290, 1836, 1156] {
            assert_eq!(judge_number(number).link, Link::Unfit, "{number}");
        }
        for number in [1213, 1205, 1064] {
            assert_eq!(judge_number(number).link, Link::Sound, "{number}");
        }
    }

    #[test]
    fn a_missing_table_or_procedure_says_to_migrate() {
        for number in [1146, 1305] {
            let hint = judge_number(number).hint.expect("a hint");
            assert!(hint.contains("run `migrate()`"), "{number}: {hint}");
        }
    }
}
