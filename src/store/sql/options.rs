//! What every SQL store builder checks: the table prefix, which is pasted
//! into SQL, the URL's scheme, the pool's limits and the call timeout.

use time::Duration;

use crate::error::ConfigError;

/// The table prefix when none is set.
pub(super) const DEFAULT_PREFIX: &str = "jwt_rotate_";

/// The deadline of every store call when none is set.
pub(super) const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The longest prefix accepted: PostgreSQL truncates identifiers past 63
/// bytes, and the longest name derived from it adds 16.
const MAX_PREFIX: usize = 40;

/// A valid table prefix: lowercase ASCII letters, digits and `_`, not
/// starting with a digit, at most 40 bytes; empty is allowed.
///
/// It is pasted into SQL as part of identifiers, so nothing else may pass.
///
/// # Errors
/// Any other prefix.
pub(super) fn check_prefix(prefix: &str) -> Result<(), ConfigError> {
    let valid_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    if prefix.len() > MAX_PREFIX {
        return Err(ConfigError::new("table prefix longer than 40 bytes"));
    }
    if !prefix.chars().all(valid_char) || prefix.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(ConfigError::new(
            "table prefix must be lowercase ASCII letters, digits and `_`, not starting with a digit",
        ));
    }
    Ok(())
}

/// The longest timeout accepted: sqlx adds its timeouts to the current
/// instant, which panics past the clock's range, and no caller waits a
/// day for an answer.
pub(super) const MAX_TIMEOUT: Duration = Duration::DAY;

/// A `time` duration as the `std` one sqlx takes.
///
/// # Errors
/// A negative duration, or one over a day ([`MAX_TIMEOUT`]).
pub(super) fn std_duration(
    duration: Duration,
    name: &'static str,
) -> Result<std::time::Duration, ConfigError> {
    if duration > MAX_TIMEOUT {
        return Err(ConfigError::new(format!("{name} must be at most a day")));
    }
    std::time::Duration::try_from(duration)
        .map_err(|_| ConfigError::new(format!("{name} must not be negative")))
}

/// `url`, checked to be of one of `schemes` (e.g. `["postgres",
/// "postgresql"]`): sqlx reads some URLs of other databases as its own
/// (SQLite takes any string for a file name), so a store would connect to
/// something else than meant, or fail later and less clearly.
///
/// # Errors
/// A URL of another scheme, or of none.
pub(super) fn check_scheme(url: &str, schemes: &[&str], example: &str) -> Result<(), ConfigError> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme);
    match scheme {
        Some(s) if schemes.iter().any(|want| s.eq_ignore_ascii_case(want)) => Ok(()),
        _ => Err(ConfigError::new(format!(
            "expected a URL such as `{example}` (scheme {})",
            schemes.join(" or ")
        ))),
    }
}

/// A timeout that must be positive: `name` set to zero or less could let
/// no call through.
///
/// # Errors
/// A negative or zero duration, or one over a day.
pub(super) fn positive(
    duration: Duration,
    name: &'static str,
) -> Result<std::time::Duration, ConfigError> {
    match std_duration(duration, name)? {
        d if d.is_zero() => Err(ConfigError::new(format!("{name} must be positive"))),
        d => Ok(d),
    }
}

/// The pool's acquire timeout, checked with its size: a pool without
/// connections, or without time to wait for one, could serve no call.
///
/// # Errors
/// No connections, or a negative, zero or over-a-day timeout.
pub(super) fn pool_limits(
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<std::time::Duration, ConfigError> {
    if max_connections == 0 {
        return Err(ConfigError::new("max_connections must be positive"));
    }
    positive(acquire_timeout, "acquire_timeout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_that_could_change_the_sql_are_refused() {
        for good in ["", "jwt_rotate_", "app1_", "_x", "a"] {
            assert!(check_prefix(good).is_ok(), "{good:?}");
        }
        let long = "a".repeat(MAX_PREFIX + 1);
        for bad in [
            "Jwt_", "1app_", "app-", "app.", "a b", "x;drop", "é_", "a\"", &long,
        ] {
            assert!(check_prefix(bad).is_err(), "{bad:?}");
        }
        assert!(check_prefix(&"a".repeat(MAX_PREFIX)).is_ok());
    }

    #[test]
    fn urls_of_another_database_are_refused() {
        let pg = ["postgres", "postgresql"];
        for good in [
            "postgres://h/db",
            "POSTGRESQL://h",
            "postgres:///db?host=/run",
        ] {
            assert!(check_scheme(good, &pg, "postgres://h/db").is_ok(), "{good}");
        }
        for bad in ["mysql://h/db", "sqlite://x.db", "h/db", "", "postgresx://h"] {
            let err = check_scheme(bad, &pg, "postgres://h/db").unwrap_err();
            assert!(err.to_string().contains("postgres://h/db"), "{bad}: {err}");
        }
    }

    #[test]
    fn timeouts_must_be_positive() {
        assert!(positive(Duration::milliseconds(1), "call_timeout").is_ok());
        assert!(positive(MAX_TIMEOUT, "call_timeout").is_ok());
        let bad = [
            Duration::ZERO,
            Duration::seconds(-1),
            Duration::MIN,
            MAX_TIMEOUT + Duration::NANOSECOND,
            Duration::MAX,
        ];
        for bad in bad {
            assert!(positive(bad, "call_timeout").is_err(), "{bad}");
        }
        assert!(std_duration(Duration::ZERO, "busy_timeout").is_ok());
    }

    #[test]
    fn a_pool_needs_connections_and_time_to_get_one() {
        assert!(pool_limits(1, Duration::milliseconds(1)).is_ok());
        assert!(pool_limits(0, Duration::seconds(5)).is_err());
        assert!(pool_limits(4, Duration::ZERO).is_err());
        let negative = pool_limits(4, Duration::seconds(-1)).unwrap_err();
        assert!(
            negative
                .to_string()
                .contains("acquire_timeout must not be negative")
        );
    }
}
