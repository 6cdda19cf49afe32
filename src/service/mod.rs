//! [`TokenService`]: issue, verify, refresh, revoke, list sessions.

use std::sync::Arc;

use jsonwebtoken::jwk::JwkSet;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::access::{self, AccessClaims, NoClaims};
use crate::builder::{Settings, TokenServiceBuilder};
use crate::clock::Clock;
use crate::error::{Error, StoreErrorKind};
use crate::hooks::{Event, Hooks, emit};
use crate::keys::KeyRing;
use crate::pair::TokenPair;
use crate::refresh::{self, Expiry, Grant, RefreshSecret};
use crate::session::{
    Revocation, RevocationReason, SessionId, SessionInfo, SessionRecord, SessionView,
};
use crate::store::{MemoryStore, RefreshStore};

mod limit;
mod rotation;

/// Issues, verifies, rotates and revokes tokens over a [`RefreshStore`].
///
/// Cheap to clone (one `Arc`); share one per process. `C` is the type of
/// the application's own access-token claims ([`NoClaims`] by default).
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

pub(crate) struct Inner<S, C> {
    pub(crate) store: S,
    pub(crate) settings: Settings,
    pub(crate) access: KeyRing,
    pub(crate) refresh: KeyRing,
    pub(crate) jwks: JwkSet,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hooks: Arc<dyn Hooks<C>>,
}

impl<S, C> Clone for TokenService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl TokenService<MemoryStore> {
    /// A builder with every default (see [`TokenServiceBuilder`]). The store
    /// is chosen at [`build`](TokenServiceBuilder::build), the claims type
    /// with [`with_claims`](TokenServiceBuilder::with_claims).
    pub fn builder() -> TokenServiceBuilder {
        TokenServiceBuilder::new()
    }
}

