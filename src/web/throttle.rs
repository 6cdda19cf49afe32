//! [`LoginThrottle`]: password-guess throttling, a token bucket per
//! username and one per client address, on the service's clock.
//!
//! Every password check (a login, the current password of a password
//! change) takes a token from both buckets before any hashing; a check that
//! proves the password right gives it back. So the buckets count wrong
//! guesses and checks still running, and many guesses sent at once cannot
//! slip past the count. Without a token in either bucket the request is
//! answered 429 at once, without hashing. A secret that is no user's (an
//! OAuth client's) is charged to the address's bucket alone
//! ([`LoginThrottle::try_take_address`]).
//!
//! The buckets live in this process's memory: each instance of a server
//! counts on its own, and a restart forgets. Behind a load balancer, an
//! attacker gets each instance's budget (put a shared rate limit in front
//! for a hard bound across instances).

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

use crate::clock::Clock;
use crate::error::{ConfigError, Error};

/// A bucket's rate: `burst` guesses at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rate {
    /// Tokens in a full bucket (at least 1).
    pub burst: u32,
    /// Time to earn one token back (positive).
    pub every: Duration,
}

/// Where guesses are counted, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Per username, whoever tries it. Default: 10, then 1 a minute.
    pub per_user: Rate,
    /// Per client address (an IPv6 client per /64, what one host usually
    /// gets). Default: 30, then 1 every 10 seconds.
    pub per_address: Rate,
    /// Usernames (and, apart, addresses) tracked at most; past it, new
    /// ones share one bucket until tracked ones have refilled and are
    /// dropped. Default: 10,000.
    pub max_tracked: usize,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            per_user: Rate {
                burst: 10,
                every: Duration::minutes(1),
            },
            per_address: Rate {
                burst: 30,
                every: Duration::seconds(10),
            },
            max_tracked: 10_000,
        }
    }
}

impl ThrottleLimits {
    /// Whether every setting is usable: a bucket holds at least one token
    /// and refills, and at least one key is tracked.
    pub fn is_valid(&self) -> bool {
        [self.per_user, self.per_address]
            .iter()
            .all(|rate| rate.burst >= 1 && rate.every.is_positive())
            && self.max_tracked >= 1
    }
}

/// A refused guess: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("too many password guesses; retry later")]
pub struct Throttled {
    /// Until a token is back in every bucket the guess needs.
    pub retry_after: Duration,
}

/// The buckets of every username and client address, in this process's
/// memory (see the module's docs): share one per server.
///
/// ```
/// use std::sync::Arc;
/// use jwt_rotate::web::{LoginThrottle, ThrottleLimits};
/// use jwt_rotate::ManualClock;
///
/// let throttle = LoginThrottle::new(ThrottleLimits::default(), Arc::new(ManualClock::starting_now()))?;
/// let ticket = throttle.try_take("alice", None)?; // before hashing
/// ticket.refund(); // the password was right: no guess is charged
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LoginThrottle {
    clock: Arc<dyn Clock>,
    tables: Mutex<(Table<String>, Table<AddressKey>)>,
}

/// A guess counted in both buckets; [`Ticket::refund`] when the password
/// proved right (or was never checked), drop it to keep the charge.
#[must_use = "dropping the ticket keeps the guess charged"]
pub struct Ticket<'a> {
    throttle: &'a LoginThrottle,
    /// The user bucket charged (`Some(None)`: the shared overflow one), or
    /// `None` when only the address was ([`LoginThrottle::try_take_address`]).
    user: Option<Option<String>>,
    address: Option<AddressKey>,
}

impl fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginThrottle").finish_non_exhaustive()
    }
}

