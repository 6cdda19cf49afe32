//! What the fuzz targets share: the one service configuration they all
//! use (the integration tests' own: HS256 keys, a clock fixed at
//! 2026-01-01), and the genuine tokens of the seed corpus,
//! `seeds/genuine.txt`, written by `gen_seeds` with that configuration.
//! They are the only tokens a target may ever see accepted.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::{Key, ManualClock, MemoryStore, NoClaims, SessionId, SessionInfo, TokenService, TokenServiceBuilder};
use jwt_rotate::store::{RefreshStore, SecretHash, SessionRecord};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub const ISSUER: &str = "https://auth.example.com";
pub const AUDIENCE: &str = "api.example.com";
pub const ACCESS_SECRET: [u8; 32] = [0xA1; 32];
pub const REFRESH_SECRET: [u8; 32] = [0x5E; 32];

/// 2026-01-01T00:00:00Z, the instant every target's clock shows.
pub fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("valid")
}

/// The tests' builder: 15 min access, 7 day idle, 30 day absolute, 10 s
/// grace, HS256 keys, `clock`.
pub fn builder(clock: &ManualClock) -> TokenServiceBuilder<NoClaims> {
    TokenService::builder()
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .access_ttl(Duration::minutes(15))
        .refresh_ttl(Duration::days(7))
        .session_ttl(Duration::days(30))
        .reuse_grace(Duration::seconds(10))
        .access_key(Key::hs256(ACCESS_SECRET).expect("key"))
        .refresh_key(Key::hs256(REFRESH_SECRET).expect("key"))
        .clock(clock.clone())
}

/// A service over `store`, its clock stopped at [`start`].
pub fn service(store: MemoryStore) -> TokenService<MemoryStore> {
    builder(&ManualClock::new(start()))
        .build(store)
        .expect("service")
}

/// A refresh token of the seed corpus.
pub struct GenuineRefresh {
    pub token: String,
    /// The newest token of its session (`false`: already rotated away).
    pub current: bool,
    claims: Value,
}

impl GenuineRefresh {
    pub fn session_id(&self) -> SessionId {
        self.claims["sid"]
            .as_str()
            .expect("sid")
            .parse()
            .expect("sid")
    }

    pub fn generation(&self) -> u64 {
        self.claims["gen"].as_u64().expect("gen")
    }

    fn time(&self, claim: &str) -> OffsetDateTime {
        let seconds = self.claims[claim].as_i64().expect("time");
        OffsetDateTime::from_unix_timestamp(seconds).expect("time")
    }

    /// The session record a store holds for this token's session when
    /// this is its newest token: the secret only as its SHA-256.
    fn record(&self) -> SessionRecord {
        let jti = self.claims["jti"].as_str().expect("jti");
        let secret = URL_SAFE_NO_PAD.decode(jti).expect("jti");
        let hash: [u8; 32] = Sha256::digest(&secret).into();
        SessionRecord {
            id: self.session_id(),
            subject: self.claims["sub"].as_str().expect("sub").to_owned(),
            generation: self.generation(),
            secret_hash: SecretHash::from_bytes(hash),
            jkt: None,
            previous: None,
            created_at: start(),
            refreshed_at: self.time("iat"),
            idle_expires_at: self.time("exp"),
            absolute_expires_at: start() + Duration::days(30),
            revoked: None,
            claims_json: "{}".to_owned(),
            info: SessionInfo::default(),
        }
    }
}

/// The genuine tokens, parsed from `seeds/genuine.txt`.
pub struct Genuine {
    pub access: Vec<String>,
    pub refresh: Vec<GenuineRefresh>,
}

impl Genuine {
    pub fn is_access(&self, token: &str) -> bool {
        self.access.iter().any(|t| t == token)
    }

    pub fn refresh(&self, token: &str) -> Option<&GenuineRefresh> {
        self.refresh.iter().find(|r| r.token == token)
    }

    /// A fresh store with the sessions of the genuine refresh tokens, each
    /// at the generation of its current token. (No grace data: a spent
    /// token presented again is reuse.)
    pub async fn store(&self) -> MemoryStore {
        let store = MemoryStore::new();
        for current in self.refresh.iter().filter(|r| r.current) {
            store.create(&current.record()).await.expect("create");
        }
        store
    }
}

pub static GENUINE: LazyLock<Genuine> = LazyLock::new(|| {
    let mut genuine = Genuine {
        access: Vec::new(),
        refresh: Vec::new(),
    };
    for line in include_str!("../seeds/genuine.txt").lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["access", token] => genuine.access.push(token.to_owned()),
            ["refresh", state, token] => {
                let payload = token.split('.').nth(1).expect("payload");
                let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("b64"))
                    .expect("claims");
                genuine.refresh.push(GenuineRefresh {
                    token: token.to_owned(),
                    current: state == "current",
                    claims,
                });
            }
            _ => panic!("seeds/genuine.txt: bad line {line:?}"),
        }
    }
    genuine
});

/// A single-threaded runtime, one per target process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}
