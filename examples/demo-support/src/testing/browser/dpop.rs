//! The page in DPoP mode (`/?dpop`): login binds the session to a P-256
//! key the page made with WebCrypto and cannot export; renewals across
//! expiries and `/me` carry proofs by it; the cookie alone renews
//! nothing; logout ends the session and drops the key.

use std::future::Future;
use std::sync::Arc;

use serde_json::json;

use super::{ACCESS_TTL_SECS, Browser, LOGGED_IN, LOGGED_OUT, call_me, renewals_js, run_scenario};
use crate::Config;
use crate::testing::suite::{ALICE, TestServer, record};

/// The stored key's private half, tried for export: `"rejected"` is what
/// a non-extractable key answers.
const EXPORT_KEY: &str = "new Promise((resolve, reject) => {
    const open = indexedDB.open('jwt-rotate-dpop');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const get = open.result.transaction('keys').objectStore('keys').get('current');
      get.onerror = () => reject(get.error);
      get.onsuccess = () => {
        const key = get.result;
        open.result.close();
        if (!key) return resolve('no key');
        crypto.subtle.exportKey('jwk', key.privateKey)
          .then(() => resolve('exported'), () => resolve(
            key.privateKey.extractable ? 'refused but extractable' : 'rejected'));
      };
    };
  })";

/// Runs the DPoP scenario against a server from `spawn`.
pub async fn run_dpop<F, Fut>(name: &'static str, spawn: F)
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = TestServer>,
{
    run_scenario(name, spawn, |b, server, _| Box::pin(scenario(b, server))).await;
}

async fn scenario(b: Arc<Browser>, server: Arc<TestServer>) {
    let b = &*b;
    let base = format!("http://{}/?dpop", server.addr);
    b.client.goto(&base).await.unwrap();
    b.until("the login form", LOGGED_OUT).await;
    assert_eq!(
        b.js("return document.body.dataset.dpop", vec![]).await,
        json!("on")
    );

    b.type_into("username", ALICE.0).await;
    b.type_into("password", ALICE.1).await;
    b.click("login-button").await;
    b.until("login", LOGGED_IN).await;
    assert_eq!(b.text("token-type").await, "DPoP");
    let me = call_me(b).await;
    let sid = me["sid"].as_str().unwrap().to_owned();
    let id = sid.parse().unwrap();
    let stored = server.state.service().store().get(&id).await.unwrap();
    assert!(
        stored.expect("the session").jkt.is_some(),
        "bound to the page's key"
    );

    // The private key cannot leave the browser, not even to this page.
    assert_eq!(b.js_await(EXPORT_KEY).await, json!("rejected"));

    // Renewals across several expiries, each with a proof.
    let started = b.js("return Date.now()", vec![]).await;
    let ttl_ms = ACCESS_TTL_SECS * 1000;
    b.until(
        "three renewals over two token lifetimes",
        &format!(
            "{} >= 3 && Date.now() - {started} > {}",
            renewals_js(),
            2 * ttl_ms + 500
        ),
    )
    .await;
    let later = call_me(b).await;
    assert_eq!(later["sid"], sid.as_str());
    let (generation, revoked) = record(&server, &sid).await;
    assert!(generation >= 3 && !revoked, "generation {generation}");

    // The cookie without a proof (what a script that cannot sign sends):
    // refused, and the session goes on.
    let bare = "fetch('/auth/refresh', { method: 'POST' }).then(r => r.status + ' ' + r.headers.get('WWW-Authenticate'))";
    let answer = b.js_await(bare).await;
    assert!(
        answer
            .as_str()
            .unwrap()
            .starts_with("401 DPoP error=\"invalid_dpop_proof\""),
        "{answer}"
    );
    assert_eq!(record(&server, &sid).await, (generation, false));
    let before = b.renewals().await;
    b.click("renew-button").await;
    b.until(
        "a renewal with a proof",
        &format!("{} > {before}", renewals_js()),
    )
    .await;

    // Logout ends the session and drops the key.
    b.click("logout-button").await;
    b.until("logout", LOGGED_OUT).await;
    assert!(record(&server, &sid).await.1, "the session is revoked");
    // The key goes once the logout is through: asked until it is gone.
    let mut answer = json!(null);
    for _ in 0..100 {
        answer = b.js_await(EXPORT_KEY).await;
        if answer == json!("no key") {
            break;
        }
    }
    assert_eq!(answer, json!("no key"), "the key is dropped at logout");
}
