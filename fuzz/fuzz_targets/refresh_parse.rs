//! Refresh tokens from arbitrary bytes, through `TokenService::refresh` and
//! `revoke` on a MemoryStore holding the sessions of the seed corpus's
//! genuine refresh tokens (fresh for every input), clock fixed. Never
//! panics; only a genuine current token rotates; only a genuine spent one
//! is reuse; only a genuine one revokes; no other session is ever touched.
#![no_main]

use std::sync::LazyLock;

use jwt_rotate::{Error, MemoryStore, SessionId, TokenService};

use jwt_rotate::store::RefreshStore;
use jwt_rotate_fuzz::{GENUINE, GenuineRefresh, runtime, service};
use libfuzzer_sys::fuzz_target;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(runtime);

/// Every genuine session but `except` is untouched: not revoked, not rotated.
async fn untouched_but(
    service: &TokenService<MemoryStore>,
    except: Option<SessionId>,
    token: &str,
) {
    for current in GENUINE.refresh.iter().filter(|r| r.current) {
        let id = current.session_id();
        if Some(id) == except {
            continue;
        }
        let record = service.store().get(&id).await.unwrap().unwrap();
        assert!(
            record.revoked.is_none(),
            "{token:?} revoked another session"
        );
        assert_eq!(
            record.generation,
            current.generation(),
            "{token:?} rotated another session"
        );
    }
}

async fn check(token: &str) {
    let genuine: Option<&GenuineRefresh> = GENUINE.refresh(token);
    let own = genuine.map(GenuineRefresh::session_id);

    let svc = service(GENUINE.store().await);
    match (svc.refresh(token).await, genuine) {
        (Ok(_), Some(g)) if g.current => {}
        (Ok(_), _) => panic!("refresh accepted a token that is not current: {token:?}"),
        (Err(Error::ReuseDetected), Some(g)) if !g.current => {}
        (Err(Error::ReuseDetected), _) => panic!("reuse claimed for {token:?}"),
        (Err(Error::Store(e)), _) => panic!("MemoryStore failed: {e:?}"),
        (Err(_), Some(g)) if g.current => panic!("a genuine current token refused: {token:?}"),
        (Err(_), _) => {}
    }
    untouched_but(&svc, own, token).await;

    let svc = service(GENUINE.store().await);
    match svc.revoke(token).await {
        Ok(true) => assert!(genuine.is_some(), "revoke accepted {token:?}"),
        Ok(false) | Err(_) => {}
    }
    untouched_but(&svc, own, token).await;
}

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    RUNTIME.block_on(check(&token));
});
