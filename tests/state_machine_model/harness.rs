//! The harness for tests/state_machine_model.rs: runs each op against the
//! service and the reference model, compares outcomes, then the store's
//! records.

use std::cell::RefCell;
use std::collections::BTreeMap;

use jwt_rotate::{Error, ManualClock, MemoryStore, TokenPair, TokenService};

use jwt_rotate::store::RefreshStore;
use jwt_rotate::{NoClaims, RevocationReason, SessionInfo};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use time::{Duration, OffsetDateTime};

use crate::common;
use crate::reference::{ABSOLUTE, ACCESS, IDLE, LEEWAY, Model, Op, Pick, Refresh, SUBJECTS};

pub(crate) type Stats = RefCell<BTreeMap<String, usize>>;

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// The error variant, as the model names it.
fn kind(e: &Error) -> &'static str {
    match e {
        Error::Malformed(_) => "Malformed",
        Error::InvalidSignature => "InvalidSignature",
        Error::Expired => "Expired",
        Error::NotYetValid => "NotYetValid",
        Error::InvalidClaim { claim: "typ", .. } => "InvalidClaim(typ)",
        Error::InvalidClaim { .. } => "InvalidClaim",
        Error::SessionRevoked => "SessionRevoked",
        Error::SessionExpired => "SessionExpired",
        Error::ReuseDetected => "ReuseDetected",
        Error::Denied(_) => "Denied",
        Error::Store(_) => "Store",
        _ => "other",
    }
}

struct Harness<'a> {
    service: TokenService<MemoryStore>,
    clock: ManualClock,
    model: Model,
    stats: &'a Stats,
}

