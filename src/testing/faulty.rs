//! [`FaultyStore`]: any store, failing or stalling on command.

use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;
use tokio::sync::Barrier;

use crate::error::{StoreError, StoreErrorKind};
use crate::session::{Revocation, SessionId, SessionRecord};
use crate::store::{ExpectedGeneration, RefreshStore, Replay, ReplayKey, RotationUpdate, StoreOp};

/// What happens to a call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Fails before reaching the store, as a refused connection: the store
    /// changes nothing. A retryable [`StoreErrorKind::Unavailable`] error.
    Fail,
    /// Fails before reaching the store with an error of this kind.
    FailWith(StoreErrorKind),
    /// Reaches the store, then fails, as a response lost to a timeout: the
    /// store made its change, the caller hears
    /// [`StoreErrorKind::Unavailable`].
    FailAfter,
    /// Waits this long on tokio's timer (so a paused test clock skips it),
    /// then goes through.
    Delay(Duration),
    /// Holds each call, once the store has answered it, until this many
    /// calls are held; then lets them all go on together, and the next
    /// calls form the next group. So `n` concurrent calls have all reached
    /// the store before any of them returns: `n` logins whose records all
    /// exist before any of them goes on (to enforce the session limit,
    /// say). A call another fault fails is held too, at the same point, so
    /// a group fills whatever the answers; `Gather(0)` and `Gather(1)` hold
    /// nothing. A group that never fills holds its calls for good.
    ///
    /// ```
    /// use jwt_rotate::MemoryStore;
    /// use jwt_rotate::store::RefreshStore;
    /// use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp, sample_record};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let store = FaultyStore::new(MemoryStore::new());
    /// store.inject(Calls::Only(StoreOp::Create), Fault::Gather(2));
    /// let (ann, bo) = (sample_record("ann"), sample_record("bo"));
    /// // Each create sees the other's record stored before it returns.
    /// let (a, b) = tokio::join!(
    ///     async { store.create(&ann).await?; store.inner().get(&bo.id).await },
    ///     async { store.create(&bo).await?; store.inner().get(&ann.id).await },
    /// );
    /// assert!(a?.is_some() && b?.is_some());
    /// # Ok::<(), jwt_rotate::store::StoreError>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    Gather(usize),
    /// Makes the call twice and answers what the second one got, as a
    /// client that sent a command again after its connection dropped, not
    /// knowing the first had run (the redis crate's cluster client does
    /// so). A `rotate` then finds its own rotation already done.
    Resend,
}

/// Which calls a fault applies to, counted from when it is injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Calls {
    /// Every call.
    All,
    /// Every call of one operation.
    Only(StoreOp),
    /// The `n`th call (from 1), whatever its operation; only that one.
    Nth(u64),
    /// The `n`th call (from 1) of one operation; only that one.
    NthOf(StoreOp, u64),
    /// The `n`th call (from 1) and every call after it: an outage that
    /// begins mid-operation.
    From(u64),
}

struct Rule {
    calls: Calls,
    fault: Fault,
    /// Calls that matched the rule's operation filter so far.
    seen: u64,
    /// The barrier of a [`Fault::Gather`].
    gate: Option<Arc<Barrier>>,
}

impl Rule {
    /// Counts `op` and says whether the fault applies to this call.
    fn applies(&mut self, op: StoreOp) -> bool {
        let of = |only: StoreOp| only == op;
        let counted = match self.calls {
            Calls::All | Calls::Nth(_) | Calls::From(_) => true,
            Calls::Only(only) | Calls::NthOf(only, _) => of(only),
        };
        if !counted {
            return false;
        }
        self.seen += 1;
        match self.calls {
            Calls::All | Calls::Only(_) => true,
            Calls::Nth(n) | Calls::NthOf(_, n) => self.seen == n,
            Calls::From(n) => self.seen >= n,
        }
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    calls: Vec<StoreOp>,
    injected: u64,
}

/// What the rules decided for one call.
#[derive(Default)]
struct Plan {
    delay: Duration,
    before: Option<StoreErrorKind>,
    after: bool,
    resend: bool,
    gates: Vec<Arc<Barrier>>,
}

/// Wraps a store and makes chosen calls fail, lose their response, or
/// stall: to show what a service does when its store misbehaves.
///
/// Faults are injected with [`inject`](Self::inject) (several may be
/// active; their delays add up, and a failure before the store wins over
/// one after it) and cleared with [`heal`](Self::heal). Every call is
/// recorded, faulted or not. Besides failures and delays, a fault can
/// gather concurrent calls ([`Fault::Gather`]) to force an interleaving.
///
/// ```
/// use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
/// use jwt_rotate::{Error, Key, MemoryStore, NoClaims, SessionInfo, TokenService};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .build(FaultyStore::new(MemoryStore::new()))?;
/// let pair = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
///
/// service.store().inject(Calls::Only(StoreOp::Rotate), Fault::Fail);
/// let outage = service.refresh(&pair.refresh_token).await.unwrap_err();
/// assert!(outage.store_error().is_some(), "a store failure, not a bad token");
///
/// service.store().heal();
/// service.refresh(&pair.refresh_token).await?; // the same token still works
/// assert_eq!(service.store().take_calls(), [StoreOp::Create, StoreOp::Rotate, StoreOp::Rotate]);
/// # Ok::<(), Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FaultyStore<S> {
    inner: S,
    state: Mutex<State>,
}

