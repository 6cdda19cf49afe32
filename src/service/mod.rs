//! [`TokenService`]: issue, verify, refresh, revoke, list sessions.
//!
//! The one place the session rules live: the store only keeps records, the
//! token layer only signs and checks. Each operation has a file of its own.

use std::any::type_name;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::error::Error;
use crate::session::{AuthContext, SessionRecord};
use crate::store::{RefreshStore, StoreError, StoreErrorKind, StoreOp};
use crate::token::claims::ClaimMembers;
use crate::token::{Dpop, KeyRing, NoClaims, RefreshSecret, TokenPair, access, refresh};

// The operations, one file each, declared in the order a user meets them:
// rustdoc lists `TokenService`'s methods in this order.
mod builder;

mod issue;

mod verify;

mod rotation;

mod binding;

mod revoke;

mod audit;
mod hooks;
#[cfg(feature = "oauth")]
mod introspect;
mod limit;
mod options;
#[cfg(feature = "tokio")]
mod purge;
mod settings;
mod signals;
mod step_up;

pub use builder::TokenServiceBuilder;
use hooks::emit;
pub use hooks::{Event, Hooks, NoHooks, RefreshContext};
pub use limit::SessionLimitMode;
pub use options::IssueOptions;
#[cfg(feature = "tokio")]
pub use purge::PurgeTask;
use settings::Settings;
use signals::Signals;
pub use step_up::AuthRequirement;

/// Issues, verifies, rotates and revokes tokens over a [`RefreshStore`].
///
/// Start with [`builder`](Self::builder); then, per user,
/// [`issue`](Self::issue) at login, [`verify`](Self::verify) on every
/// request, [`refresh`](Self::refresh) when the access token expires, and
/// [`revoke`](Self::revoke) at logout.
///
/// Cheap to clone (one `Arc`); share one per process. `C` is the type of
/// the application's own access-token claims ([`NoClaims`] by default).
/// `Debug` shows the settings and the keys' ids, never key material.
///
/// ```
/// use jwt_rotate::{Key, MemoryStore, NoClaims, SessionInfo, TokenService};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let service = TokenService::builder()
///     .issuer("https://auth.example.com")
///     .audience("api.example.com")
///     .access_key(Key::hs256([1u8; 32])?)
///     .refresh_key(Key::hs256([2u8; 32])?)
///     .build(MemoryStore::new())?;
///
/// let pair = service.issue("user-42", NoClaims {}, SessionInfo::default()).await?;
/// assert_eq!(service.verify(&pair.access_token)?.sub, "user-42");
/// let next = service.refresh(&pair.refresh_token).await?;
/// assert_eq!(next.session_id, pair.session_id);
/// # Ok::<(), jwt_rotate::Error>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TokenService<S, C = NoClaims> {
    inner: Arc<Inner<S, C>>,
}

struct Inner<S, C> {
    store: S,
    settings: Settings,
    access: KeyRing,
    refresh: KeyRing,
    jwks: JwkSet,
    clock: Arc<dyn Clock>,
    /// The proof checker for bound sessions, if any.
    dpop: Option<Dpop>,
    hooks: Arc<dyn Hooks<C>>,
    signals: Signals,
}

impl<S, C> Clone for TokenService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S, C> fmt::Debug for TokenService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        let kids = |ring: &KeyRing| ring.keys().map(|k| k.kid().to_owned()).collect::<Vec<_>>();
        f.debug_struct("TokenService")
            .field("store", &type_name::<S>())
            .field("claims", &type_name::<C>())
            .field("settings", &inner.settings)
            .field("access_kids", &kids(&inner.access))
            .field("refresh_kids", &kids(&inner.refresh))
            .finish_non_exhaustive()
    }
}

impl<S: RefreshStore, C> TokenService<S, C> {
    fn from_inner(inner: Inner<S, C>) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The configured issuer and audience.
    #[cfg(feature = "oauth")]
    pub(crate) fn issuer_and_audience(&self) -> (&str, &str) {
        let rules = &self.inner.settings.rules;
        (&rules.issuer, &rules.audience)
    }