impl Harness<'_> {
    fn note(&self, op: &str, outcome: &str) {
        *self
            .stats
            .borrow_mut()
            .entry(format!("{op:<13} {outcome}"))
            .or_default() += 1;
    }

    /// `got` must be the error `want`; records the outcome.
    fn expect_err<T>(
        &self,
        op: &str,
        got: Result<T, Error>,
        want: &str,
        detail: &str,
    ) -> Result<(), TestCaseError> {
        match got {
            Err(e) if kind(&e) == want => {
                self.note(op, &format!("{want}{detail}"));
                Ok(())
            }
            Err(e) => Err(fail(format!("{op}: got {e:?}, model expected {want}"))),
            Ok(_) => Err(fail(format!("{op}: got Ok, model expected {want}"))),
        }
    }

    /// A pair just handed out for session `i` at `now`: its fields, and its
    /// access token verifies to the session.
    fn check_pair(
        &self,
        i: usize,
        pair: &TokenPair,
        refresh_exp: i64,
    ) -> Result<(), TestCaseError> {
        let s = &self.model.sessions[i];
        let now = self.model.now;
        prop_assert_eq!(pair.session_id, s.id);
        prop_assert_eq!(ts(pair.refresh_expires_at), refresh_exp);
        prop_assert_eq!(ts(pair.access_expires_at), (now + ACCESS).min(refresh_exp));
        let claims = self
            .service
            .verify(&pair.access_token)
            .map_err(|e| fail(format!("{e:?}")))?;
        prop_assert_eq!(claims.sid, s.id);
        prop_assert_eq!(claims.sub.as_str(), SUBJECTS[s.subject]);
        Ok(())
    }

    async fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let now = self.model.now;
        match *op {
            Op::Issue(subject) => {
                let got =
                    self.service
                        .issue(SUBJECTS[subject], NoClaims {}, SessionInfo::default());
                let pair = got.await.map_err(|e| fail(format!("issue: {e:?}")))?;
                prop_assert!(self.model.sessions.iter().all(|s| s.id != pair.session_id));
                let i = self.model.issue(subject, &pair);
                self.check_pair(i, &pair, now + IDLE)?;
                self.note("issue", "Ok");
            }
            Op::Refresh(k, pick) => {
                let Some(i) = self.model.index(k) else {
                    return Ok(());
                };
                self.refresh(i, pick).await?;
            }
            Op::Revoke(k, pick) => {
                let Some(i) = self.model.index(k) else {
                    return Ok(());
                };
                let (token, presented) = self.model.refresh_token(i, pick);
                let got = self.service.revoke(&token).await;
                match presented {
                    Err(forged) => self.expect_err("revoke", got, forged, "")?,
                    Ok(_) => {
                        let want = self.model.revoke(i, RevocationReason::Logout);
                        prop_assert_eq!(got.map_err(|e| fail(format!("revoke: {e:?}")))?, want);
                        self.note("revoke", if want { "Ok(true)" } else { "Ok(false)" });
                    }
                }
            }
            Op::RevokeSession(k) => {
                let Some(i) = self.model.index(k) else {
                    return Ok(());
                };
                let got = self
                    .service
                    .revoke_session(&self.model.sessions[i].id)
                    .await;
                let want = self.model.revoke(i, RevocationReason::Revoked);
                prop_assert_eq!(
                    got.map_err(|e| fail(format!("revoke_session: {e:?}")))?,
                    want
                );
                self.note(
                    "revoke_session",
                    if want { "Ok(true)" } else { "Ok(false)" },
                );
            }
            Op::RevokeSubject(subject, except) => {
                let except = except
                    .and_then(|k| self.model.index(k))
                    .map(|i| self.model.sessions[i].id);
                let got = self
                    .service
                    .revoke_subject(SUBJECTS[subject], except.as_ref())
                    .await;
                let want = self.model.revoke_subject(subject, except);
                prop_assert_eq!(
                    got.map_err(|e| fail(format!("revoke_subject: {e:?}")))?,
                    want
                );
                self.note(
                    "revoke_subject",
                    if want > 0 { "Ok(n > 0)" } else { "Ok(0)" },
                );
            }
            Op::Advance(by) => self.advance_to(now + by),
            Op::AdvanceAndRefreshAll(by, times) => {
                for _ in 0..times {
                    self.advance_to(self.model.now + by);
                    for i in 0..self.model.sessions.len() {
                        self.refresh(i, Pick::Current).await?;
                    }
                }
            }
            Op::AdvanceTo(k, anchor, delta) => {
                let Some(i) = self.model.index(k) else {
                    return Ok(());
                };
                if let Some(at) = self.model.anchor(i, anchor) {
                    self.advance_to(at + delta);
                }
            }
            Op::VerifyLive(k, pick) => {
                let Some(i) = self.model.index(k) else {
                    return Ok(());
                };
                let (token, presented) = self.model.access_token(i, pick);
                let got = self.service.verify_live(&token).await;
                let detail = match presented {
                    Ok(exp) if now + 1 == exp + LEEWAY => " [last second]",
                    Ok(exp) if now == exp + LEEWAY => " [at token expiry]",
                    Ok(exp) if exp == self.model.sessions[i].created + ABSOLUTE => {
                        " [absolute end]"
                    }
                    _ => "",
                };
                match presented.map(|exp| self.model.verify_live(i, exp)) {
                    Err(want) | Ok(Err(want)) => {
                        self.expect_err("verify_live", got, want, detail)?;
                    }
                    Ok(Ok(())) => {
                        let claims = got.map_err(|e| {
                            fail(format!("verify_live: got {e:?}, model expected Ok"))
                        })?;
                        prop_assert_eq!(claims.sid, self.model.sessions[i].id);
                        self.note("verify_live", &format!("Ok{detail}"));
                    }
                }
            }
            Op::Sessions(subject) => {
                let got = self.service.sessions(SUBJECTS[subject]).await;
                let got = got.map_err(|e| fail(format!("sessions: {e:?}")))?;
                let got: Vec<_> = got
                    .iter()
                    .map(|v| {
                        (
                            v.id,
                            ts(v.created_at),
                            ts(v.refreshed_at),
                            // Past the absolute expiry, the idle one does
                            // not count (see the record check below).
                            ts(v.idle_expires_at).min(ts(v.absolute_expires_at)),
                            ts(v.absolute_expires_at),
                        )
                    })
                    .collect();
                let want = self.model.live_sessions(subject);
                let want: Vec<_> = want
                    .into_iter()
                    .map(|(id, c, r, idle, abs)| (id, c, r, idle.min(abs), abs))
                    .collect();
                prop_assert_eq!(&got, &want, "sessions({}) at {}", SUBJECTS[subject], now);
                self.note(
                    "sessions",
                    ["0 live", "1 live", "2+ live"][want.len().min(2)],
                );
            }
            Op::PurgeExpired => {
                let got = self.service.purge_expired().await;
                let want = self.model.purge();
                prop_assert_eq!(
                    got.map_err(|e| fail(format!("purge_expired: {e:?}")))?,
                    want
                );
                self.note(
                    "purge_expired",
                    if want > 0 { "Ok(n > 0)" } else { "Ok(0)" },
                );
            }
        }
        Ok(())
    }

    /// `refresh` with session `i`'s token that `pick` names.
    async fn refresh(&mut self, i: usize, pick: Pick) -> Result<(), TestCaseError> {
        let now = self.model.now;
        let (token, presented) = self.model.refresh_token(i, pick);
        let got = self.service.refresh(&token).await;
        let (detail, want) = match presented {
            Err(forged) => return self.expect_err("refresh", got, forged, ""),
            Ok(g) => (self.model.refresh_detail(i, g), self.model.refresh(i, g)),
        };
        let detail = detail.as_str();
        match (want, got) {
            (Refresh::Fail(want), got) => self.expect_err("refresh", got, want, detail)?,
            (Refresh::Rotate, Ok(pair)) => {
                let s = &self.model.sessions[i];
                let fresh = s
                    .refresh
                    .iter()
                    .all(|(t, _)| t != pair.refresh_token.as_str());
                prop_assert!(fresh, "a rotation must hand out a new refresh token");
                self.check_pair(i, &pair, (now + IDLE).min(s.created + ABSOLUTE))?;
                self.model.rotated(i, &pair);
                self.note("refresh", &format!("Ok (rotation){detail}"));
            }
            (Refresh::Grace, Ok(pair)) => {
                let s = &self.model.sessions[i];
                let (current, exp) = s.refresh.last().cloned().unwrap();
                prop_assert_eq!(
                    pair.refresh_token.as_str(),
                    current.as_str(),
                    "grace replay"
                );
                self.check_pair(i, &pair, exp)?;
                let access = (
                    pair.access_token.as_str().into(),
                    ts(pair.access_expires_at),
                );
                self.model.sessions[i].access.push(access);
                self.note("refresh", &format!("Ok (grace replay){detail}"));
            }
            (want, got) => {
                return Err(fail(format!(
                    "refresh: got {got:?}, model expected {want:?}"
                )));
            }
        }
        Ok(())
    }

    /// Moves the clock forward to `at` (never back).
    fn advance_to(&mut self, at: i64) {
        let by = at - self.model.now;
        if by > 0 {
            self.clock.advance(Duration::seconds(by));
            self.model.now = at;
        }
    }

    /// Every record in the store is what the model says it is.
    async fn check_store(&self) -> Result<(), TestCaseError> {
        for s in &self.model.sessions {
            let record = self.service.store().get(&s.id).await;
            let record = record.map_err(|e| fail(format!("store get: {e:?}")))?;
            let Some(r) = record else {
                prop_assert!(s.purged, "record of {:?} missing", s.id);
                continue;
            };
            let generation = s.refresh.len() as u64 - 1;
            prop_assert!(!s.purged, "record of {:?} should have been purged", s.id);
            prop_assert_eq!(r.generation, generation);
            prop_assert_eq!(r.subject.as_str(), SUBJECTS[s.subject]);
            prop_assert_eq!(
                (ts(r.created_at), ts(r.refreshed_at)),
                (s.created, s.refreshed)
            );
            // A rotation extends by the span of the refresh token it spent;
            // once that span was cut by the absolute expiry, the idle one
            // lies beyond it and only the earlier of the two counts.
            let absolute = s.created + ABSOLUTE;
            prop_assert_eq!(
                ts(r.idle_expires_at).min(absolute),
                (s.refreshed + IDLE).min(absolute)
            );
            prop_assert_eq!(ts(r.absolute_expires_at), s.created + ABSOLUTE);
            prop_assert_eq!(r.revoked.map(|v| (v.reason, ts(v.at))), s.revoked);
            let previous = r.previous.map(|p| (p.generation, ts(p.rotated_at)));
            prop_assert_eq!(
                previous,
                (generation > 0).then(|| (generation - 1, s.refreshed))
            );
        }
        Ok(())
    }
}

pub(crate) async fn run_case(grace: i64, ops: &[Op], stats: &Stats) -> Result<(), TestCaseError> {
    let clock = ManualClock::new(common::start());
    let builder = common::builder(&clock).reuse_grace(Duration::seconds(grace));
    let service = builder
        .build(MemoryStore::new())
        .map_err(|e| fail(format!("{e:?}")))?;
    let model = Model::new(ts(common::start()), grace);
    let mut harness = Harness {
        service,
        clock,
        model,
        stats,
    };
    for (n, op) in ops.iter().enumerate() {
        let at = harness.model.now - ts(common::start());
        let context = |e: TestCaseError| fail(format!("op #{n} {op:?} at start+{at}s: {e}"));
        harness.step(op).await.map_err(context)?;
        harness.check_store().await.map_err(context)?;
    }
    Ok(())
}
