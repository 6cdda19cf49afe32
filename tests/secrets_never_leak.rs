//! Secrets stay secret: the `Debug` of every public type that holds one,
//! every error, hook event and `tracing` line (captured at TRACE level)
//! through a whole session's life (login, refresh, grace replay, reuse,
//! revocations, the session limit, refused tokens) is searched for every
//! secret: token strings and their segments, refresh `jti`s and the bytes
//! they encode, stored hashes, wrapped secrets, and the key material, in
//! text, decimal, hex and base64.

mod common;

use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwt_rotate::store::{ExpectedGeneration, RefreshStore, RotationUpdate};
use jwt_rotate::{
    Event, Hooks, Key, ManualClock, MemoryStore, NoClaims, RefreshContext, RefreshCookie,
    SessionInfo, TokenPair, TokenService,
};
use time::Duration;

const ACCESS_SECRET: &[u8; 36] = b"access-secret: 0123456789 abcdefghij";
const REFRESH_SECRET: &[u8; 37] = b"refresh-secret: 0123456789 abcdefghij";
const ED25519_PEM: &str = include_str!("data/keys/ed25519.pem");

/// Every spelling of every secret seen so far, whitespace removed.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn text(&mut self, what: &str, secret: &str) {
        self.0.push((what.to_owned(), flat(secret)));
    }

    /// `bytes` as text, decimal list (how `Debug` shows arrays), hex and
    /// base64.
    fn bytes(&mut self, what: &str, bytes: &[u8]) {
        let decimal: Vec<String> = bytes.iter().map(u8::to_string).collect();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut forms = vec![
            decimal.join(","),
            hex.clone(),
            hex.to_uppercase(),
            URL_SAFE_NO_PAD.encode(bytes),
            STANDARD.encode(bytes),
        ];
        if let Ok(text) = std::str::from_utf8(bytes) {
            forms.push(text.to_owned());
        }
        for form in forms {
            self.text(what, &form);
        }
    }

    /// A token and its payload and signature segments (the header is
    /// public: algorithm, type, key id).
    fn token(&mut self, what: &str, token: &str) {
        self.text(what, token);
        for (i, segment) in token.split('.').enumerate().skip(1) {
            self.text(&format!("{what} segment {i}"), segment);
        }
    }

    /// Both tokens; the refresh token's `jti` is its secret, in text and
    /// as the bytes it encodes. (An access token's `jti` is only an id.)
    fn pair(&mut self, what: &str, pair: &TokenPair) {
        self.token(&format!("{what} access token"), pair.access_token.as_str());
        let refresh = pair.refresh_token.as_str();
        self.token(&format!("{what} refresh token"), refresh);
        let jti = common::tokens::jti(refresh);
        self.text(&format!("{what} refresh jti"), &jti);
        let bytes = URL_SAFE_NO_PAD.decode(&jti).unwrap();
        self.bytes(&format!("{what} refresh secret"), &bytes);
    }

    #[track_caller]
    fn assert_absent(&self, label: &str, output: &str) {
        let output = flat(output);
        for (what, form) in &self.0 {
            assert!(
                !output.contains(form.as_str()),
                "{label} shows the {what}: {output}"
            );
        }
    }
}