impl<S: RefreshStore, C: Serialize + DeserializeOwned + Send + Sync + 'static> TokenService<S, C> {
    pub(crate) fn from_inner(inner: Inner<S, C>) -> Self {
        Self {
            inner: Arc::new(inner),
        }
    }

    /// The store, for maintenance and tests.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// Starts a session for `subject` (after the app checked the
    /// password), carrying `claims` into every access token it gets.
    ///
    /// # Errors
    /// [`Error::Claims`] if `subject` is empty or `claims` do not serialize
    /// to a JSON object free of registered claim names; [`Error::Store`] if
    /// the store fails. Then no token is returned and no session of this
    /// login is left live: if the store failed after the session might
    /// have been created (a lost answer to `create`, or a failure while
    /// [`max_sessions_per_subject`] was being enforced), the new session is
    /// revoked again ([`RevocationReason::IssueFailed`]). That is best
    /// effort: a store that stays down leaves it live, with no token, until
    /// it expires. No other session was revoked, except older ones the
    /// limit had already revoked before the failure (they were beyond it).
    ///
    /// [`max_sessions_per_subject`]: TokenServiceBuilder::max_sessions_per_subject
    pub async fn issue(
        &self,
        subject: &str,
        claims: C,
        info: SessionInfo,
    ) -> Result<TokenPair, Error> {
        if subject.is_empty() {
            return Err(Error::Claims("subject must not be empty", None));
        }
        let settings = &self.inner.settings;
        let claims_json = access::claims_to_json(&claims)?;
        let reading = self.inner.clock.now();
        let now = whole_seconds(reading);
        let secret = RefreshSecret::random();
        let record = SessionRecord {
            id: SessionId::random(),
            subject: subject.to_owned(),
            generation: 0,
            secret_hash: secret.hash(),
            previous: None,
            // Finer than the token times: it orders logins for the
            // session limit. Microseconds, what databases keep.
            created_at: reading
                .replace_nanosecond(reading.microsecond() * 1_000)
                .unwrap_or(now),
            refreshed_at: now,
            idle_expires_at: now + settings.refresh_ttl,
            absolute_expires_at: now + settings.session_ttl,
            revoked: None,
            claims_json,
            info,
        };
        // Signed before the store is touched: nothing after `create` but
        // the session limit can fail.
        let pair = self.tokens(&record, &secret, now)?;
        if let Err(error) = self.inner.store.create(&record).await {
            // A create whose answer was lost may still have happened.
            if error.kind() != StoreErrorKind::AlreadyExists {
                self.abandon(&record.id, now).await;
            }
            return Err(error.into());
        }
        if let Some(max) = settings.max_sessions_per_subject
            && let Err(error) = self.enforce_session_limit(&record, max, now).await
        {
            self.abandon(&record.id, now).await;
            return Err(error);
        }
        self.emit(Event::Issued {
            subject,
            session_id: &record.id,
        });
        Ok(pair)
    }

    /// Verifies an access token: signature with the algorithm pinned by its
    /// `kid`, `typ`, issuer, audience, times, lifetime. No store access, so
    /// a revoked session's access tokens stay valid until they expire; use
    /// [`verify_live`](Self::verify_live) where that matters.
    ///
    /// # Errors
    /// [`Error::Malformed`], [`Error::InvalidSignature`],
    /// [`Error::InvalidClaim`], [`Error::Expired`], [`Error::NotYetValid`].
    pub fn verify(&self, access_token: impl AsRef<str>) -> Result<AccessClaims<C>, Error> {
        let inner = &*self.inner;
        access::verify(
            &inner.settings,
            &inner.access,
            access_token.as_ref(),
            self.now(),
        )
    }

    /// [`verify`](Self::verify), then checks that the session is still live
    /// (one store read).
    ///
    /// # Errors
    /// As `verify`; [`Error::SessionRevoked`], [`Error::SessionExpired`];
    /// [`Error::Store`] if the store fails.
    pub async fn verify_live(
        &self,
        access_token: impl AsRef<str>,
    ) -> Result<AccessClaims<C>, Error> {
        let claims = self.verify(access_token)?;
        let record = self.inner.store.get(&claims.sid).await?;
        let record = record.ok_or(Error::SessionExpired)?;
        if record.subject != claims.sub {
            return Err(Error::InvalidClaim {
                claim: "sub",
                problem: "does not match the session",
            });
        }
        session_status(&record, self.now())?;
        Ok(claims)
    }

    /// Logs out the session `refresh_token` belongs to. A genuine token
    /// ends its session even if expired or of an old generation. Returns
    /// whether this call revoked it (`false`: already revoked, or purged).
    ///
    /// # Racing a refresh
    /// Once this returns, no refresh token of the session rotates again
    /// (grace replays included) and [`verify_live`](Self::verify_live)
    /// refuses every access token of it, including the pair of a refresh
    /// that raced this call and won. [`verify`](Self::verify) alone keeps
    /// accepting access tokens until they expire: it never reads the store.
    ///
    /// # Errors
    /// Token errors (a forged token revokes nothing); [`Error::Store`].
    pub async fn revoke(&self, refresh_token: impl AsRef<str>) -> Result<bool, Error> {
        let inner = &*self.inner;
        let now = self.now();
        let presented = refresh::verify(
            &inner.settings,
            &inner.refresh,
            refresh_token.as_ref(),
            now,
            Expiry::Ignore,
        )?;
        self.revoke_with(&presented.session_id, RevocationReason::Logout, now)
            .await
    }

    /// Revokes one session by id (a "sign out this device" button).
    /// Returns whether this call revoked it (`false`: unknown, or already
    /// revoked). Races with refresh as [`revoke`](Self::revoke) does.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn revoke_session(&self, session_id: &SessionId) -> Result<bool, Error> {
        self.revoke_with(session_id, RevocationReason::Revoked, self.now())
            .await
    }

    /// Revokes every session of `subject` except `except` (the caller's
    /// own, for "log out other devices"; `None` after a password reset).
    /// Returns how many this call revoked (expired sessions not yet purged
    /// included).
    ///
    /// # Racing logins and refreshes
    /// Every session whose [`issue`](Self::issue) returned before this call
    /// began is revoked when it returns, with every token refreshed from
    /// it, as [`revoke`](Self::revoke) says. A login still in flight (its
    /// `issue` called before, returning after this began) may survive: its
    /// session is written by a store call that can land after the
    /// revocation. After a password change, update the credential first,
    /// then call this, so that no login with the old password can begin
    /// afterwards; to close the window of one already past the password
    /// check, serialize logins and password changes per user (a row lock
    /// on the user, say).
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn revoke_subject(
        &self,
        subject: &str,
        except: Option<&SessionId>,
    ) -> Result<u64, Error> {
        let reason = RevocationReason::SubjectRevoked;
        let why = Revocation {
            reason,
            at: self.now(),
        };
        let count = self
            .inner
            .store
            .revoke_subject(subject, except, &why)
            .await?;
        self.emit(Event::SubjectRevoked {
            subject,
            count,
            reason,
        });
        Ok(count)
    }

    /// The subject's live sessions, newest first: a "your devices" page.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn sessions(&self, subject: &str) -> Result<Vec<SessionView>, Error> {
        Ok(self
            .live_sessions(subject, self.now())
            .await?
            .into_iter()
            .map(SessionView::from)
            .collect())
    }

    /// Deletes sessions that expired (beyond the leeway), revoked or not.
    /// Run it periodically. Returns how many were deleted.
    ///
    /// # Errors
    /// [`Error::Store`] if the store fails.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        let cutoff = self.now() - self.inner.settings.leeway;
        Ok(self.inner.store.purge_expired(cutoff).await?)
    }

    /// The public access-token keys as a JSON Web Key Set, for other
    /// services to verify access tokens. Empty with HMAC keys.
    pub fn jwks(&self) -> &JwkSet {
        &self.inner.jwks
    }

    async fn revoke_with(
        &self,
        session_id: &SessionId,
        reason: RevocationReason,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let why = Revocation { reason, at };
        let revoked = self.inner.store.revoke(session_id, &why).await?;
        if revoked {
            self.emit(Event::Revoked { session_id, reason });
        }
        Ok(revoked)
    }

    async fn live_sessions(
        &self,
        subject: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        let mut sessions = self.inner.store.sessions(subject).await?;
        sessions.retain(|s| s.subject == subject && s.is_live(now));
        sessions.sort_by(newest_first);
        Ok(sessions)
    }

    /// The pair for `record` at its generation, whose secret is `secret`.
    pub(crate) fn tokens(
        &self,
        record: &SessionRecord,
        secret: &RefreshSecret,
        now: OffsetDateTime,
    ) -> Result<TokenPair, Error> {
        let inner = &*self.inner;
        let refresh_expires_at = record.expires_at();
        let grant = Grant {
            subject: &record.subject,
            session_id: &record.id,
            generation: record.generation,
            secret,
            issued_at: record.refreshed_at,
            expires_at: refresh_expires_at,
        };
        let refresh_token = refresh::sign(&inner.settings, &inner.refresh, &grant)?;
        let (access_token, access_expires_at) = access::sign(
            &inner.settings,
            &inner.access,
            &record.subject,
            &record.id,
            &record.claims_json,
            now,
            refresh_expires_at,
        )?;
        Ok(TokenPair {
            access_token,
            refresh_token,
            access_expires_at,
            refresh_expires_at,
            session_id: record.id,
        })
    }

    /// The clock, to whole seconds: JWT times have no fractions, and
    /// stored instants then match the tokens exactly.
    pub(crate) fn now(&self) -> OffsetDateTime {
        whole_seconds(self.inner.clock.now())
    }

    pub(crate) fn emit(&self, event: Event<'_>) {
        emit(&*self.inner.hooks, event);
    }
}

fn whole_seconds(instant: OffsetDateTime) -> OffsetDateTime {
    instant.replace_nanosecond(0).unwrap_or(instant)
}

/// Newest login first; the id breaks ties within a microsecond.
fn newest_first(a: &SessionRecord, b: &SessionRecord) -> std::cmp::Ordering {
    b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id))
}

/// Revoked or expired sessions are refused, each with its own error.
pub(crate) fn session_status(record: &SessionRecord, now: OffsetDateTime) -> Result<(), Error> {
    if record.revoked.is_some() {
        Err(Error::SessionRevoked)
    } else if now >= record.expires_at() {
        Err(Error::SessionExpired)
    } else {
        Ok(())
    }
}
