//! Hand-made tokens: a JSON object builder that keeps raw values (so a
//! claim can be `1e300` or `18446744073709551616` verbatim), base64url, and
//! signing with the service's own secrets through jsonwebtoken's crypto.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::TokenService;
use jwt_rotate::{Error, Key, MemoryStore, NoClaims, SessionInfo, TokenPair};

use crate::common::{self, ACCESS_SECRET, AUDIENCE, ISSUER, REFRESH_SECRET};

pub(crate) const RSA_PEM: &str = include_str!("../data/keys/rs256.pem");
pub(crate) const ES256_PEM: &str = include_str!("../data/keys/es256.pem");
pub(crate) const ED25519_PEM: &str = include_str!("../data/keys/ed25519.pem");
pub(crate) const ED25519_B_PEM: &str = include_str!("../data/keys/ed25519-b.pem");

/// Installs jsonwebtoken's crypto provider for `jsonwebtoken::crypto::sign`
/// (our `Key` only does so for asymmetric keys).
pub(crate) fn install_provider() {
    #[cfg(feature = "aws-lc-rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
}

/// A JSON object as `(name, raw JSON value)` pairs, rendered in order.
/// Duplicates are allowed on purpose ([`Obj::dup`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Obj(Vec<(String, String)>);

impl Obj {
    /// Replaces `key`'s raw value, or appends it.
    pub(crate) fn set(mut self, key: &str, raw: impl Into<String>) -> Self {
        let raw = raw.into();
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = raw,
            None => self.0.push((key.to_owned(), raw)),
        }
        self
    }

    /// Sets `key` to a JSON string.
    pub(crate) fn s(self, key: &str, value: &str) -> Self {
        self.set(key, quote(value))
    }

    /// Sets `key` to a JSON integer.
    pub(crate) fn n(self, key: &str, value: impl Into<i128>) -> Self {
        self.set(key, value.into().to_string())
    }

    pub(crate) fn without(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }

    /// Appends `key` again, even if present.
    pub(crate) fn dup(mut self, key: &str, raw: impl Into<String>) -> Self {
        self.0.push((key.to_owned(), raw.into()));
        self
    }

    /// The raw value of `key`.
    pub(crate) fn get(&self, key: &str) -> &str {
        let found = self.0.iter().find(|(k, _)| k == key);
        &found.unwrap_or_else(|| panic!("no {key}")).1
    }

    pub(crate) fn render(&self) -> String {
        let members: Vec<String> = (self.0.iter())
            .map(|(k, v)| format!("{}:{v}", quote(k)))
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// The object a real token's segment holds.
    pub(crate) fn parse(json: &[u8]) -> Self {
        let value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(json).unwrap();
        Self(value.into_iter().map(|(k, v)| (k, v.to_string())).collect())
    }
}

pub(crate) fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// The base64url signature of `input` (HMAC for `HS*`, else the PEM's key).
pub(crate) fn sign(input: &str, key: &EncodingKey, alg: Algorithm) -> String {
    jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap()
}

pub(crate) fn hmac(input: &str, secret: &[u8], alg: Algorithm) -> String {
    sign(input, &EncodingKey::from_secret(secret), alg)
}

/// `header.payload.signature`, HMAC-signed with `secret`, segments given
/// already encoded (so they may be non-canonical).
pub(crate) fn signed_segments(
    header: &str,
    payload: &str,
    secret: &[u8],
    alg: Algorithm,
) -> String {
    let input = format!("{header}.{payload}");
    let signature = hmac(&input, secret, alg);
    format!("{input}.{signature}")
}

/// A token from raw header and payload bytes, HMAC-signed with `secret`.
pub(crate) fn signed(header: &[u8], payload: &[u8], secret: &[u8], alg: Algorithm) -> String {
    signed_segments(&b64(header), &b64(payload), secret, alg)
}

/// The three segments of a compact token.
pub(crate) fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    [parts[0], parts[1], parts[2]]
}

/// `token` with the character at `at` of segment `seg` replaced by another
/// base64url character.
pub(crate) fn flip_char(token: &str, seg: usize, at: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut chars: Vec<char> = parts[seg].chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    parts[seg] = chars.into_iter().collect();
    parts.join(".")
}

