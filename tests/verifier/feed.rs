//! The revocation view, fed by MemoryStore's `RevocationFeed`.

use std::sync::Arc;

use jwt_rotate::store::{CatchUp, Cursor, RevocationFeed};
use jwt_rotate::{Error, ManualClock, MemoryStore, Verifier};
use time::Duration;

use super::{common, ed_service, verifier};

/// A service and a verifier following its store's feed, synced once.
async fn pair(
    store: Arc<MemoryStore>,
) -> (
    jwt_rotate::TokenService<Arc<MemoryStore>>,
    Verifier,
    ManualClock,
) {
    let clock = ManualClock::new(common::start());
    let service = ed_service(&clock, Arc::clone(&store));
    let verifier = verifier(&clock)
        .jwks(service.jwks())
        .revocation_feed(store)
        .max_staleness(Duration::seconds(30))
        .build()
        .unwrap();
    (service, verifier, clock)
}

#[tokio::test]
async fn revoked_sessions_and_subjects_are_refused_once_the_feed_says_so() {
    let (service, verifier, _clock) = pair(Arc::default()).await;
    let alice = common::login(&service, "alice").await;
    let alice_phone = common::login(&service, "alice").await;
    let bob = common::login(&service, "bob").await;
    // Never synced: fails closed, as "try later".
    let found = verifier.verify(&alice.access_token).await.unwrap_err();
    assert!(
        matches!(found, Error::RevocationsStale { last_synced: None }),
        "{found:?}"
    );
    verifier.sync_revocations().await.unwrap();
    verifier.verify(&alice.access_token).await.unwrap();

    service.revoke(&alice.refresh_token).await.unwrap();
    verifier.verify(&alice.access_token).await.unwrap();
    verifier.sync_revocations().await.unwrap();
    let found = verifier.verify(&alice.access_token).await.unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
    verifier.verify(&alice_phone.access_token).await.unwrap();
    verifier.verify(&bob.access_token).await.unwrap();

    // "Log out other devices" from bob's second session.
    let bob_laptop = common::login(&service, "bob").await;
    service
        .revoke_subject("bob", Some(&bob_laptop.session_id))
        .await
        .unwrap();
    verifier.sync_revocations().await.unwrap();
    let found = verifier.verify(&bob.access_token).await.unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
    verifier.verify(&bob_laptop.access_token).await.unwrap();
    verifier.verify(&alice_phone.access_token).await.unwrap();
    // One event for the session, one for the subject.
    let status = verifier.revocations().unwrap();
    assert_eq!((status.sessions, status.subjects), (1, 1), "{status:?}");
    assert_eq!(status.cursor, Cursor::new(2), "{status:?}");
}

#[tokio::test]
async fn entries_are_dropped_after_access_ttl_and_leeway() {
    let (service, verifier, clock) = pair(Arc::default()).await;
    let alice = common::login(&service, "alice").await;
    service.revoke(&alice.refresh_token).await.unwrap();
    service.revoke_subject("bob", None).await.unwrap();
    verifier.sync_revocations().await.unwrap();
    let held = verifier.revocations().unwrap();
    assert_eq!((held.sessions, held.subjects), (1, 1));
    // access_ttl 15 min + leeway 5 s after the revocation: still held at
    // the last second, when alice's token is still within its leeway.
    clock.advance(Duration::minutes(15) + Duration::seconds(4));
    verifier.sync_revocations().await.unwrap();
    let held = verifier.revocations().unwrap();
    assert_eq!((held.sessions, held.subjects), (1, 1));
    let found = verifier.verify(&alice.access_token).await.unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
    clock.advance(Duration::seconds(2));
    verifier.sync_revocations().await.unwrap();
    let held = verifier.revocations().unwrap();
    assert_eq!((held.sessions, held.subjects), (0, 0), "{held:?}");
    // The token it refused has expired by itself by now.
    let found = verifier.verify(&alice.access_token).await.unwrap_err();
    assert!(matches!(found, Error::Expired), "{found:?}");
}

