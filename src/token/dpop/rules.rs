//! [`DpopBuilder`]: the settings of DPoP proof checking, validated once.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use time::Duration;

use super::Dpop;
use super::nonce::DpopNonces;
use super::replay::{DpopReplayCache, MemoryReplayCache};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, Error};

/// The algorithms a proof may be signed with: asymmetric only, and only
/// those both crypto backends verify.
pub(crate) const SUPPORTED: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::EdDSA,
    Algorithm::PS256,
    Algorithm::RS256,
];

/// The default [`MemoryReplayCache`] capacity: 10,000 proofs a second over
/// the default 65-second window, rounded up.
pub(crate) const DEFAULT_REPLAY_CAPACITY: usize = 655_360;

/// What proof checking needs, checked by [`DpopBuilder::build`].
#[derive(Debug, Clone)]
pub(crate) struct DpopRules {
    pub(crate) max_age: Duration,
    pub(crate) future_leeway: Duration,
    pub(crate) max_proof_bytes: usize,
    pub(crate) algorithms: Vec<Algorithm>,
}

/// Builds a [`Dpop`]; start from [`Dpop::builder`]. Every value is
/// checked in [`build`](Self::build).
pub struct DpopBuilder {
    rules: DpopRules,
    nonces: Option<DpopNonces>,
    replay: Option<Arc<dyn DpopReplayCache>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DpopBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopBuilder")
            .field("rules", &self.rules)
            .field("nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}

impl Default for DpopBuilder {
    fn default() -> Self {
        Self {
            rules: DpopRules {
                max_age: Duration::seconds(60),
                future_leeway: Duration::seconds(5),
                max_proof_bytes: 8192,
                algorithms: SUPPORTED.to_vec(),
            },
            nonces: None,
            replay: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl DpopBuilder {
    /// How old a proof's `iat` may be. Default 60 seconds; 1 second to 1
    /// hour.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.rules.max_age = max_age;
        self
    }

    /// How far in the future a proof's `iat` may be (the client's clock
    /// running ahead). Default 5 seconds; 0 to 5 minutes.
    pub fn future_leeway(mut self, leeway: Duration) -> Self {
        self.rules.future_leeway = leeway;
        self
    }

    /// Proofs longer than this are refused before any decoding. Default
    /// 8192 bytes (a proof with an RSA-4096 key and a long URL is under
    /// 3 KiB); 512 to 65,536.
    pub fn max_proof_bytes(mut self, bytes: usize) -> Self {
        self.rules.max_proof_bytes = bytes;
        self
    }

    /// The algorithms proofs may be signed with. Default ES256, EdDSA,
    /// PS256 and RS256, the only ones accepted: a subset of them, not
    /// empty.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.rules.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Requires server nonces: a proof without a valid one is refused with
    /// [`Error::UseDpopNonce`], which carries a fresh nonce. Default: no
    /// nonces.
    pub fn nonces(mut self, nonces: DpopNonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// Where accepted proofs are remembered. Default a
    /// [`MemoryReplayCache`] of 655,360 entries (10,000 proofs a second
    /// over the default window; about 70 MB when full).
    pub fn replay_cache(mut self, cache: impl DpopReplayCache) -> Self {
        self.replay = Some(Arc::new(cache));
        self
    }

    /// The clock proofs' `iat` is judged by. Default the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The checker.
    ///
    /// ```
    /// use jwt_rotate::{Algorithm, Dpop};
    /// use time::Duration;
    ///
    /// let dpop = Dpop::builder()
    ///     .max_age(Duration::seconds(30))
    ///     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
    ///     .build()?;
    /// # let _ = dpop;
    /// assert!(Dpop::builder().algorithms([Algorithm::HS256]).build().is_err());
    /// # Ok::<(), jwt_rotate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] for a value outside the range its setter gives,
    /// an algorithm that is not accepted, or no algorithm.
    pub fn build(self) -> Result<Dpop, Error> {
        let rules = self.rules;
        let problem = if !(Duration::SECOND..=Duration::HOUR).contains(&rules.max_age) {
            Some("max_age must be 1 s to 1 hour")
        } else if !(Duration::ZERO..=Duration::minutes(5)).contains(&rules.future_leeway) {
            Some("future_leeway must be 0 to 5 minutes")
        } else if !(512..=65_536).contains(&rules.max_proof_bytes) {
            Some("max_proof_bytes must be 512 to 65536")
        } else if rules.algorithms.is_empty() {
            Some("at least one algorithm is needed")
        } else if rules.algorithms.iter().any(|alg| !SUPPORTED.contains(alg)) {
            Some("DPoP proofs take only ES256, EdDSA, PS256 and RS256")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(ConfigError::new(problem).into());
        }
        let replay = match self.replay {
            Some(replay) => replay,
            None => Arc::new(MemoryReplayCache::new(DEFAULT_REPLAY_CAPACITY)?),
        };
        Ok(Dpop {
            rules,
            nonces: self.nonces,
            replay,
            clock: self.clock,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_checked() {
        assert!(DpopBuilder::default().build().is_ok());
        let bad = [
            DpopBuilder::default().max_age(Duration::ZERO),
            DpopBuilder::default().max_age(Duration::hours(2)),
            DpopBuilder::default().future_leeway(Duration::seconds(-1)),
            DpopBuilder::default().future_leeway(Duration::minutes(6)),
            DpopBuilder::default().max_proof_bytes(100),
            DpopBuilder::default().max_proof_bytes(1 << 20),
            DpopBuilder::default().algorithms([]),
            DpopBuilder::default().algorithms([Algorithm::ES256, Algorithm::HS256]),
            DpopBuilder::default().algorithms([Algorithm::ES384]),
        ];
        for builder in bad {
            let debug = format!("{builder:?}");
            assert!(matches!(builder.build(), Err(Error::Config(_))), "{debug}");
        }
    }
}
