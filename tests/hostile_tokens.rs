//! Hostile tokens: a table of hand-made tokens (alg `none`, algorithm
//! confusion, `crit`, wrong `typ`/`kid`, attacker header parameters,
//! duplicate members, every claim missing or mistyped, leeway boundaries,
//! non-canonical base64, wrong segment counts, oversize and deeply nested
//! input, invalid UTF-8, stripped and foreign signatures) of which none may
//! be accepted by `verify`, `refresh` or `revoke`; positive controls in the
//! same table prove the checks can pass. Then a property test: random bytes
//! and mutations of real tokens never panic and are never accepted.
//!
//! The rows live in `hostile_tokens/{access_*,refresh_*}.rs`, the
//! token-making helpers in `hostile_tokens/forge.rs`. Run with
//! `HOSTILE_TOKENS_VERBOSE=1` and `--nocapture` to see every row's outcome.

mod common;

/// A [`forge::Expect::Reject`] for errors matching the pattern.
macro_rules! is {
    ($pattern:pat) => {
        $crate::forge::Expect::Reject(
            |e: &jwt_rotate::Error| matches!(e, $pattern),
            stringify!($pattern),
        )
    };
}

/// A rejection with `Error::InvalidClaim` naming `$claim`.
macro_rules! claim {
    ($claim:literal) => {
        is!(jwt_rotate::Error::InvalidClaim { claim: $claim, .. })
    };
}