impl<S> FaultyStore<S> {
    /// `inner`, with no fault injected yet.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            state: Mutex::new(State::default()),
        }
    }

    /// The wrapped store, to look behind the faults.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Unwraps the store.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Applies `fault` to the `calls` made from now on.
    pub fn inject(&self, calls: Calls, fault: Fault) {
        let gate = match fault {
            Fault::Gather(n) => Some(Arc::new(Barrier::new(n))),
            _ => None,
        };
        self.state().rules.push(Rule {
            calls,
            fault,
            seen: 0,
            gate,
        });
    }

    /// Removes every injected fault. Calls a [`Fault::Gather`] already
    /// holds stay held until their group fills.
    pub fn heal(&self) {
        self.state().rules.clear();
    }

    /// The calls made since the store was wrapped or since the last
    /// `take_calls`, in order, faulted ones included.
    pub fn take_calls(&self) -> Vec<StoreOp> {
        std::mem::take(&mut self.state().calls)
    }

    /// How many calls a `Fail`, `FailWith`, `FailAfter` or `Resend` fault
    /// has changed.
    pub fn faults_injected(&self) -> u64 {
        self.state().injected
    }

    // Nothing panics while the lock is held, so a poisoned state is whole.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn plan(&self, op: StoreOp) -> Plan {
        let mut state = self.state();
        state.calls.push(op);
        let mut plan = Plan::default();
        for rule in &mut state.rules {
            if !rule.applies(op) {
                continue;
            }
            match rule.fault {
                Fault::Delay(by) => plan.delay += by,
                Fault::Fail => plan.before = plan.before.or(Some(StoreErrorKind::Unavailable)),
                Fault::FailWith(kind) => plan.before = plan.before.or(Some(kind)),
                Fault::FailAfter => plan.after = true,
                Fault::Gather(_) => plan.gates.extend(rule.gate.clone()),
                Fault::Resend => plan.resend = true,
            }
        }
        if plan.before.is_some() || plan.after || plan.resend {
            state.injected += 1;
        }
        plan
    }

    /// Runs `call` on the inner store as the faults injected say.
    async fn run<T, F>(&self, op: StoreOp, call: impl Fn() -> F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        let plan = self.plan(op);
        if !plan.delay.is_zero() {
            tokio::time::sleep(plan.delay).await;
        }
        let result = match plan.before {
            Some(kind) => {
                let cause =
                    io::Error::new(io::ErrorKind::ConnectionRefused, "injected by FaultyStore");
                Err(StoreError::new(kind, "injected fault before the store").with_source(cause))
            }
            None if plan.resend => {
                // The first answer is the one the dropped connection lost.
                let _lost = call().await;
                call().await
            }
            None => call().await,
        };
        for gate in &plan.gates {
            gate.wait().await;
        }
        // A call failed before the store never got an answer to lose.
        if plan.after && plan.before.is_none() {
            let cause = io::Error::new(io::ErrorKind::TimedOut, "injected by FaultyStore");
            return Err(StoreError::unavailable("injected fault: response lost").with_source(cause));
        }
        result
    }
}

impl<S> std::fmt::Debug for FaultyStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state();
        f.debug_struct("FaultyStore")
            .field("faults", &state.rules.len())
            .field("calls", &state.calls.len())
            .field("injected", &state.injected)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: RefreshStore> RefreshStore for FaultyStore<S> {
    async fn create(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.run(StoreOp::Create, || self.inner.create(session))
            .await
    }

    async fn get(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        self.run(StoreOp::Get, || self.inner.get(id)).await
    }

    async fn rotate(
        &self,
        id: &SessionId,
        expected: &ExpectedGeneration,
        next: &RotationUpdate,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let call = || self.inner.rotate(id, expected, next);
        self.run(StoreOp::Rotate, call).await
    }

    async fn revoke(&self, id: &SessionId, why: &Revocation) -> Result<bool, StoreError> {
        self.run(StoreOp::Revoke, || self.inner.revoke(id, why))
            .await
    }

    async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
        why: &Revocation,
    ) -> Result<u64, StoreError> {
        let call = || self.inner.revoke_subject(subject, except, why);
        self.run(StoreOp::RevokeSubject, call).await
    }

    async fn sessions(&self, subject: &str) -> Result<Vec<SessionRecord>, StoreError> {
        self.run(StoreOp::Sessions, || self.inner.sessions(subject))
            .await
    }

    async fn purge_expired(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.run(StoreOp::PurgeExpired, || self.inner.purge_expired(now))
            .await
    }

    async fn insert_dpop_jti(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        let call = || self.inner.insert_dpop_jti(key, now, expires_at);
        self.run(StoreOp::InsertDpopJti, call).await
    }
}