#[tokio::test]
async fn a_stale_view_fails_closed_and_says_how_stale_it_is() {
    let (service, verifier, clock) = pair(Arc::default()).await;
    let alice = common::login(&service, "alice").await;
    assert_eq!(verifier.staleness(), Some(None));
    verifier.sync_revocations().await.unwrap();
    clock.advance(Duration::seconds(30));
    assert_eq!(verifier.staleness(), Some(Some(Duration::seconds(30))));
    verifier.verify(&alice.access_token).await.unwrap();
    clock.advance(Duration::seconds(1));
    let found = verifier.verify(&alice.access_token).await.unwrap_err();
    let synced = Some(common::start());
    assert!(matches!(found, Error::RevocationsStale { last_synced } if last_synced == synced));
    assert_eq!(found.class(), jwt_rotate::ErrorClass::TryLater);
    // A forged token is still a 401, not a 503.
    let found = verifier.verify("a.b.c").await.unwrap_err();
    assert!(found.is_unauthorized(), "{found:?}");
    verifier.sync_revocations().await.unwrap();
    verifier.verify(&alice.access_token).await.unwrap();
}

#[cfg(feature = "revocation-feed")]
#[tokio::test]
async fn a_follower_catches_up_after_a_disconnect_without_missing_anything() {
    use jwt_rotate::store::RefreshStore;

    let store = Arc::new(MemoryStore::new());
    let (service, verifier, _clock) = pair(Arc::clone(&store)).await;
    let [a, b, c] = [
        common::login(&service, "a").await,
        common::login(&service, "b").await,
        common::login(&service, "c").await,
    ];
    let follower = tokio::spawn(verifier.follow());
    until(|| verifier.staleness() == Some(Some(Duration::ZERO))).await;
    service.revoke(&a.refresh_token).await.unwrap();
    until_refused(&verifier, &a).await;

    // Disconnected: revocations happen while nobody listens.
    follower.abort();
    let _ = follower.await;
    service.revoke(&b.refresh_token).await.unwrap();
    verifier.verify(&b.access_token).await.unwrap();
    // Reconnected: catches up from its cursor, then follows pushes.
    let follower = tokio::spawn(verifier.follow());
    until_refused(&verifier, &b).await;
    service.revoke(&c.refresh_token).await.unwrap();
    until_refused(&verifier, &c).await;
    assert_eq!(verifier.revocations().unwrap().sessions, 3);
    // The follower ends with the verifier.
    drop(verifier);
    store
        .revoke_subject("nobody", None, &revocation())
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), follower)
        .await
        .expect("the follower outlived its verifier")
        .unwrap();
}

#[tokio::test]
async fn a_real_gap_refuses_the_tokens_issued_up_to_what_was_missed() {
    let store = Arc::new(MemoryStore::with_feed_capacity(2));
    let (service, verifier, clock) = pair(Arc::clone(&store)).await;
    let early = common::login(&service, "early").await;
    verifier.sync_revocations().await.unwrap();
    clock.advance(Duration::seconds(60));
    let revoked_at = common::start() + Duration::seconds(60);
    for n in 0..3 {
        let victim = common::login(&service, &format!("v{n}")).await;
        service.revoke(&victim.refresh_token).await.unwrap();
    }
    let CatchUp::TooOld { head, missed_until } =
        store.since(verifier_cursor(&verifier)).await.unwrap()
    else {
        panic!("a ring of two cannot hold three events");
    };
    assert_eq!(
        missed_until,
        Some(revoked_at),
        "the dropped event's instant"
    );
    clock.advance(Duration::seconds(2));
    let between = common::login(&service, "between").await;
    verifier.sync_revocations().await.unwrap();
    // The missed revocation may have been of any session issued up to it.
    let found = verifier.verify(&early.access_token).await.unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
    assert_eq!(verifier.revocations().unwrap().cursor, head);
    // Not one issued after it, nor the early session once it refreshes.
    verifier.verify(&between.access_token).await.unwrap();
    let refreshed = service.refresh(&early.refresh_token).await.unwrap();
    verifier.verify(&refreshed.access_token).await.unwrap();
}

