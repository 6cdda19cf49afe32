//! Every store call of `issue`, `refresh` (rotation, grace replay, reuse,
//! revoked session), `revoke`, `revoke_session` and `revoke_subject` fails
//! in turn, before reaching the store and after it (a lost answer). Each
//! time: an outage error (typed, retryable, "try later"); before the store,
//! no change at all; after it, no change but the one the call itself was
//! making; never a session revoked by the failure; and once the store is
//! back, the same refresh token does what it did before.

use std::future::Future;

use jwt_rotate::store::StoreErrorKind;
use jwt_rotate::testing::{Calls, Fault, StoreOp};
use jwt_rotate::{Error, ErrorClass, NoClaims, RevocationReason, SessionInfo};
use time::Duration;

use super::{Service, assert_outage, common, login, service, snapshot};

/// A fault on the `n`th store call of the operation, of one kind.
#[derive(Debug, Clone, Copy)]
struct Injected {
    n: u64,
    fault: Fault,
}

/// Arms the fault, runs `op`, disarms; returns its error and the store
/// operation that was faulted.
async fn faulted<T: std::fmt::Debug>(
    service: &Service,
    at: Injected,
    op: impl Future<Output = Result<T, Error>>,
) -> (Error, StoreOp) {
    service.store().take_calls();
    service.store().inject(Calls::Nth(at.n), at.fault);
    let result = op.await;
    service.store().heal();
    let calls = service.store().take_calls();
    let err = result.expect_err("a store failure must fail the operation");
    let Some(store) = err.store_error() else {
        panic!("{at:?}: expected Error::Store, got {err:?}");
    };
    assert_eq!(store.kind(), StoreErrorKind::Unavailable, "{at:?}");
    assert_eq!(err.class(), ErrorClass::TryLater, "{at:?}");
    // And the rest of an outage: retryable, not a 401, its code.
    assert_outage(&err);
    (err, calls[at.n as usize - 1])
}

/// Runs `case` healthy (it returns the operation's store calls), then once
/// per call and fault kind. Returns how many faulted runs there were.
async fn matrix<F, Fut>(name: &str, case: F) -> u64
where
    F: Fn(Option<Injected>) -> Fut,
    Fut: Future<Output = Vec<StoreOp>>,
{
    let calls = case(None).await;
    assert!(!calls.is_empty(), "{name} makes no store call");
    let mut cases = 0;
    for n in 1..=calls.len() as u64 {
        for fault in [Fault::Fail, Fault::FailAfter] {
            case(Some(Injected { n, fault })).await;
            cases += 1;
        }
    }
    let names: Vec<&str> = calls.iter().map(|op| op.name()).collect();
    println!("{name}: store calls {names:?}; {cases} faulted runs");
    cases
}

#[tokio::test]
async fn issue() {
    let cases = matrix("issue", |at| async move {
        let (service, _clock) = service(None);
        let old = login(&service, "alice").await;
        let before = snapshot(&service, &[old.session_id]).await;
        let Some(at) = at else {
            common::login(&service, "alice").await;
            return service.store().take_calls();
        };
        let issued = service.issue("alice", NoClaims {}, SessionInfo::default());
        faulted(&service, at, issued).await;
        // No live session without a token; the old one untouched.
        assert_eq!(
            common::session_ids(&service, "alice").await,
            [old.session_id]
        );
        assert_eq!(snapshot(&service, &[old.session_id]).await, before);
        service.refresh(&old.refresh_token).await.unwrap();
        common::login(&service, "alice").await;
        Vec::new()
    });
    println!("issue: {} fault cases", cases.await);
}

