//! The replay cache shared through the store (`StoreReplayCache`): two
//! auth-server instances over one store refuse a proof the other accepted,
//! where per-process caches would not; a store failure refuses the proof
//! (fail closed) and changes nothing.
#![cfg(feature = "testing")]

mod common;

use std::sync::Arc;

use common::bound::{login_bound, token_proof};
use common::dpop::{Client, TOKEN_URL};
use jwt_rotate::store::RefreshStore;
use jwt_rotate::testing::{Calls, Fault, FaultyStore, StoreOp};
use jwt_rotate::{
    Dpop, DpopProblem, DpopRequest, Error, ManualClock, MemoryStore, StoreReplayCache, TokenService,
};

/// An instance over `store`, remembering proofs in `store` when `shared`.
fn instance<S: RefreshStore + Clone>(
    store: &S,
    clock: &ManualClock,
    cache: Cache,
) -> TokenService<S> {
    let dpop = Dpop::builder().clock(clock.clone());
    let dpop = match cache {
        Cache::Store => dpop.replay_cache(StoreReplayCache::new(store.clone())),
        Cache::Process => dpop,
    };
    common::builder(clock)
        .dpop(dpop.build().unwrap())
        .build(store.clone())
        .unwrap()
}

#[derive(Clone, Copy)]
enum Cache {
    Store,
    Process,
}

#[tokio::test]
async fn a_proof_accepted_by_one_instance_is_refused_by_the_other() {
    let clock = ManualClock::new(common::start());
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (
        instance(&store, &clock, Cache::Store),
        instance(&store, &clock, Cache::Store),
    );
    let client = Client::es256();
    let pair = login_bound(&a, "alice", &client).await;
    let proof = token_proof(&client, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    let next = a.refresh_dpop(&pair.refresh_token, &request).await.unwrap();
    // The same proof at the other instance, with the new refresh token.
    let replayed = b.refresh_dpop(&next.refresh_token, &request).await;
    assert!(
        matches!(
            replayed,
            Err(Error::InvalidDpopProof(DpopProblem::Replayed))
        ),
        "{replayed:?}"
    );

    // Per-process caches: the other instance has not seen it.
    let (c, d) = (
        instance(&store, &clock, Cache::Process),
        instance(&store, &clock, Cache::Process),
    );
    let proof = token_proof(&client, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    let third = c.refresh_dpop(&next.refresh_token, &request).await.unwrap();
    assert!(d.refresh_dpop(&third.refresh_token, &request).await.is_ok());
}

#[tokio::test]
async fn a_failing_store_refuses_the_proof_and_changes_nothing() {
    let clock = ManualClock::new(common::start());
    let store = Arc::new(FaultyStore::new(MemoryStore::new()));
    let service = instance(&store, &clock, Cache::Store);
    let client = Client::ed25519();
    let pair = login_bound(&service, "alice", &client).await;
    let before = common::record(&service, &pair.session_id).await;
    store.inject(Calls::Only(StoreOp::InsertDpopJti), Fault::Fail);
    let proof = token_proof(&client, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    let refused = service.refresh_dpop(&pair.refresh_token, &request).await;
    let error = refused.unwrap_err();
    assert!(
        error.store_error().is_some_and(|e| e.is_retryable()),
        "{error:?}"
    );
    let after = common::record(&service, &pair.session_id).await;
    assert_eq!(after.generation, before.generation);
    assert!(after.revoked.is_none());
    // Healed: a fresh proof goes through.
    store.heal();
    let proof = token_proof(&client, &clock);
    let request = DpopRequest::new(&proof, "POST", TOKEN_URL);
    service
        .refresh_dpop(&pair.refresh_token, &request)
        .await
        .unwrap();
}
