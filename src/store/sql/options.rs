//! What every SQL store builder checks: the table prefix, which is pasted
//! into SQL, and the pool's limits.

use time::Duration;

use crate::error::ConfigError;

/// The table prefix when none is set.
pub(super) const DEFAULT_PREFIX: &str = "jwt_rotate_";

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

/// A `time` duration as the `std` one sqlx takes.
///
/// # Errors
/// A negative duration.
pub(super) fn std_duration(
    duration: Duration,
    name: &'static str,
) -> Result<std::time::Duration, ConfigError> {
    std::time::Duration::try_from(duration)
        .map_err(|_| ConfigError::new(format!("{name} must not be negative")))
}

/// The pool's acquire timeout, checked with its size: a pool without
/// connections, or without time to wait for one, could serve no call.
///
/// # Errors
/// No connections, or a negative or zero timeout.
pub(super) fn pool_limits(
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<std::time::Duration, ConfigError> {
    let acquire = std_duration(acquire_timeout, "acquire_timeout")?;
    if max_connections == 0 || acquire.is_zero() {
        return Err(ConfigError::new(
            "max_connections and acquire_timeout must be positive",
        ));
    }
    Ok(acquire)
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