#[tokio::test]
async fn issue_over_the_session_limit() {
    let cases = matrix("issue, max 2 sessions, 2 live", |at| async move {
        let (service, clock) = service(Some(2));
        let oldest = login(&service, "alice").await;
        clock.advance(Duration::seconds(1));
        let older = login(&service, "alice").await;
        clock.advance(Duration::seconds(1));
        let ids = [oldest.session_id, older.session_id];
        let before = snapshot(&service, &ids).await;
        let Some(at) = at else {
            common::login(&service, "alice").await;
            return service.store().take_calls();
        };
        let issued = service.issue("alice", NoClaims {}, SessionInfo::default());
        let (_, op) = faulted(&service, at, issued).await;
        let after = snapshot(&service, &ids).await;
        if (op, at.fault) == (StoreOp::Revoke, Fault::FailAfter) {
            // The limit's own revocation of the oldest went through.
            let reason = after[0].as_ref().unwrap().revoked.map(|r| r.reason);
            assert_eq!(reason, Some(RevocationReason::SessionLimit));
            assert_eq!(after[1], before[1]);
        } else {
            assert_eq!(after, before, "{at:?} on {op:?}");
        }
        // The failed login's session is not live, whatever happened to it.
        let live = common::session_ids(&service, "alice").await;
        assert!(live.iter().all(|id| ids.contains(id)), "{at:?}: {live:?}");
        service.refresh(&older.refresh_token).await.unwrap();
        let retried = common::login(&service, "alice").await;
        assert_eq!(
            common::session_ids(&service, "alice").await[0],
            retried.session_id
        );
        Vec::new()
    });
    println!("issue over the limit: {} fault cases", cases.await);
}

#[tokio::test]
async fn a_store_down_for_good_leaves_the_failed_logins_session_without_a_token() {
    let (service, _clock) = service(Some(1));
    let old = login(&service, "alice").await;
    service.store().inject(Calls::From(2), Fault::Fail);
    let err = service
        .issue("alice", NoClaims {}, SessionInfo::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)));
    use StoreOp::*;
    assert_eq!(service.store().take_calls(), [Create, Sessions, Revoke]);
    service.store().heal();
    // Best effort failed: the new session is live but nobody holds a token
    // of it; the old one was not touched and still works.
    assert_eq!(common::session_ids(&service, "alice").await.len(), 2);
    service.refresh(&old.refresh_token).await.unwrap();
}

/// What `refresh` was doing when its store failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Rotation,
    GraceReplay,
    Reuse,
    RevokedSession,
}

async fn refresh_case(path: Path, at: Option<Injected>) -> Vec<StoreOp> {
    let (service, clock) = service(None);
    let g0 = login(&service, "alice").await;
    let sid = [g0.session_id];
    let (presented, current) = match path {
        Path::Rotation => (g0.clone(), None),
        Path::RevokedSession => {
            service.revoke_session(&g0.session_id).await.unwrap();
            (g0.clone(), None)
        }
        Path::GraceReplay | Path::Reuse => {
            let g1 = service.refresh(&g0.refresh_token).await.unwrap();
            let wait = if path == Path::Reuse { 60 } else { 2 };
            clock.advance(Duration::seconds(wait));
            (g0.clone(), Some(g1))
        }
    };
    service.store().take_calls();
    let before = snapshot(&service, &sid).await;
    let Some(at) = at else {
        let _outcome = service.refresh(&presented.refresh_token).await;
        return service.store().take_calls();
    };
    let (_, op) = faulted(&service, at, service.refresh(&presented.refresh_token)).await;
    let after = snapshot(&service, &sid).await.remove(0).unwrap();
    match (path, op, at.fault) {
        // The rotation went through; its answer was lost.
        (Path::Rotation, StoreOp::Rotate, Fault::FailAfter) => {
            assert_eq!(after.generation, 1);
            assert!(after.revoked.is_none());
        }
        // The reuse revocation went through; its answer was lost.
        (Path::Reuse, StoreOp::Revoke, Fault::FailAfter) => {
            let reason = after.revoked.map(|r| r.reason);
            assert_eq!(reason, Some(RevocationReason::ReuseDetected));
        }
        _ => assert_eq!(Some(after), before[0], "{path:?} {at:?} on {op:?}"),
    }

    // The store is back: the same token does what it would have done.
    let retried = service.refresh(&presented.refresh_token).await;
    match path {
        Path::Rotation => {
            let pair = retried.unwrap();
            service.verify_live(&pair.access_token).await.unwrap();
            service.refresh(&pair.refresh_token).await.unwrap();
        }
        Path::GraceReplay => {
            let current = current.unwrap();
            assert_eq!(retried.unwrap().refresh_token, current.refresh_token);
        }
        Path::Reuse if op == StoreOp::Revoke && at.fault == Fault::FailAfter => {
            assert!(matches!(retried, Err(Error::SessionRevoked)), "{retried:?}");
        }
        Path::Reuse => {
            assert!(matches!(retried, Err(Error::ReuseDetected)), "{retried:?}");
        }
        Path::RevokedSession => assert!(matches!(retried, Err(Error::SessionRevoked))),
    }
    Vec::new()
}