    /// The store, for maintenance and tests.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The pair for `record` at its generation, whose secret is `secret`.
    fn tokens(
        &self,
        record: &SessionRecord,
        secret: &RefreshSecret,
        now: OffsetDateTime,
    ) -> Result<TokenPair, Error> {
        let inner = &*self.inner;
        let rules = &inner.settings.rules;
        let refresh_expires_at = record.expires_at();
        let grant = refresh::Grant {
            subject: &record.subject,
            session_id: &record.id,
            generation: record.generation,
            secret,
            jkt: record.jkt.as_ref(),
            issued_at: record.refreshed_at,
            expires_at: refresh_expires_at,
        };
        let refresh_token = refresh::sign(rules, &inner.refresh, &grant)?;
        let app_claims = ClaimMembers::of(&record.claims_json).ok_or_else(|| {
            StoreError::new(
                StoreErrorKind::Corrupt,
                "stored claims are not a JSON object",
            )
        })?;
        // A session stored before stores kept the context authenticated
        // at its login, as far as anyone knows.
        // Borrowed when stored: no copy of its `amr` per refresh.
        let at_login;
        let auth = match &record.auth {
            Some(auth) => auth,
            None => {
                at_login = AuthContext::new(whole_seconds(record.created_at), Vec::new(), None);
                &at_login
            }
        };
        let holder = access::Holder {
            sub: &record.subject,
            sid: &record.id,
            jkt: record.jkt.as_ref(),
            auth: Some(auth),
        };
        let (access_token, access_expires_at) = access::sign_for(
            rules,
            &inner.access,
            holder,
            app_claims,
            (now, refresh_expires_at),
        )?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            access_expires_at,
            refresh_expires_at,
            session_id: record.id,
            bound_to: record.jkt,
        })
    }

    /// Refuses a token that leaves less than [`HEADROOM`] bytes below
    /// `max_token_bytes`: a token of this session is never refused by our
    /// own `verify`, however many times it rotates.
    fn check_headroom(&self, token: &str) -> Result<(), Error> {
        let max = self.inner.settings.rules.max_token_bytes;
        if token.len().saturating_add(HEADROOM) > max {
            return Err(Error::Claims {
                problem: "the subject and claims make tokens too close to max_token_bytes",
                source: None,
            });
        }
        Ok(())
    }

    /// The service's clock, for helpers that must read the same time.
    pub(crate) fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// The clock, to whole seconds: JWT times have no fractions, and
    /// stored instants then match the tokens exactly.
    pub(crate) fn now(&self) -> OffsetDateTime {
        whole_seconds(self.inner.clock.now())
    }

    /// One store call, timed for the metrics.
    async fn timed<T>(
        &self,
        op: StoreOp,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.inner.signals.timed(op, call).await
    }

    fn emit(&self, event: Event<'_>)
    where
        C: 'static,
    {
        self.inner.signals.heard(&event);
        emit(&*self.inner.hooks, event);
    }
}

/// Room kept below `max_token_bytes` at login and when a hook replaces the
/// claims, because a session's later refresh tokens are longer and must
/// still verify: up to 19 more digits of `gen` (26 characters of base64),
/// and the retry window of a rotation in doubt (about 60).
const HEADROOM: usize = 96;

fn whole_seconds(instant: OffsetDateTime) -> OffsetDateTime {
    instant.replace_nanosecond(0).unwrap_or(instant)
}

/// Newest login first; the id breaks ties within a microsecond.
fn newest_first(a: &SessionRecord, b: &SessionRecord) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

/// Revoked or expired sessions are refused, each with its own error.
fn session_status(record: &SessionRecord, now: OffsetDateTime) -> Result<(), Error> {
    if record.revoked.is_some() {
        Err(Error::SessionRevoked)
    } else if now >= record.expires_at() {
        Err(Error::SessionExpired)
    } else {
        Ok(())
    }
}