/// The base64url alphabet, by value.
pub(crate) const ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `segment` with bits of its last character's value flipped by `mask`.
pub(crate) fn xor_last_char(segment: &str, mask: u8) -> String {
    let (head, last) = segment.split_at(segment.len() - 1);
    let value = ALPHABET
        .iter()
        .position(|c| *c == last.as_bytes()[0])
        .unwrap();
    format!("{head}{}", ALPHABET[value ^ usize::from(mask)] as char)
}

/// Everything the hostile rows are made from: the services under test, real
/// tokens, and the key ids an attacker would read off real tokens.
pub(crate) struct Fixture {
    /// HS256 keys, the default 8 KiB cap. Holds alice, bob and carol.
    pub main: TokenService<MemoryStore>,
    /// Same keys, a 16 MiB cap: the JSON parser meets deep nesting.
    pub big: TokenService<MemoryStore>,
    /// RS256 access key, Ed25519 accepted, the other Ed25519 key for
    /// refresh: algorithm confusion.
    pub asym: TokenService<MemoryStore>,
    pub now: i64,
    pub alice: TokenPair,
    pub bob: TokenPair,
    pub carol: TokenPair,
    pub asym_pair: TokenPair,
    pub access_kid: String,
    pub refresh_kid: String,
    pub rsa_kid: String,
    pub ed_kid: String,
    /// The public JWKs of the asymmetric service, as JSON text.
    pub rsa_jwk: String,
    pub ed_jwk: String,
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        install_provider();
        let (main, clock) = common::service();
        let big = common::builder(&clock)
            .max_token_bytes(16 << 20)
            .build(MemoryStore::new())
            .unwrap();
        let rsa = Key::rs256_pem(RSA_PEM).unwrap();
        let ed = Key::ed25519_pem(ED25519_PEM).unwrap();
        let (rsa_kid, ed_kid) = (rsa.kid().to_owned(), ed.kid().to_owned());
        let rsa_jwk = serde_json::to_string(&rsa.public_jwk().unwrap()).unwrap();
        let ed_jwk = serde_json::to_string(&ed.public_jwk().unwrap()).unwrap();
        let asym = common::builder(&clock)
            .access_key(rsa)
            .accept_access_key(ed)
            .refresh_key(Key::ed25519_pem(ED25519_B_PEM).unwrap())
            .build(MemoryStore::new())
            .unwrap();
        let login = |svc: &TokenService<MemoryStore>, who: &'static str| {
            let svc = svc.clone();
            async move {
                let info = SessionInfo::default();
                svc.issue(who, NoClaims {}, info).await.unwrap()
            }
        };
        Self {
            alice: login(&main, "alice").await,
            bob: login(&main, "bob").await,
            carol: login(&main, "carol").await,
            asym_pair: login(&asym, "alice").await,
            now: common::start().unix_timestamp(),
            access_kid: Key::hs256(ACCESS_SECRET).unwrap().kid().to_owned(),
            refresh_kid: Key::hs256(REFRESH_SECRET).unwrap().kid().to_owned(),
            main,
            big,
            asym,
            rsa_kid,
            ed_kid,
            rsa_jwk,
            ed_jwk,
        }
    }

    pub(crate) fn access_header(&self) -> Obj {
        header("HS256", "at+jwt", &self.access_kid)
    }

    pub(crate) fn refresh_header(&self) -> Obj {
        header("HS256", "rt+jwt", &self.refresh_kid)
    }

    /// Valid access claims for alice's session, issued now.
    pub(crate) fn access_claims(&self) -> Obj {
        Obj::default()
            .s("iss", ISSUER)
            .s("sub", "alice")
            .s("aud", AUDIENCE)
            .n("exp", self.now + 900)
            .n("iat", self.now)
            .s("jti", "hand-made-jti")
            .s("sid", &self.alice.session_id.to_string())
    }

    /// The claims of `pair`'s real refresh token: values verbatim, names sorted.
    pub(crate) fn refresh_claims(&self, pair: &TokenPair) -> Obj {
        Obj::parse(&unb64(segments(pair.refresh_token.as_str())[1]))
    }

    /// Header and claims signed like the service signs access tokens.
    pub(crate) fn access(&self, header: &Obj, claims: &Obj) -> String {
        let (h, c) = (header.render(), claims.render());
        signed(h.as_bytes(), c.as_bytes(), &ACCESS_SECRET, HS256)
    }

    /// Header and claims signed like the service signs refresh tokens.
    pub(crate) fn refresh(&self, header: &Obj, claims: &Obj) -> String {
        let (h, c) = (header.render(), claims.render());
        signed(h.as_bytes(), c.as_bytes(), &REFRESH_SECRET, HS256)
    }

    /// A correctly signed access token of exactly `len` bytes (padded with
    /// an ignored claim and header whitespace).
    pub(crate) fn access_of_len(&self, len: usize) -> String {
        let b64_len = |n: usize| (4 * n).div_ceil(3);
        let header = self.access_header().render();
        for spaces in 0..4 {
            let h = format!("{{{}{}", " ".repeat(spaces), &header[1..]);
            for pad in 0..len {
                let c = self.access_claims().s("pad", &"x".repeat(pad)).render();
                if b64_len(h.len()) + b64_len(c.len()) + 45 == len {
                    let token = signed(h.as_bytes(), c.as_bytes(), &ACCESS_SECRET, HS256);
                    assert_eq!(token.len(), len);
                    return token;
                }
            }
        }
        panic!("no access token of {len} bytes");
    }

    pub(crate) fn service(&self, svc: Svc) -> &TokenService<MemoryStore> {
        match svc {
            Svc::Main => &self.main,
            Svc::Big => &self.big,
            Svc::Asym => &self.asym,
        }
    }
}

