//! The refresh flow: one compare-and-swap, and when it fails, one read to
//! tell grace replay, reuse, revocation and expiry apart.

use time::OffsetDateTime;

use super::hooks::{Event, RefreshContext};
use super::signals::RefreshOutcome;
use super::{TokenService, session_status};
use crate::clock::shifted;
use crate::error::{Denied, Error};
use crate::session::{
    AuthContext, GraceData, LastSeen, Revocation, RevocationReason, SecretHash, SessionRecord,
};
use crate::store::{ExpectedGeneration, RefreshStore, RotationUpdate, StoreError, StoreOp};
use crate::token::access;
use crate::token::claims::{ClaimMembers, claims_to_json};
use crate::token::refresh::{self, Expiry, RetryWindow, VerifiedRefresh};
use crate::token::{AppClaims, DpopRequest, RefreshSecret, TokenPair};

/// What a refresh's request brings beside the token: its DPoP proof, the
/// client to record as last seen, a step-up's authentication context.
#[derive(Default)]
pub(super) struct Extras<'a> {
    pub(super) proof: Option<&'a DpopRequest<'a>>,
    pub(super) seen: Option<LastSeen>,
    pub(super) auth: Option<AuthContext>,
}

impl<S: RefreshStore, C: AppClaims> TokenService<S, C> {
    /// Rotates: spends `refresh_token` and returns a new pair. One store
    /// call when all is well.
    ///
    /// The previous refresh token, presented again within `reuse_grace` of
    /// its rotation, gets the current pair back (same refresh token claims,
    /// fresh access token) with no write. Any other old token is reuse: the
    /// session is revoked.
    ///
    /// # Errors
    /// Token errors (no store access for forged or expired tokens);
    /// [`Error::Denied`] from the hook (session untouched);
    /// [`Error::ReuseDetected`] (session now revoked);
    /// [`Error::SessionRevoked`], [`Error::SessionExpired`];
    /// [`Error::RotationInDoubt`] if the rotation itself failed with a
    /// retryable error (it may have been written and its answer lost): send
    /// its `retry_with` to the client in place of `refresh_token`;
    /// [`Error::Store`] if another store call fails. A store failure never
    /// revokes anything.
    ///
    /// A session bound to a DPoP key needs
    /// [`refresh_dpop`](Self::refresh_dpop): here its tokens get
    /// [`Error::DpopRequired`] (nothing changed), except spent ones, which
    /// are reuse as always.
    pub async fn refresh(&self, refresh_token: impl AsRef<str>) -> Result<TokenPair, Error> {
        self.refresh_recording(refresh_token.as_ref(), Extras::default())
            .await
    }