impl fmt::Debug for Ticket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket").finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// Full buckets for everyone, on `clock`.
    ///
    /// # Errors
    /// [`Error::Config`] unless every bucket holds at least one token and
    /// refills, and at least one key is tracked
    /// ([`ThrottleLimits::is_valid`]).
    pub fn new(limits: ThrottleLimits, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        if !limits.is_valid() {
            return Err(ConfigError::new(
                "throttle: bursts of 1 or more, positive intervals, max_tracked >= 1",
            )
            .into());
        }
        let now = clock.now();
        let users = Table::new(limits.per_user, limits.max_tracked, now);
        let addresses = Table::new(limits.per_address, limits.max_tracked, now);
        Ok(Self {
            clock,
            tables: Mutex::new((users, addresses)),
        })
    }

    /// Takes a token for one guess at `user`'s password from `client`
    /// (unknown: one shared bucket), from both buckets or from neither.
    ///
    /// # Errors
    /// [`Throttled`] when either bucket is empty.
    pub fn try_take(&self, user: &str, client: Option<IpAddr>) -> Result<Ticket<'_>, Throttled> {
        let now = self.clock.now();
        let address = AddressKey::of(client);
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let (users, addresses) = &mut *tables;
        let user_key = users.track(user, now);
        let address_key = addresses.track(&address, now);
        let wait = users
            .wait(user_key.as_ref(), now)
            .max(addresses.wait(address_key.as_ref(), now));
        if wait.is_positive() {
            return Err(Throttled { retry_after: wait });
        }
        users.take(user_key.as_ref(), now);
        addresses.take(address_key.as_ref(), now);
        Ok(Ticket {
            throttle: self,
            user: Some(user_key),
            address: address_key,
        })
    }

    /// Takes a token for one guess at a secret that belongs to no user
    /// (an OAuth client's) from `client`'s bucket only: charging a bucket
    /// that everyone shares would let guesses from anywhere lock the
    /// secret's owner out.
    ///
    /// # Errors
    /// [`Throttled`] when the address's bucket is empty.
    pub fn try_take_address(&self, client: Option<IpAddr>) -> Result<Ticket<'_>, Throttled> {
        let now = self.clock.now();
        let address = AddressKey::of(client);
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let addresses = &mut tables.1;
        let address_key = addresses.track(&address, now);
        let wait = addresses.wait(address_key.as_ref(), now);
        if wait.is_positive() {
            return Err(Throttled { retry_after: wait });
        }
        addresses.take(address_key.as_ref(), now);
        Ok(Ticket {
            throttle: self,
            user: None,
            address: address_key,
        })
    }
}

impl Ticket<'_> {
    /// Gives the token back to both buckets: no wrong guess was made.
    pub fn refund(self) {
        let now = self.throttle.clock.now();
        let mut tables = self
            .throttle
            .tables
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (users, addresses) = &mut *tables;
        if let Some(user) = &self.user {
            users.refund(user.as_ref(), now);
        }
        addresses.refund(self.address.as_ref(), now);
    }
}

/// What a client's bucket is keyed by: its IPv4 address, the /64 of its
/// IPv6 address (a host is usually given a whole /64, so per address it
/// would have 2^64 buckets), or "unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct AddressKey(Option<IpAddr>);

impl AddressKey {
    fn of(client: Option<IpAddr>) -> Self {
        Self(client.map(|ip| match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
            v4 => v4,
        }))
    }
}

/// One kind of bucket: a bucket per key, at most `max` keys, and one
/// shared bucket for the keys past it.
struct Table<K> {
    rate: Rate,
    max: usize,
    buckets: HashMap<K, Bucket>,
    overflow: Bucket,
    /// No bucket can have refilled before this: do not scan again sooner.
    next_sweep: OffsetDateTime,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(rate: Rate, max: usize, now: OffsetDateTime) -> Self {
        Self {
            rate,
            max,
            buckets: HashMap::new(),
            overflow: Bucket::full(rate, now),
            next_sweep: now,
        }
    }