pub(crate) const HS256: Algorithm = Algorithm::HS256;

pub(crate) fn header(alg: &str, typ: &str, kid: &str) -> Obj {
    Obj::default().s("alg", alg).s("typ", typ).s("kid", kid)
}

/// Which service a row is tried on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Svc {
    Main,
    Big,
    Asym,
}

/// What a row is presented to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `verify` (access tokens).
    Verify,
    /// `refresh` and `revoke`.
    Refresh,
    /// `refresh` only: `revoke` accepts a genuine token whatever its `exp`
    /// or generation, by design.
    RefreshOnly,
}

pub(crate) type Check = fn(&Error) -> bool;

#[derive(Clone, Copy)]
pub(crate) enum Expect {
    /// A positive control: proves the row's neighbours can fail.
    Accept,
    /// Must be refused, with an error `Check` accepts (`&str`: its pattern).
    Reject(Check, &'static str),
}

pub(crate) struct Row {
    pub name: String,
    pub token: String,
    pub svc: Svc,
    pub op: Op,
    pub expect: Expect,
}

impl Row {
    /// Tries the row on `svc` instead of [`Svc::Main`].
    pub(crate) fn on(&mut self, svc: Svc) -> &mut Self {
        self.svc = svc;
        self
    }

    /// Presents the row to `refresh` only.
    pub(crate) fn refresh_only(&mut self) -> &mut Self {
        self.op = Op::RefreshOnly;
        self
    }
}

/// Collects the rows of one operation.
pub(crate) struct Table {
    pub rows: Vec<Row>,
    op: Op,
}

impl Table {
    pub(crate) fn verify() -> Self {
        let (rows, op) = (Vec::new(), Op::Verify);
        Self { rows, op }
    }

    pub(crate) fn refresh() -> Self {
        let (rows, op) = (Vec::new(), Op::Refresh);
        Self { rows, op }
    }

    pub(crate) fn add(
        &mut self,
        name: impl Into<String>,
        token: impl Into<String>,
        e: Expect,
    ) -> &mut Row {
        self.rows.push(Row {
            name: name.into(),
            token: token.into(),
            svc: Svc::Main,
            op: self.op,
            expect: e,
        });
        self.rows.last_mut().unwrap()
    }
}

/// Any refusal: where the exact one depends on which bits a change hit.
pub(crate) const ANY: Expect = Expect::Reject(|_| true, "any error");

/// One character changed at the start, middle and end of each segment of
/// `real`. A payload or signature change must fail the signature; a header
/// change, or one in the signature's last character, may fail earlier.
pub(crate) fn flips(t: &mut Table, label: &str, real: &str) {
    const BAD_SIG: Expect = is!(Error::InvalidSignature);
    for (seg, name) in [(0, "header"), (1, "payload"), (2, "signature")] {
        let len = segments(real)[seg].len();
        for (at, place) in [(0, "first"), (len / 2, "middle"), (len - 1, "last")] {
            let expect = match (seg, at + 1 == len) {
                (1, _) | (2, false) => BAD_SIG,
                _ => ANY,
            };
            let name = format!("{label}, {place} {name} char changed");
            t.add(name, flip_char(real, seg, at), expect);
        }
    }
}