    /// [`refresh`](Self::refresh), recording the client that made it as the
    /// session's [`LastSeen`] (its instant is the rotation's, the record's
    /// `refreshed_at`), in the same store call as the rotation: no extra
    /// round trip. `None` leaves the recorded client as it was. A grace
    /// replay writes nothing, so it records nothing.
    ///
    /// A user agent over
    /// [`SessionInfo::MAX_USER_AGENT_BYTES`](crate::SessionInfo::MAX_USER_AGENT_BYTES)
    /// is cut to it (at a character boundary) rather than refused: it is
    /// what the client sent, and must not cost the user the session.
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh).
    pub async fn refresh_with(
        &self,
        refresh_token: impl AsRef<str>,
        seen: impl Into<Option<LastSeen>>,
    ) -> Result<TokenPair, Error> {
        let extras = Extras {
            seen: seen.into().map(LastSeen::truncated),
            ..Extras::default()
        };
        self.refresh_recording(refresh_token.as_ref(), extras).await
    }

    /// A refresh with what its request brings (see [`Extras`]), counted
    /// in the refresh signals.
    pub(super) async fn refresh_recording(
        &self,
        refresh_token: &str,
        extras: Extras<'_>,
    ) -> Result<TokenPair, Error> {
        let result = self.rotate_or_replay(refresh_token, extras).await;
        self.inner.signals.refreshed(match &result {
            Ok((_, outcome)) => *outcome,
            Err(error) => RefreshOutcome::of_error(error),
        });
        result.map(|(pair, _)| pair)
    }

    /// `refresh`, saying which way it succeeded: rotated, or a replay.
    async fn rotate_or_replay(
        &self,
        refresh_token: &str,
        extras: Extras<'_>,
    ) -> Result<(TokenPair, RefreshOutcome), Error> {
        let inner = &*self.inner;
        let settings = &inner.settings;
        let now = self.now();
        let presented = refresh::verify(
            &settings.rules,
            &inner.refresh,
            refresh_token,
            now,
            Expiry::Enforce,
        )?;
        let Extras {
            proof,
            seen: last_seen,
            auth,
        } = extras;
        // Before anything can change: a refused proof rotates nothing.
        if let Err(refused) = self.check_proof(&presented, proof, now).await {
            return Err(self.refused_proof(&presented, refused, now).await);
        }
        let context = RefreshContext {
            subject: &presented.subject,
            session_id: &presented.session_id,
            generation: presented.generation,
        };
        let new_claims = inner.hooks.before_refresh(&context).await?;
        let claims_json = new_claims
            .map(|claims| claims_to_json(&claims))
            .transpose()?;
        // The session keeps the idle lifetime it was issued with, signed
        // into its refresh token as `exp - iat` (less only where the
        // absolute expiry came first, and then that one rules anyway),
        // within today's maximum.
        let idle_ttl = match presented.lifetime() {
            span if span.is_positive() => span.min(settings.max_refresh_ttl()),
            _ => settings.refresh_ttl,
        };
        let idle_expires_at = shifted(now, idle_ttl, "refresh_ttl")?;
        if let Some(json) = &claims_json {
            self.check_new_claims_fit(&presented, auth.as_ref(), json, now, idle_expires_at)?;
        }

        let presented_hash = presented.secret.hash();
        let next = RefreshSecret::random();
        let rotation = RotationUpdate {
            generation: presented
                .generation
                .checked_add(1)
                .ok_or_else(|| Error::Malformed("generation out of range"))?,
            secret_hash: next.hash(),
            previous: GraceData {
                generation: presented.generation,
                secret_hash: presented_hash,
                rotated_at: now,
                wrapped_secret: presented.secret.wrap(&next),
            },
            refreshed_at: now,
            idle_expires_at,
            claims_json,
            last_seen,
            auth,
        };
        let expected = ExpectedGeneration {
            generation: presented.generation,
            secret_hash: presented_hash,
        };
        let rotate = inner
            .store
            .rotate(&presented.session_id, &expected, &rotation);
        let rotated = match self.timed(StoreOp::Rotate, rotate).await {
            Ok(rotated) => rotated,
            // A retryable failure may have come after the write: a lost
            // answer, a timeout. The rotation is in doubt.
            Err(error) if error.is_retryable() => return Err(self.in_doubt(&presented, error, now)),
            Err(error) => return Err(error.into()),
        };
        match rotated {
            Some(record) => {
                let pair = self.tokens(&record, &next, now)?;
                self.emit(Event::Refreshed {
                    subject: &record.subject,
                    session_id: &record.id,
                    generation: record.generation,
                });
                Ok((pair, RefreshOutcome::Rotated))
            }
            None => {
                let step_up = rotation.auth.as_ref();
                self.after_refused_rotation(&presented, &presented_hash, &next, now, step_up)
                    .await
            }
        }
    }

    /// The compare-and-swap failed: read the session once and tell our own
    /// rotation, grace replay, reuse, revocation and expiry apart.
    async fn after_refused_rotation(
        &self,
        presented: &VerifiedRefresh,
        presented_hash: &SecretHash,
        next: &RefreshSecret,
        now: OffsetDateTime,
        step_up: Option<&AuthContext>,
    ) -> Result<(TokenPair, RefreshOutcome), Error> {
        let store = &self.inner.store;
        let sid = &presented.session_id;
        let record = self
            .timed(StoreOp::Get, store.get(sid))
            .await?
            .ok_or(Error::SessionExpired)?;
        session_status(&record, now)?;
        // The session already holds the secret this very call made: its
        // rotation went through, and the refusal answered a copy of it (a
        // client that sent the command again after a dropped connection).
        // Only this call knows `next`, so no one else can get here.
        if record.generation == presented.generation.wrapping_add(1)
            && record.secret_hash == next.hash()
        {
            let pair = self.tokens(&record, next, now)?;
            self.emit(Event::Refreshed {
                subject: &record.subject,
                session_id: &record.id,
                generation: record.generation,
            });
            return Ok((pair, RefreshOutcome::Rotated));
        }
        if let Some(current) = self.grace_secret(&record, presented, presented_hash, now) {
            if step_up.is_some() {
                // The pair is the current one, without the step-up: handing
                // it out would claim an authentication that was not
                // recorded. Nothing was written or revoked.
                return Err(Denied::new(
                    "the refresh token was rotated just now: refresh, then step up with the new one",
                )
                .into());
            }
            let pair = self.tokens(&record, &current, now)?;
            self.emit(Event::GraceReplay {
                subject: &record.subject,
                session_id: sid,
                generation: record.generation,
            });
            return Ok((pair, RefreshOutcome::Grace));
        }
        if presented.generation == record.generation && *presented_hash == record.secret_hash {
            // States only move forward, so a record matching now matched
            // when `rotate` refused it: the store broke its contract.
            return Err(StoreError::other("store refused a rotation that matched").into());
        }
        Err(self.revoke_for_reuse(&record, presented, now).await)
    }

    /// `presented` is a spent generation of `record` that no grace covers:
    /// reuse. Revokes the session.
    pub(super) async fn revoke_for_reuse(
        &self,
        record: &SessionRecord,
        presented: &VerifiedRefresh,
        now: OffsetDateTime,
    ) -> Error {
        let why = Revocation {
            reason: RevocationReason::ReuseDetected,
            at: now,
        };
        let sid = &record.id;
        let revoke = self.inner.store.revoke(sid, &why);
        if let Err(error) = self.timed(StoreOp::Revoke, revoke).await {
            return error.into();
        }
        self.emit(Event::ReuseDetected {
            subject: &record.subject,
            session_id: sid,
            presented: presented.generation,
            current: record.generation,
        });
        Error::ReuseDetected
    }

    /// Claims a hook put in place of the stored ones must leave the access
    /// token as much room below `max_token_bytes` as a login does: checked
    /// by signing one before the rotation, which could not be undone.
    fn check_new_claims_fit(
        &self,
        presented: &VerifiedRefresh,
        auth: Option<&AuthContext>,
        claims_json: &str,
        now: OffsetDateTime,
        session_end: OffsetDateTime,
    ) -> Result<(), Error> {
        let inner = &*self.inner;
        let members = ClaimMembers::of(claims_json).ok_or(Error::Claims {
            problem: "must serialize to a JSON object",
            source: None,
        })?;
        // The stored authentication context is unknown before the
        // rotation (a step-up's own is known); `issue` and `reauthenticate`
        // checked the token fits with it and the claims of their time.
        let holder = access::Holder {
            sub: &presented.subject,
            sid: &presented.session_id,
            jkt: presented.jkt.as_ref(),
            auth,
        };
        let (probe, _) = access::sign_for(
            &inner.settings.rules,
            &inner.access,
            holder,
            members,
            (now, session_end),
        )?;
        self.check_headroom(probe.as_str())
    }

    /// The error for a rotation in doubt: the presented token again, signed
    /// with the span of its holder's attempts in doubt so far, for the
    /// client to retry with. Should that token not fit (the cap, a clock at
    /// the end of time), the plain store failure.
    fn in_doubt(
        &self,
        presented: &VerifiedRefresh,
        error: StoreError,
        now: OffsetDateTime,
    ) -> Error {
        let inner = &*self.inner;
        self.emit(Event::RotationInDoubt {
            subject: &presented.subject,
            session_id: &presented.session_id,
            generation: presented.generation,
        });
        let window = RetryWindow::extended(presented.retry, now);
        let signed =
            refresh::sign_in_doubt(&inner.settings.rules, &inner.refresh, presented, window);
        match (signed, presented.expires_at()) {
            (Ok(retry_with), Some(expires_at)) => Error::RotationInDoubt {
                source: error,
                retry_with,
                expires_at,
            },
            _ => Error::Store(error),
        }
    }

    /// Whether a replay of the previous generation at `now` gets its
    /// successor: inside the grace window of the rotation at `rotated_at`
    /// (races, a lost response), or inside `outage_tolerance` when the
    /// token proves its holder made that very attempt and lost the answer
    /// (`retry`, from [`Error::RotationInDoubt`]).
    fn replay_allowed(
        &self,
        retry: Option<RetryWindow>,
        rotated_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> bool {
        let settings = &self.inner.settings;
        let elapsed = now - rotated_at;
        let own_attempt = retry.is_some_and(|w| w.covers(rotated_at));
        self.in_grace_window(rotated_at, now)
            || (own_attempt
                && elapsed >= -settings.rules.leeway
                && elapsed < settings.outage_tolerance)
    }

    /// Whether `now` lies in the grace window of a rotation at `rotated_at`:
    /// `0 <= now - rotated_at < reuse_grace`, where a clock up to `leeway`
    /// behind the one that rotated (another node's, or a small step back)
    /// still counts as 0. A clock further behind closes the window: time
    /// going backwards must never widen it, so such a replay is reuse.
    fn in_grace_window(&self, rotated_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        let settings = &self.inner.settings;
        let elapsed = now - rotated_at;
        elapsed >= -settings.rules.leeway && elapsed < settings.reuse_grace
    }

    /// The current secret, to sign the current pair again with, if
    /// `presented` is the previous generation and its replay is allowed
    /// (see [`replay_allowed`](Self::replay_allowed)).
    pub(super) fn grace_secret(
        &self,
        record: &SessionRecord,
        presented: &VerifiedRefresh,
        presented_hash: &SecretHash,
        now: OffsetDateTime,
    ) -> Option<RefreshSecret> {
        let previous = record.previous.as_ref()?;
        if !self.replay_allowed(presented.retry, previous.rotated_at, now)
            || previous.generation != presented.generation
            || previous.secret_hash != *presented_hash
            || record.generation != previous.generation.wrapping_add(1)
        {
            return None;
        }
        presented
            .secret
            .unwrap(&previous.wrapped_secret, &record.secret_hash)
    }
}