    /// The key's own bucket, made full if new: `Some(key)`; or `None`, the
    /// shared overflow bucket, when `max` keys are tracked and none of them
    /// has refilled (a full bucket is the same as none, so it is dropped).
    fn track<Q>(&mut self, key: &Q, now: OffsetDateTime) -> Option<K>
    where
        Q: ToOwned<Owned = K> + Hash + Eq + ?Sized,
        K: std::borrow::Borrow<Q>,
    {
        if self.buckets.contains_key(key) {
            return Some(key.to_owned());
        }
        if self.buckets.len() >= self.max && now >= self.next_sweep {
            let rate = self.rate;
            self.buckets.retain(|_, bucket| !bucket.is_full(rate, now));
            self.next_sweep = now.checked_add(rate.every).unwrap_or(now);
        }
        if self.buckets.len() >= self.max {
            return None;
        }
        self.buckets
            .insert(key.to_owned(), Bucket::full(self.rate, now));
        Some(key.to_owned())
    }

    /// How long until `key`'s bucket (from [`Table::track`]) has a token.
    fn wait(&mut self, key: Option<&K>, now: OffsetDateTime) -> Duration {
        let rate = self.rate;
        self.bucket(key)
            .map_or(Duration::ZERO, |bucket| bucket.wait(rate, now))
    }

    fn take(&mut self, key: Option<&K>, now: OffsetDateTime) {
        let rate = self.rate;
        if let Some(bucket) = self.bucket(key) {
            bucket.take(rate, now);
        }
    }

    fn refund(&mut self, key: Option<&K>, now: OffsetDateTime) {
        let rate = self.rate;
        // Swept meanwhile: it had refilled, there is nothing to give back.
        if let Some(bucket) = self.bucket(key) {
            bucket.give_back(rate, now);
        }
    }

    /// `key`'s bucket, or the overflow bucket for `None`; `None` if `key`
    /// was swept.
    fn bucket(&mut self, key: Option<&K>) -> Option<&mut Bucket> {
        match key {
            Some(key) => self.buckets.get_mut(key),
            None => Some(&mut self.overflow),
        }
    }
}

/// Tokens, and since when the next one is being earned (meaningful only
/// below a full bucket).
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: u32,
    since: OffsetDateTime,
}

impl Bucket {
    fn full(rate: Rate, now: OffsetDateTime) -> Self {
        Self {
            tokens: rate.burst,
            since: now,
        }
    }

    /// Adds the tokens earned by `now`, in whole intervals (the remainder
    /// keeps counting). A clock that went backwards earns nothing, and the
    /// next token is then earned one interval after the reading, so a step
    /// back delays refills by at most one interval and never grants any.
    fn refill(&mut self, rate: Rate, now: OffsetDateTime) {
        if self.tokens >= rate.burst {
            return;
        }
        if now < self.since {
            self.since = now;
            return;
        }
        let earned = (now - self.since).whole_nanoseconds() / rate.every.whole_nanoseconds();
        let missing = rate.burst - self.tokens;
        if earned >= i128::from(missing) {
            self.tokens = rate.burst;
        } else {
            // Below `missing`, so a u32; and `every * earned` is at most
            // the time elapsed, so it is representable.
            let earned = u32::try_from(earned).unwrap_or(0);
            self.tokens += earned;
            self.since += rate.every * earned;
        }
    }

    /// How long until a token is there: zero if one is.
    fn wait(&mut self, rate: Rate, now: OffsetDateTime) -> Duration {
        self.refill(rate, now);
        if self.tokens > 0 {
            return Duration::ZERO;
        }
        // Checked: a huge interval near the end of time must not panic.
        match self.since.checked_add(rate.every) {
            Some(next) => next - now,
            None => rate.every,
        }
    }

    /// Takes a token, if there is one ([`Bucket::wait`] refilled first).
    fn take(&mut self, rate: Rate, now: OffsetDateTime) {
        if self.tokens >= rate.burst {
            // A full bucket earned nothing: the next token counts from now.
            self.since = now;
        }
        self.tokens = self.tokens.saturating_sub(1);
    }

    fn give_back(&mut self, rate: Rate, now: OffsetDateTime) {
        self.refill(rate, now);
        self.tokens = (self.tokens + 1).min(rate.burst);
    }

    fn is_full(&mut self, rate: Rate, now: OffsetDateTime) -> bool {
        self.refill(rate, now);
        self.tokens >= rate.burst
    }
}

#[cfg(test)]
mod tests;
