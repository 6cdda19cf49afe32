//! Hostile DPoP proofs: a table of hand-made proofs (alg `none` and HMAC,
//! algorithm/key confusion, private keys in `jwk`, wrong `typ`, `crit`,
//! broken keys, foreign and stripped signatures, missing and mistyped
//! claims, wrong `htm`/`htu`, stale and future `iat`, replays, missing or
//! wrong `ath`, proofs by another key than the token's, bad nonces,
//! oversize and malformed encodings), each with the exact typed rejection
//! it must get; controls in the same table prove the checks can pass.
//! Nothing hostile may be accepted, nothing may panic, and no refused proof
//! may take room in the replay cache or touch the session.
//!
//! Rows live in `hostile_dpop/{header,claims,access}.rs`; run with
//! `HOSTILE_DPOP_VERBOSE=1` and `--nocapture` to see every outcome.

mod common;

#[path = "hostile_dpop/access.rs"]
mod access;
#[path = "hostile_dpop/claims.rs"]
mod claims;
#[path = "hostile_dpop/header.rs"]
mod header;
#[path = "hostile_dpop/table.rs"]
mod table;

use std::sync::Arc;

use jwt_rotate::{Error, MemoryStore, TokenService};
use table::{Fixture, Row, Want};

/// One row's call; `Err` if it panicked.
async fn run(fx: &Arc<Fixture>, row: &Row) -> Result<Result<(), Error>, String> {
    let (fx, op, proof) = (Arc::clone(fx), row.op.clone(), row.proof.clone());
    let call = tokio::spawn(async move { fx.call(&op, &proof).await });
    call.await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_proofs_are_never_accepted() {
    let fx = Arc::new(Fixture::new().await);
    let mut rows = Vec::new();
    header::rows(&fx, &mut rows);
    claims::rows(&fx, &mut rows);
    access::rows(&fx, &mut rows);

    let (mut accepted, mut wrong, mut panicked, mut failed_controls) =
        (vec![], vec![], vec![], vec![]);
    let mut controls_accepted = 0;
    for row in &rows {
        let outcome = run(&fx, row).await;
        if std::env::var_os("HOSTILE_DPOP_VERBOSE").is_some() {
            println!("{}: {outcome:?}", row.name);
        }
        match (row.expect, outcome) {
            (_, Err(panic)) => panicked.push(format!("{}: {panic}", row.name)),
            (Want::Accept, Ok(Ok(()))) => controls_accepted += 1,
            (Want::Accept, Ok(Err(e))) => failed_controls.push(format!("{}: {e:?}", row.name)),
            (_, Ok(Ok(()))) => accepted.push(row.name.clone()),
            (want, Ok(Err(e))) if want.matches(&e) => {}
            (want, Ok(Err(e))) => wrong.push(format!("{}: expected {want:?}, got {e:?}", row.name)),
        }
    }
    let hostile = rows.iter().filter(|r| r.expect != Want::Accept).count();
    println!(
        "hostile DPoP proofs: {} rows ({hostile} hostile, {} controls); accepted {}, \
         panicked {}, wrong error {}, controls refused {}",
        rows.len(),
        rows.len() - hostile,
        accepted.len(),
        panicked.len(),
        wrong.len(),
        failed_controls.len(),
    );
    assert!(accepted.is_empty(), "ACCEPTED: {accepted:#?}");
    assert!(panicked.is_empty(), "PANICKED: {panicked:#?}");
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(
        failed_controls.is_empty(),
        "controls refused: {failed_controls:#?}"
    );
    assert!(hostile >= 60, "only {hostile} hostile rows");

    // Only the accepted controls were remembered: no refused proof took
    // room in a replay cache.
    assert_eq!(fx.remembered(), controls_accepted);
    // The session was neither revoked nor rotated by any of it.
    still_live(&fx.service, &fx).await;
}

async fn still_live(service: &TokenService<MemoryStore>, fx: &Fixture) {
    let sessions = service.sessions("alice").await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].id, fx.pair.session_id);
    let next = service.refresh(&fx.pair.refresh_token).await.unwrap();
    assert_eq!(next.session_id, fx.pair.session_id);
}