fn flat(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Hooks that keep the `Debug` of every event and refresh context.
#[derive(Clone, Default)]
struct Heard(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl Hooks<NoClaims> for Heard {
    async fn before_refresh(
        &self,
        ctx: &RefreshContext<'_>,
    ) -> Result<Option<NoClaims>, jwt_rotate::Denied> {
        self.0.lock().unwrap().push(format!("{ctx:?} {ctx:#?}"));
        Ok(None)
    }

    fn on_event(&self, event: &Event<'_>) {
        self.0.lock().unwrap().push(format!("{event:?} {event:#?}"));
    }
}

fn service(clock: &ManualClock, heard: &Heard) -> TokenService<MemoryStore> {
    common::builder(clock)
        .access_key(Key::hs256(ACCESS_SECRET).unwrap())
        .refresh_key(Key::hs256(REFRESH_SECRET).unwrap())
        .max_sessions_per_subject(2)
        .hooks(heard.clone())
        .build(MemoryStore::new())
        .unwrap()
}

/// A session's whole life; returns what must never be shown, and the
/// `Debug` of everything it met that holds a secret.
async fn a_sessions_life(
    service: &TokenService<MemoryStore>,
    clock: &ManualClock,
) -> (Secrets, Vec<(String, String)>) {
    let mut secrets = Secrets::default();
    secrets.bytes("access key", ACCESS_SECRET);
    secrets.bytes("refresh key", REFRESH_SECRET);
    let mut shown = Vec::new();
    let mut show = |label: &str, text: String| shown.push((label.to_owned(), text));

    let info = SessionInfo::default().with_user_agent("Firefox");
    let g0 = service.issue("alice", NoClaims {}, info).await.unwrap();
    let g1 = service.refresh(&g0.refresh_token).await.unwrap();
    let replay = service.refresh(&g0.refresh_token).await.unwrap();
    secrets.pair("generation 0", &g0);
    secrets.pair("generation 1", &g1);
    secrets.pair("grace replay", &replay);
    show("TokenPair", format!("{g1:?} {g1:#?}"));
    show("AccessToken", format!("{:?}", g1.access_token));
    show("RefreshToken", format!("{:?}", g1.refresh_token));
    show(
        "AccessClaims",
        format!("{:?}", service.verify(&g1.access_token).unwrap()),
    );
    show(
        "SessionView",
        format!("{:?}", service.sessions("alice").await.unwrap()),
    );

    let record = service.store().get(&g1.session_id).await.unwrap().unwrap();
    let grace = record.previous.clone().unwrap();
    secrets.bytes("secret hash", record.secret_hash.as_bytes());
    secrets.bytes("previous secret hash", grace.secret_hash.as_bytes());
    secrets.bytes("wrapped secret", grace.wrapped_secret.as_bytes());
    show("SessionRecord", format!("{record:?} {record:#?}"));
    show("GraceData", format!("{grace:?}"));
    show("SecretHash", format!("{:?}", record.secret_hash));
    show("WrappedSecret", format!("{:?}", grace.wrapped_secret));
    let expected = ExpectedGeneration {
        generation: record.generation,
        secret_hash: record.secret_hash,
    };
    let rotation = RotationUpdate {
        generation: record.generation + 1,
        secret_hash: record.secret_hash,
        previous: grace.clone(),
        refreshed_at: record.refreshed_at,
        idle_expires_at: record.idle_expires_at,
        claims_json: None,
        last_seen: None,
        auth: None,
    };
    show("ExpectedGeneration", format!("{expected:?}"));
    show("RotationUpdate", format!("{rotation:#?}"));
    show("MemoryStore", format!("{:?}", service.store()));
    let cookie = RefreshCookie::builder().build().unwrap();
    let set = cookie.set_cookie(&g1.refresh_token, g1.refresh_expires_at, common::start());
    show("SetCookie", format!("{:?}", set.unwrap()));
    let twice = format!("{0}={1}; {0}={1}", cookie.name(), g1.refresh_token.as_str());
    show(
        "CookieError",
        format!("{:?}", cookie.read_token([twice]).unwrap_err()),
    );

    // Refused tokens: their errors name no part of them.
    let mut forged = g1.refresh_token.as_str().to_owned();
    forged.insert(forged.len() - 2, 'A');
    for token in [forged.as_str(), g1.access_token.as_str(), "x.y.z"] {
        let err = service.refresh(token).await.unwrap_err();
        show("Error from refresh", format!("{err:?} {err}"));
    }
    for token in [forged.as_str(), g1.refresh_token.as_str(), "x.y.z"] {
        let err = service.verify(token).unwrap_err();
        show("Error from verify", format!("{err:?} {err}"));
    }
    // Reuse, revocations, the session limit.
    clock.advance(Duration::minutes(1));
    let err = service.refresh(&g0.refresh_token).await.unwrap_err();
    show("Error on reuse", format!("{err:?} {err}"));
    for n in 0..3 {
        let pair = common::login(service, "bob").await;
        secrets.pair(&format!("bob's login {n}"), &pair);
        clock.advance(Duration::seconds(1));
        if n == 2 {
            service.revoke(&pair.refresh_token).await.unwrap();
        }
    }
    service.revoke_subject("bob", None).await.unwrap();
    service.purge_expired().await.unwrap();

    show(
        "hs256 Key",
        format!("{:?}", Key::hs256(ACCESS_SECRET).unwrap()),
    );
    let ed = Key::ed25519_pem(ED25519_PEM).unwrap();
    show("Ed25519 Key", format!("{ed:?} {ed:#?}"));
    for line in ED25519_PEM.lines().filter(|l| !l.starts_with("-----")) {
        secrets.text("Ed25519 PEM", line);
    }
    (secrets, shown)
}

/// tracing caches per call site whether anyone listens; a test without a
/// subscriber hitting a call site while the other installs one can leave
/// it cached as unheard. The two tests take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn debug_of_every_secret_holder_is_redacted() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let clock = ManualClock::new(common::start());
    let heard = Heard::default();
    let service = service(&clock, &heard);
    let (secrets, shown) = a_sessions_life(&service, &clock).await;
    assert!(
        secrets.0.len() > 60,
        "{} secrets to search for",
        secrets.0.len()
    );
    for (label, text) in &shown {
        secrets.assert_absent(label, text);
    }
    let heard = heard.0.lock().unwrap().clone();
    assert!(
        heard.iter().any(|e| e.starts_with("ReuseDetected")),
        "{heard:?}"
    );
    for event in &heard {
        secrets.assert_absent("a hook event", event);
    }
}

// The default (current-thread) runtime: every event is on the thread the
// subscriber is set for.
#[tokio::test]
async fn nothing_secret_reaches_tracing() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let captured = common::logs::CapturedLog::at(tracing::Level::TRACE);

    let clock = ManualClock::new(common::start());
    let service = service(&clock, &Heard::default());
    let (secrets, _) = a_sessions_life(&service, &clock).await;

    let log = captured.text();
    for line in [
        "session issued",
        "session refreshed",
        "grace replay",
        "refresh token reuse detected",
        "session revoked",
        "subject sessions revoked",
    ] {
        assert!(log.contains(line), "no {line:?} in the log:\n{log}");
    }
    secrets.assert_absent("the tracing output", &log);
}
