//! `issue`: a login starts a session.

use super::{TokenService, whole_seconds};
use crate::clock::shifted;
use crate::error::{ConfigError, Error};
use crate::session::{LastSeen, SessionId, SessionInfo, SessionRecord};
use crate::store::{RefreshStore, StoreErrorKind};
use crate::token::claims::claims_to_json;
use crate::token::{AppClaims, RefreshSecret, TokenPair};

use super::hooks::Event;
use super::options::IssueOptions;
use crate::store::StoreOp;

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// Starts a session for `subject` (after the app checked the
    /// password), carrying `claims` into every access token it gets.
    ///
    /// # Errors
    /// [`Error::Claims`] if `subject` is empty, `claims` do not serialize
    /// to a JSON object free of registered claim names, a field of `info`
    /// is over its size limit, or the tokens would come near
    /// `max_token_bytes` (the subject and the claims are in them; some room
    /// is kept for the generation counter to grow); [`Error::Config`] if the
    /// clock reading plus a lifetime is not a representable instant;
    /// [`Error::Store`] if
    /// the store fails. Then no token is returned and no session of this
    /// login is left live: if the store failed after the session might
    /// have been created (a lost answer to `create`, or a failure while
    /// [`max_sessions_per_subject`] was being enforced), the new session is
    /// revoked again ([`RevocationReason::IssueFailed`](crate::RevocationReason::IssueFailed)). That is best
    /// effort: a store that stays down leaves it live, with no token, until
    /// it expires. No other session was revoked, except older ones the
    /// limit had already revoked before the failure (they were beyond it).
    /// The clean-up is a second store call, so a failing `issue` can take
    /// twice the store's own timeout (a pool's acquire timeout, SQLite's
    /// busy timeout) before it returns.
    ///
    /// [`max_sessions_per_subject`]: crate::TokenServiceBuilder::max_sessions_per_subject
    pub async fn issue(
        &self,
        subject: &str,
        claims: C,
        info: SessionInfo,
    ) -> Result<TokenPair, Error> {
        self.issue_with(subject, claims, IssueOptions::from(info))
            .await
    }

    /// [`issue`](Self::issue), with the session set up as `options` say:
    /// its lifetimes, device information, label and kind, and how the user
    /// authenticated.
    ///
    /// # Errors
    /// As [`issue`](Self::issue); [`Error::Config`] for a lifetime the
    /// builder's maximums do not allow (see [`IssueOptions`]), for
    /// [`SessionLimitMode::RefuseNew`](crate::SessionLimitMode::RefuseNew)
    /// asked of a service with no session limit, or for a
    /// session bound to a DPoP key ([`IssueOptions::bound_to`]) by a service
    /// built without [`TokenServiceBuilder::dpop`](crate::TokenServiceBuilder::dpop);
    /// [`Error::Claims`] for an authentication context a token cannot carry;
    /// [`Error::SessionLimit`] when the subject is at
    /// `max_sessions_per_subject` and the service refuses new logins (the
    /// new session is then revoked again, and it got no token).
    pub async fn issue_with(
        &self,
        subject: &str,
        claims: C,
        options: IssueOptions,
    ) -> Result<TokenPair, Error> {
        let jkt = options.jkt;
        if jkt.is_some() && self.inner.dpop.is_none() {
            // Its refreshes would need proofs no one could check.
            return Err(ConfigError::new(
                "a session bound to a DPoP key needs TokenServiceBuilder::dpop",
            )
            .into());
        }
        if subject.is_empty() {
            return Err(Error::Claims {
                problem: "subject must not be empty",
                source: None,
            });
        }
        let settings = &self.inner.settings;
        let (idle_ttl, session_ttl) = options.lifetimes(settings)?;
        let limit_mode = options.limit_mode(settings)?;
        if let Some(problem) = options.info.oversized_field() {
            return Err(Error::Claims {
                problem,
                source: None,
            });
        }
        let claims_json = claims_to_json(&claims)?;
        let reading = self.inner.clock.now();
        let now = whole_seconds(reading);
        let auth = options.auth_context(now)?;
        let secret = RefreshSecret::random();
        let record = SessionRecord {
            id: SessionId::random(),
            subject: subject.to_owned(),
            generation: 0,
            secret_hash: secret.hash(),
            jkt,
            previous: None,
            // Finer than the token times: it orders logins for the
            // session limit. Microseconds, what databases keep.
            created_at: reading
                .replace_nanosecond(reading.microsecond() * 1_000)
                .unwrap_or(now),
            refreshed_at: now,
            idle_expires_at: shifted(now, idle_ttl, "refresh_ttl")?,
            absolute_expires_at: shifted(now, session_ttl, "session_ttl")?,
            revoked: None,
            claims_json,
            info: options.info,
            auth: Some(auth),
            last_seen: LastSeen::default(),
        };
        // Signed before the store is touched: nothing after `create` but
        // the session limit can fail, and tokens too large to verify are
        // refused before any session is written or revoked.
        let pair = self.tokens(&record, &secret, now)?;
        self.check_headroom(pair.access_token.as_str())?;
        self.check_headroom(pair.refresh_token.as_str())?;
        if let Err(error) = self
            .timed(StoreOp::Create, self.inner.store.create(&record))
            .await
        {
            // A create whose answer was lost may still have happened.
            if error.kind() != StoreErrorKind::AlreadyExists {
                self.abandon(&record.id, now).await;
            }
            return Err(error.into());
        }
        if let Err(error) = self.apply_session_limit(&record, limit_mode, now).await {
            self.abandon(&record.id, now).await;
            return Err(error);
        }
        self.emit(Event::Issued {
            subject,
            session_id: &record.id,
        });
        Ok(pair)
    }
}