#[tokio::test]
async fn a_restart_after_old_trims_refuses_nothing_still_valid() {
    let store = Arc::new(MemoryStore::with_feed_capacity(2));
    let (service, _, clock) = pair(Arc::clone(&store)).await;
    for n in 0..3 {
        let victim = common::login(&service, &format!("v{n}")).await;
        service.revoke(&victim.refresh_token).await.unwrap();
    }
    // A day later, sessions issued since, and a verifier starting afresh
    // (a resource server restarted) from the start of a trimmed feed.
    clock.advance(Duration::days(1));
    let before = common::login(&service, "before").await;
    clock.advance(Duration::minutes(10));
    let restarted = verifier(&clock)
        .jwks(service.jwks())
        .revocation_feed(Arc::clone(&store))
        .max_staleness(Duration::seconds(30))
        .build()
        .unwrap();
    let CatchUp::TooOld { .. } = store.since(Cursor::START).await.unwrap() else {
        panic!("the feed was trimmed");
    };
    restarted.sync_revocations().await.unwrap();
    restarted.verify(&before.access_token).await.unwrap();
    // What the feed still holds is still refused.
    let revoked = common::login(&service, "revoked").await;
    service.revoke(&revoked.refresh_token).await.unwrap();
    restarted.sync_revocations().await.unwrap();
    let found = restarted.verify(&revoked.access_token).await.unwrap_err();
    assert!(matches!(found, Error::SessionRevoked), "{found:?}");
    restarted.verify(&before.access_token).await.unwrap();
}

/// The cursor `verifier`'s view has reached.
fn verifier_cursor(verifier: &Verifier) -> Cursor {
    verifier.revocations().unwrap().cursor
}

#[cfg(feature = "revocation-feed")]
#[tokio::test(start_paused = true)]
async fn a_follower_resubscribes_after_a_feed_failure() {
    let store = Arc::new(MemoryStore::new());
    let flaky = Flaky {
        store: Arc::clone(&store),
        failures: Arc::default(),
    };
    let clock = ManualClock::new(common::start());
    let service = ed_service(&clock, Arc::clone(&store));
    let verifier = verifier(&clock)
        .jwks(service.jwks())
        .revocation_feed(flaky.clone())
        .build()
        .unwrap();
    let a = common::login(&service, "a").await;
    flaky.failures.store(3, std::sync::atomic::Ordering::SeqCst);
    let follower = tokio::spawn(verifier.follow());
    service.revoke(&a.refresh_token).await.unwrap();
    // tokio's clock is paused: each sleep lets the follower's back-off
    // elapse at once, without waiting.
    let mut turns = 0;
    while !matches!(
        verifier.verify(&a.access_token).await,
        Err(Error::SessionRevoked)
    ) {
        turns += 1;
        assert!(turns < 100, "the follower never recovered");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(flaky.failures.load(std::sync::atomic::Ordering::SeqCst), 0);
    follower.abort();
}

/// A feed whose next `failures` calls fail as unavailable.
#[cfg(feature = "revocation-feed")]
#[derive(Clone)]
struct Flaky {
    store: Arc<MemoryStore>,
    failures: Arc<std::sync::atomic::AtomicUsize>,
}

#[cfg(feature = "revocation-feed")]
impl Flaky {
    fn fail(&self) -> Result<(), jwt_rotate::store::StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let left = self.failures.load(SeqCst);
        if left > 0 {
            self.failures.store(left - 1, SeqCst);
            return Err(jwt_rotate::store::StoreError::unavailable("feed down"));
        }
        Ok(())
    }
}

#[cfg(feature = "revocation-feed")]
#[async_trait::async_trait]
impl RevocationFeed for Flaky {
    async fn since(&self, cursor: Cursor) -> Result<CatchUp, jwt_rotate::store::StoreError> {
        self.fail()?;
        self.store.since(cursor).await
    }

    async fn subscribe(
        &self,
    ) -> Result<Box<dyn jwt_rotate::store::RevocationSubscription>, jwt_rotate::store::StoreError>
    {
        self.fail()?;
        self.store.subscribe().await
    }
}

#[cfg(feature = "revocation-feed")]
fn revocation() -> jwt_rotate::store::Revocation {
    jwt_rotate::store::Revocation {
        reason: jwt_rotate::store::RevocationReason::Logout,
        at: common::start(),
    }
}

/// Lets the follower run until `done`; fails after many turns.
#[cfg(feature = "revocation-feed")]
async fn until(done: impl Fn() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the follower never got there");
}

#[cfg(feature = "revocation-feed")]
async fn until_refused(verifier: &Verifier, pair: &jwt_rotate::TokenPair) {
    for _ in 0..10_000 {
        match verifier.verify(&pair.access_token).await {
            Err(Error::SessionRevoked) => return,
            _ => tokio::task::yield_now().await,
        }
    }
    panic!("the follower never applied the revocation");
}