#[path = "hostile_tokens/access_claims.rs"]
mod access_claims;
#[path = "hostile_tokens/access_encoding.rs"]
mod access_encoding;
#[path = "hostile_tokens/access_header.rs"]
mod access_header;
#[path = "hostile_tokens/forge.rs"]
mod forge;
#[path = "hostile_tokens/refresh_boundaries.rs"]
mod refresh_boundaries;
#[path = "hostile_tokens/refresh_more.rs"]
mod refresh_more;
#[path = "hostile_tokens/refresh_rows.rs"]
mod refresh_rows;

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use forge::{ALPHABET, Expect, Fixture, Op, Row, Svc, Table};
use jwt_rotate::{
    Error, Key, ManualClock, MemoryStore, NoClaims, SessionInfo, TokenService, Verifier,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// What the table run saw, reported all at once at the end.
#[derive(Default)]
struct Tally {
    hostile_tries: usize,
    control_tries: usize,
    /// Rows where the `Verifier` and `TokenService::verify` disagreed.
    verifier_disagreed: Vec<String>,
    accepted: Vec<String>,
    panicked: Vec<String>,
    wrong_error: Vec<String>,
    failed_controls: Vec<String>,
}

/// `Err(panic message)` if the call panicked.
type Outcome = Result<Result<(), Error>, String>;

impl Tally {
    fn record(&mut self, row: &Row, op: &str, outcome: Outcome) {
        let what = format!("{} [{op}]", row.name);
        if std::env::var_os("HOSTILE_TOKENS_VERBOSE").is_some() {
            println!("{what}: {outcome:?}");
        }
        match row.expect {
            Expect::Accept => self.control_tries += 1,
            Expect::Reject(..) => self.hostile_tries += 1,
        }
        match (row.expect, outcome) {
            (_, Err(panic)) => self.panicked.push(format!("{what}: {panic}")),
            (Expect::Accept, Ok(Ok(()))) => {}
            (Expect::Accept, Ok(Err(e))) => self.failed_controls.push(format!("{what}: {e:?}")),
            (Expect::Reject(..), Ok(Ok(()))) => self.accepted.push(what),
            (Expect::Reject(check, pattern), Ok(Err(e))) => {
                if !check(&e) {
                    let found = format!("{what}: expected {pattern}, got {e:?}");
                    self.wrong_error.push(found);
                }
            }
        }
    }
}

fn panic_message(panic: Box<dyn Any + Send>) -> String {
    match panic.downcast::<String>() {
        Ok(message) => *message,
        Err(panic) => panic
            .downcast_ref::<&str>()
            .map_or("panic", |m| m)
            .to_owned(),
    }
}

/// Runs the async call on its own task, so a panic is caught with the row's
/// name instead of ending the test.
async fn spawned<F>(call: F) -> Outcome
where
    F: Future<Output = Result<(), Error>> + Send + 'static,
{
    match tokio::spawn(call).await {
        Ok(result) => Ok(result),
        Err(e) => Err(e
            .try_into_panic()
            .map_or_else(|e| e.to_string(), panic_message)),
    }
}

/// A resource server's verifier for `svc`: its public keys (or its shared
/// HMAC key), its size cap, the same clock reading.
fn verifier(fx: &Fixture, svc: Svc) -> Verifier {
    let builder = Verifier::builder()
        .issuer(common::ISSUER)
        .audience(common::AUDIENCE)
        .clock(ManualClock::new(common::start()));
    let hs256 = || Key::hs256(common::ACCESS_SECRET).unwrap();
    match svc {
        Svc::Main => builder.key(hs256()),
        Svc::Big => builder.key(hs256()).max_token_bytes(16 << 20),
        Svc::Asym => builder.jwks(fx.asym.jwks()),
    }
    .build()
    .unwrap()
}

async fn run(fx: &Fixture, row: &Row, tally: &mut Tally) {
    let service = fx.service(row.svc).clone();
    if row.op == Op::Verify {
        let call = || service.verify(&row.token).map(drop);
        let outcome = catch_unwind(AssertUnwindSafe(call)).map_err(panic_message);
        let expected = format!("{outcome:?}");
        tally.record(row, "verify", outcome);
        let (verifier, token) = (verifier(fx, row.svc), row.token.clone());
        let outcome = spawned(async move { verifier.verify(&token).await.map(drop) }).await;
        if format!("{outcome:?}") != expected {
            let found = format!("{}: verify {expected}, Verifier {outcome:?}", row.name);
            tally.verifier_disagreed.push(found);
        }
        return tally.record(row, "Verifier::verify", outcome);
    }
    let (svc, token) = (service.clone(), row.token.clone());
    let outcome = spawned(async move { svc.refresh(&token).await.map(drop) }).await;
    tally.record(row, "refresh", outcome);
    if row.op == Op::Refresh {
        let token = row.token.clone();
        let outcome = spawned(async move { service.revoke(&token).await.map(drop) }).await;
        tally.record(row, "revoke", outcome);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_tokens_are_never_accepted() {
    let fx = Fixture::new().await;
    let mut access = Table::verify();
    access_header::rows(&fx, &mut access);
    access_header::confusion_rows(&fx, &mut access);
    access_claims::rows(&fx, &mut access);
    access_encoding::rows(&fx, &mut access);
    let mut refresh = Table::refresh();
    refresh_rows::header_rows(&fx, &mut refresh);
    refresh_rows::claim_rows(&fx, &mut refresh);
    refresh_rows::encoding_rows(&fx, &mut refresh);
    refresh_more::header_rows(&fx, &mut refresh);
    refresh_more::claim_rows(&fx, &mut refresh);
    refresh_more::encoding_rows(&fx, &mut refresh);
    refresh_more::confusion_rows(&fx, &mut refresh);
    let rows: Vec<Row> = access.rows.into_iter().chain(refresh.rows).collect();
    let mut tally = Tally::default();
    for row in &rows {
        run(&fx, row, &mut tally).await;
    }

    let hostile_rows = (rows.iter())
        .filter(|r| matches!(r.expect, Expect::Reject(..)))
        .count();
    println!(
        "hostile tokens: {} rows ({hostile_rows} hostile, {} controls); \
         tried {}, accepted {}, panicked {}, wrong error {}; controls tried {}, failed {}",
        rows.len(),
        rows.len() - hostile_rows,
        tally.hostile_tries,
        tally.accepted.len(),
        tally.panicked.len(),
        tally.wrong_error.len(),
        tally.control_tries,
        tally.failed_controls.len(),
    );
    assert!(tally.accepted.is_empty(), "ACCEPTED: {:#?}", tally.accepted);
    let disagreed = &tally.verifier_disagreed;
    assert!(disagreed.is_empty(), "Verifier differs: {disagreed:#?}");
    assert!(tally.panicked.is_empty(), "PANICKED: {:#?}", tally.panicked);
    assert!(tally.wrong_error.is_empty(), "{:#?}", tally.wrong_error);
    let failed = &tally.failed_controls;
    assert!(failed.is_empty(), "controls refused: {failed:#?}");

    // No forged refresh or revoke touched a real session: alice and bob are
    // still listed, and their generation-0 tokens still rotate.
    for (who, pair) in [("alice", &fx.alice), ("bob", &fx.bob)] {
        let listed = fx.main.sessions(who).await.unwrap();
        let ids: Vec<_> = listed.iter().map(|s| s.id).collect();
        assert_eq!(ids, [pair.session_id], "{who}'s sessions");
        let next = fx.main.refresh(&pair.refresh_token).await;
        let next = next.unwrap_or_else(|e| panic!("{who}'s session no longer refreshes: {e:?}"));
        assert_eq!(next.session_id, pair.session_id);
        assert_eq!(fx.main.verify(&next.access_token).unwrap().sub, who);
    }
    assert!(hostile_rows >= 80, "only {hostile_rows} hostile rows");
}

/// A live session and its real tokens, shared by every proptest case.
struct Target {
    runtime: tokio::runtime::Runtime,
    service: TokenService<MemoryStore>,
    access: String,
    refresh: String,
}

static TARGET: LazyLock<Target> = LazyLock::new(|| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (service, _clock) = common::service();
    let login = service.issue("alice", NoClaims {}, SessionInfo::default());
    let pair = runtime.block_on(login).unwrap();
    Target {
        access: pair.access_token.as_str().to_owned(),
        refresh: pair.refresh_token.as_str().to_owned(),
        runtime,
        service,
    }
});

#[derive(Debug, Clone)]
enum Source {
    Access,
    Refresh,
    Bytes(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Flips bit `.1` of byte `.0` (positions wrap around the length).
    Flip(usize, u8),
    /// Keeps the first `.0` bytes.
    Truncate(usize),
    /// Replaces up to `.1` bytes at `.0` by `.2`.
    Splice(usize, usize, Vec<u8>),
    /// Replaces segment `.0` by the same segment of the other real token.
    Graft(usize),
    /// XORs the base64url value of segment `.0`'s last character with `.1`:
    /// sets unused trailing bits, a second spelling of the same bytes.
    LowBits(usize, u8),
}

fn source() -> impl Strategy<Value = Source> {
    prop_oneof![
        3 => Just(Source::Access),
        3 => Just(Source::Refresh),
        1 => vec(any::<u8>(), 0..400).prop_map(Source::Bytes),
        1 => "[A-Za-z0-9_.-]{0,400}".prop_map(|s| Source::Bytes(s.into_bytes())),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = vec(any::<u8>(), 0..6);
    let text = "[A-Za-z0-9_=+/. \n-]{0,6}".prop_map(String::into_bytes);
    prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0..4usize, bytes).prop_map(|(at, n, with)| Mutation::Splice(at, n, with)),
        (any::<usize>(), 0..4usize, text).prop_map(|(at, n, with)| Mutation::Splice(at, n, with)),
        (0..3usize).prop_map(Mutation::Graft),
        (0..3usize, 1..4u8).prop_map(|(seg, mask)| Mutation::LowBits(seg, mask)),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation, other: &str) {
    let len = bytes.len();
    let segment_end = |bytes: &[u8], seg: usize| {
        let dots = bytes.iter().enumerate().filter(|(_, b)| **b == b'.');
        let end = dots.map(|(i, _)| i).chain([bytes.len()]).nth(seg)?;
        end.checked_sub(1)
    };
    match mutation {
        Mutation::Flip(at, bit) if len > 0 => bytes[at % len] ^= 1 << bit,
        Mutation::Flip(..) => {}
        Mutation::Truncate(at) => bytes.truncate(at % (len + 1)),
        Mutation::Splice(at, cut, with) => {
            let at = at % (len + 1);
            let end = (at + cut).min(len);
            bytes.splice(at..end, with.iter().copied());
        }
        Mutation::Graft(seg) => {
            let mut parts: Vec<&[u8]> = bytes.split(|b| *b == b'.').collect();
            if let (Some(part), Some(graft)) = (parts.get_mut(*seg), other.split('.').nth(*seg)) {
                *part = graft.as_bytes();
                *bytes = parts.join(&b'.');
            }
        }
        Mutation::LowBits(seg, mask) => {
            if let Some(last) = segment_end(bytes, *seg)
                && let Some(value) = ALPHABET.iter().position(|c| *c == bytes[last])
            {
                bytes[last] = ALPHABET[value ^ usize::from(*mask)];
            }
        }
    }
}

/// Every call on one candidate token: only the untouched access token may
/// verify, and nothing but the untouched refresh token is sent to refresh
/// or revoke (the original would rotate or end the session).
fn check(token: &str) -> Result<(), TestCaseError> {
    let t = &*TARGET;
    let verified = t.service.verify(token);
    if token == t.access {
        prop_assert!(verified.is_ok(), "real access token refused");
    } else {
        prop_assert!(verified.is_err(), "verify ACCEPTED {token:?}");
    }
    if token != t.refresh {
        let refreshed = t.runtime.block_on(t.service.refresh(token));
        prop_assert!(refreshed.is_err(), "refresh ACCEPTED {token:?}");
        let revoked = t.runtime.block_on(t.service.revoke(token));
        prop_assert!(revoked.is_err(), "revoke ACCEPTED {token:?}");
    }
    let sessions = t.runtime.block_on(t.service.sessions("alice")).unwrap();
    prop_assert_eq!(sessions.len(), 1, "the session was revoked");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: ProptestConfig::default().cases.max(1000),
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"),
        )),
        ..ProptestConfig::default()
    })]

    #[test]
    fn never_panics_never_accepts(source in source(), mutations in vec(mutation(), 0..5)) {
        let t = &*TARGET;
        let (mut bytes, other) = match source {
            Source::Access => (t.access.clone().into_bytes(), &t.refresh),
            Source::Refresh => (t.refresh.clone().into_bytes(), &t.access),
            Source::Bytes(bytes) => (bytes, &t.access),
        };
        for mutation in &mutations {
            mutate(&mut bytes, mutation, other);
        }
        check(&String::from_utf8_lossy(&bytes))?;
    }
}
