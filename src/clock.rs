//! Time, injectable so that every expiry can be tested without sleeping.

use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::error::ConfigError;

/// `instant + by`, or an error naming `what` when the result is not a
/// representable instant (a clock near year 9999, or an enormous setting).
///
/// Every instant the crate computes from a clock reading and a setting goes
/// through this: no setting and no clock reading may make an operation
/// panic.
pub(crate) fn shifted(
    instant: OffsetDateTime,
    by: Duration,
    what: &'static str,
) -> Result<OffsetDateTime, ConfigError> {
    instant.checked_add(by).ok_or_else(|| {
        ConfigError::new(format!(
            "the clock reads {instant}, and {what} from then is not a representable instant"
        ))
    })
}

/// A source of the current time.
///
/// The service reads the clock once per operation, so one call sees one
/// instant. Tests inject a [`ManualClock`]; production uses [`SystemClock`].
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;
}

/// The operating system's wall clock (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to: for tests, yours included.
///
/// Clones share one instant, so a test keeps a clone and advances the clock
/// that the service reads.
///
/// ```
/// use jwt_rotate::{Clock, ManualClock};
/// use time::{Duration, OffsetDateTime};
///
/// let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
/// let service_side = clock.clone();
/// clock.advance(Duration::minutes(15));
/// assert_eq!(service_side.now(), OffsetDateTime::UNIX_EPOCH + Duration::minutes(15));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: OffsetDateTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock stopped at the current system time, truncated to whole
    /// seconds (JWT timestamps have one-second resolution).
    pub fn starting_now() -> Self {
        let now = OffsetDateTime::now_utc();
        Self::new(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Moves the clock by `by` (which may be negative), stopping at the
    /// first or last representable instant rather than overflowing.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = now.checked_add(by).unwrap_or(if by.is_negative() {
            PrimitiveDateTime::MIN.assume_utc()
        } else {
            PrimitiveDateTime::MAX.assume_utc()
        });
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> OffsetDateTime {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(clock.now(), OffsetDateTime::UNIX_EPOCH);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now().unix_timestamp(), 90);
        clock.advance(Duration::seconds(-30));
        assert_eq!(clock.now().unix_timestamp(), 60);
        clock.set(OffsetDateTime::UNIX_EPOCH + Duration::days(1));
        assert_eq!(clock.clone().now().unix_timestamp(), 86_400);
    }

    #[test]
    fn starting_now_has_whole_seconds() {
        let clock = ManualClock::starting_now();
        assert_eq!(clock.now().nanosecond(), 0);
        assert!((SystemClock.now() - clock.now()).abs() < Duration::minutes(1));
    }
}