#[tokio::test]
async fn refresh() {
    let mut total = 0;
    for path in [
        Path::Rotation,
        Path::GraceReplay,
        Path::Reuse,
        Path::RevokedSession,
    ] {
        let name = format!("refresh, {path:?}");
        total += matrix(&name, |at| refresh_case(path, at)).await;
    }
    println!("refresh: {total} fault cases");
}

#[tokio::test]
async fn a_reuse_the_store_could_not_act_on_leaves_the_current_token_working() {
    let (service, clock) = service(None);
    let g0 = login(&service, "alice").await;
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    clock.advance(Duration::minutes(1));
    let presented = service.refresh(&g0.refresh_token);
    let at = Injected {
        n: 3,
        fault: Fault::Fail,
    };
    assert_eq!(faulted(&service, at, presented).await.1, StoreOp::Revoke);
    let g2 = service.refresh(&g1.refresh_token).await.unwrap();
    service.verify_live(&g2.access_token).await.unwrap();
    // Presented again once the store is back, the old token is still reuse.
    let reuse = service.refresh(&g0.refresh_token).await;
    assert!(matches!(reuse, Err(Error::ReuseDetected)));
}

/// `revoke`, `revoke_session` or `revoke_subject`.
#[derive(Debug, Clone, Copy)]
enum Revoker {
    Token,
    Session,
    Subject,
}

async fn revoke_case(how: Revoker, at: Option<Injected>) -> Vec<StoreOp> {
    let (service, _clock) = service(None);
    let mine = login(&service, "alice").await;
    let other = login(&service, "alice").await;
    let kept = login(&service, "alice").await;
    let ids = [mine.session_id, other.session_id, kept.session_id];
    let before = snapshot(&service, &ids).await;
    let call = || async {
        match how {
            Revoker::Token => service.revoke(&mine.refresh_token).await.map(u64::from),
            Revoker::Session => service
                .revoke_session(&mine.session_id)
                .await
                .map(u64::from),
            Revoker::Subject => {
                service
                    .revoke_subject("alice", Some(&kept.session_id))
                    .await
            }
        }
    };
    let Some(at) = at else {
        call().await.unwrap();
        return service.store().take_calls();
    };
    faulted(&service, at, call()).await;
    let after = snapshot(&service, &ids).await;
    if at.fault == Fault::Fail {
        assert_eq!(after, before, "{how:?} {at:?}");
        // Nothing was revoked: every token still rotates.
        for pair in [&mine, &other, &kept] {
            service.refresh(&pair.refresh_token).await.unwrap();
        }
        call().await.unwrap();
    } else {
        // The revocation went through; the retry finds it done.
        assert!(after[0].as_ref().unwrap().revoked.is_some());
        assert_eq!(after[2], before[2], "the spared session");
        assert_eq!(call().await.unwrap(), 0, "{how:?}: already revoked");
    }
    common::assert_revoked(&service, &mine).await;
    service.refresh(&kept.refresh_token).await.unwrap();
    Vec::new()
}

#[tokio::test]
async fn revocations() {
    let mut total = 0;
    for how in [Revoker::Token, Revoker::Session, Revoker::Subject] {
        let name = format!("revoke by {how:?}");
        total += matrix(&name, |at| revoke_case(how, at)).await;
    }
    println!("revocations: {total} fault cases");
}
