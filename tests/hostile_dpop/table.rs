//! The table's vocabulary: what a row calls, what it must get, and the
//! fixture every row runs against.

use std::sync::Arc;

use jsonwebtoken::Algorithm;
use jwt_rotate::{
    Clock, Dpop, DpopNonces, DpopProblem, DpopRequest, Error, ManualClock, MemoryReplayCache,
    MemoryStore, TokenPair, TokenService,
};
use time::{Duration, OffsetDateTime};

use crate::common;
use crate::common::dpop::{Client, TOKEN_URL, URL, bound_access_token};

/// What a row calls.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    /// `Dpop::verify_proof` for a `POST` to the token endpoint.
    Token,
    /// The same, on the checker that accepts ES256 only.
    TokenEs256Only,
    /// The same, on the checker that requires nonces.
    TokenWithNonce,
    /// `TokenService::verify_dpop` of `token`, `GET` the resource.
    Access(String),
    /// `TokenService::verify` of `token` as a Bearer token (no proof).
    Bearer(String),
}

/// What a row must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    Accept,
    Problem(DpopProblem),
    DpopRequired,
    UseNonce,
    Claim(&'static str),
    BadTokenSignature,
}

impl Want {
    pub(crate) fn matches(self, error: &Error) -> bool {
        match (self, error) {
            (Want::Problem(want), Error::InvalidDpopProof(found)) => want == *found,
            (Want::DpopRequired, Error::DpopRequired) => true,
            (Want::UseNonce, Error::UseDpopNonce { nonce }) => !nonce.is_empty(),
            (Want::Claim(want), Error::InvalidClaim { claim, .. }) => want == *claim,
            (Want::BadTokenSignature, Error::InvalidSignature) => true,
            _ => false,
        }
    }
}

pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) op: Op,
    pub(crate) proof: String,
    pub(crate) expect: Want,
}

pub(crate) fn add(
    rows: &mut Vec<Row>,
    name: impl Into<String>,
    op: Op,
    proof: String,
    expect: Want,
) {
    rows.push(Row {
        name: name.into(),
        op,
        proof,
        expect,
    });
}

/// A live session, clients with real keys, and three checkers sharing one
/// clock (each with a replay cache the table can count).
pub(crate) struct Fixture {
    pub(crate) clock: ManualClock,
    pub(crate) service: TokenService<MemoryStore>,
    pub(crate) pair: TokenPair,
    pub(crate) es256: Client,
    pub(crate) ed25519: Client,
    pub(crate) ed25519_b: Client,
    pub(crate) rs256: Client,
    pub(crate) ps256: Client,
    /// An access token of the session bound to `es256`'s key.
    pub(crate) bound: String,
    pub(crate) nonces_secret: [u8; 32],
    dpop: Dpop,
    es256_only: Dpop,
    with_nonce: Dpop,
    caches: [Arc<MemoryReplayCache>; 3],
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        let clock = ManualClock::new(common::start());
        let caches = [(); 3].map(|()| Arc::new(MemoryReplayCache::new(1024).unwrap()));
        let nonces_secret = [0x4E; 32];
        let build = |i: usize| {
            Dpop::builder()
                .clock(clock.clone())
                .replay_cache(Arc::clone(&caches[i]))
        };
        let nonces = DpopNonces::with_secret(nonces_secret, Duration::minutes(5)).unwrap();
        // The service checks access-token proofs with a `Dpop` sharing
        // `dpop`'s replay cache and settings.
        let service = common::builder(&clock)
            .dpop(build(0).build().unwrap())
            .build(MemoryStore::new())
            .unwrap();
        let pair = common::login(&service, "alice").await;
        let es256 = Client::es256();
        let bound = bound_access_token(&pair, "alice", es256.jkt.as_str(), clock.now());
        Self {
            dpop: build(0).build().unwrap(),
            es256_only: build(1).algorithms([Algorithm::ES256]).build().unwrap(),
            with_nonce: build(2).nonces(nonces).build().unwrap(),
            caches,
            ed25519: Client::ed25519(),
            ed25519_b: Client::ed25519_b(),
            rs256: Client::rs256(),
            ps256: Client::ps256(),
            es256,
            bound,
            nonces_secret,
            clock,
            service,
            pair,
        }
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// How many proofs the replay caches hold.
    pub(crate) fn remembered(&self) -> usize {
        self.caches.iter().map(|cache| cache.len()).sum()
    }

    pub(crate) async fn call(&self, op: &Op, proof: &str) -> Result<(), Error> {
        let token_request = DpopRequest::new(proof, "POST", TOKEN_URL);
        match op {
            Op::Token => self.dpop.verify_proof(&token_request).await.map(drop),
            Op::TokenEs256Only => self.es256_only.verify_proof(&token_request).await.map(drop),
            Op::TokenWithNonce => self.with_nonce.verify_proof(&token_request).await.map(drop),
            Op::Access(token) => {
                let request = DpopRequest::new(proof, "GET", URL);
                self.service.verify_dpop(token, &request).await.map(drop)
            }
            Op::Bearer(token) => self.service.verify(token).map(drop),
        }
    }
}
