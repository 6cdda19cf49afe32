//! The reference model for tests/state_machine_model.rs: the ops, and what
//! each must do, in whole seconds, from the rules in src/service.rs,
//! refresh.rs, access.rs and jws.rs.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::{RevocationReason, SessionId, TokenPair};
use sha2::{Digest, Sha256};

use crate::common;

pub(crate) const SUBJECTS: [&str; 3] = ["alice", "bob", "carol"];
pub(crate) const ACCESS: i64 = 15 * 60;
pub(crate) const IDLE: i64 = 7 * 86_400;
pub(crate) const ABSOLUTE: i64 = 30 * 86_400;
pub(crate) const LEEWAY: i64 = 5;

/// How to spoil a real token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Forgery {
    /// Replace one character of the signature (not the last).
    SigChar(usize),
    /// Set a trailing bit in the signature's last character.
    SigTrailingBits,
    /// Replace one character of the payload.
    PayloadChar(usize),
    /// Same header and payload, signed with another key (same `kid`).
    WrongKey,
    /// Not a JWS at all.
    Garbage,
    /// A real token of the other kind (access for refresh and back).
    OtherType,
}

/// Which of a session's tokens an op presents.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pick {
    /// The latest one.
    Current,
    /// The one before (the latest if there is none).
    Previous,
    /// One of those before the previous one (the previous if none).
    Older(usize),
    /// The latest one, forged.
    Forged(Forgery),
}

/// An instant of a session to move the clock near.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Anchor {
    /// The end of the grace window of the last rotation.
    GraceEnd,
    /// The latest access token's expiry plus the leeway.
    AccessExpiry,
    /// The session's idle or absolute expiry, whichever first.
    SessionEnd,
    /// The previous refresh token's expiry plus the leeway.
    PreviousTokenExpiry,
    /// The end of the absolute lifetime.
    AbsoluteEnd,
}

/// Session arguments (`usize`) count back from the newest session.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Issue(usize),
    Refresh(usize, Pick),
    Revoke(usize, Pick),
    RevokeSession(usize),
    RevokeSubject(usize, Option<usize>),
    Advance(i64),
    /// Advance, then every session's client refreshes with its current
    /// token; that many times (keeps sessions alive up to their absolute
    /// lifetime).
    AdvanceAndRefreshAll(i64, usize),
    AdvanceTo(usize, Anchor, i64),
    VerifyLive(usize, Pick),
    Sessions(usize),
    PurgeExpired,
}

/// What a refresh with a genuine token must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresh {
    Rotate,
    /// Return the current refresh token again.
    Grace,
    Fail(&'static str),
}

pub(crate) struct Session {
    pub subject: usize,
    pub id: SessionId,
    pub created: i64,
    /// Last rotation (creation before the first).
    pub refreshed: i64,
    /// The refresh token of each generation, with its `exp`.
    pub refresh: Vec<(String, i64)>,
    /// Every access token handed out, with its `exp`.
    pub access: Vec<(String, i64)>,
    /// The first revocation.
    pub revoked: Option<(RevocationReason, i64)>,
    pub purged: bool,
}

impl Session {
    fn generation(&self) -> usize {
        self.refresh.len() - 1
    }

    fn end(&self) -> i64 {
        (self.refreshed + IDLE).min(self.created + ABSOLUTE)
    }
}

pub(crate) struct Model {
    pub now: i64,
    pub grace: i64,
    pub sessions: Vec<Session>,
}

impl Model {
    pub(crate) fn new(now: i64, grace: i64) -> Self {
        Self {
            now,
            grace,
            sessions: Vec::new(),
        }
    }

    /// The session an op argument names, counting back from the newest.
    pub(crate) fn index(&self, k: usize) -> Option<usize> {
        let n = self.sessions.len();
        (n > 0).then(|| n - 1 - k % n)
    }

    pub(crate) fn issue(&mut self, subject: usize, pair: &TokenPair) -> usize {
        let now = self.now;
        self.sessions.push(Session {
            subject,
            id: pair.session_id,
            created: now,
            refreshed: now,
            refresh: vec![(pair.refresh_token.as_str().into(), now + IDLE)],
            access: vec![(pair.access_token.as_str().into(), now + ACCESS)],
            revoked: None,
            purged: false,
        });
        self.sessions.len() - 1
    }

    /// The refresh token to present, and its generation or, if forged, the
    /// error it must get.
    pub(crate) fn refresh_token(
        &self,
        i: usize,
        pick: Pick,
    ) -> (String, Result<usize, &'static str>) {
        let s = &self.sessions[i];
        let g = choose(s.refresh.len(), pick);
        let token = &s.refresh[g].0;
        match pick {
            Pick::Forged(f) => {
                let other = &s.access.last().unwrap().0;
                let (forged, want) = forge(token, other, f, &common::REFRESH_SECRET);
                (forged, Err(want))
            }
            _ => (token.clone(), Ok(g)),
        }
    }

    /// The access token to present, and its `exp` or, if forged, the error
    /// it must get.
    pub(crate) fn access_token(&self, i: usize, pick: Pick) -> (String, Result<i64, &'static str>) {
        let s = &self.sessions[i];
        let (token, exp) = &s.access[choose(s.access.len(), pick)];
        match pick {
            Pick::Forged(f) => {
                let other = &s.refresh.last().unwrap().0;
                let (forged, want) = forge(token, other, f, &common::ACCESS_SECRET);
                (forged, Err(want))
            }
            _ => (token.clone(), Ok(*exp)),
        }
    }

    /// `refresh` with the genuine token of generation `g` of session `i`:
    /// token expiry, then the compare-and-swap, then why it was refused.
    pub(crate) fn refresh(&mut self, i: usize, g: usize) -> Refresh {
        let (now, grace) = (self.now, self.grace);
        let s = &mut self.sessions[i];
        let current = s.generation();
        if now >= s.refresh[g].1 + LEEWAY {
            Refresh::Fail("Expired")
        } else if !s.purged && s.revoked.is_none() && g == current && now < s.end() {
            Refresh::Rotate
        } else if s.purged {
            Refresh::Fail("SessionExpired")
        } else if s.revoked.is_some() {
            Refresh::Fail("SessionRevoked")
        } else if now >= s.end() {
            Refresh::Fail("SessionExpired")
        } else if g + 1 == current && now < s.refreshed + grace {
            Refresh::Grace
        } else {
            assert!(g < current, "model: a current token cannot be reuse");
            s.revoked = Some((RevocationReason::ReuseDetected, now));
            Refresh::Fail("ReuseDetected")
        }
    }

    /// Coverage tags for refreshing session `i` with generation `g`.
    pub(crate) fn refresh_detail(&self, i: usize, g: usize) -> String {
        let (s, now) = (&self.sessions[i], self.now);
        let previous = g + 1 == s.generation();
        let tags = [
            (now == s.refresh[g].1 + LEEWAY, "at token expiry"),
            (now == s.end(), "at session end"),
            (s.created + ABSOLUTE <= now + IDLE, "absolute lifetime"),
            (
                previous && now + 1 == s.refreshed + self.grace,
                "last grace second",
            ),
            (
                previous && now == s.refreshed + self.grace,
                "grace just over",
            ),
            (g + 2 <= s.generation(), "older generation"),
        ];
        let tags: Vec<_> = tags.iter().filter(|t| t.0).map(|t| t.1).collect();
        if tags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", tags.join(", "))
        }
    }

    /// Session `i` rotated at `now` to `pair`.
    pub(crate) fn rotated(&mut self, i: usize, pair: &TokenPair) {
        let now = self.now;
        let s = &mut self.sessions[i];
        s.refreshed = now;
        let exp = s.end();
        s.refresh.push((pair.refresh_token.as_str().into(), exp));
        s.access
            .push((pair.access_token.as_str().into(), (now + ACCESS).min(exp)));
    }

    /// Revokes session `i` if its record is there and not revoked yet.
    pub(crate) fn revoke(&mut self, i: usize, reason: RevocationReason) -> bool {
        let now = self.now;
        let s = &mut self.sessions[i];
        let revokes = !s.purged && s.revoked.is_none();
        if revokes {
            s.revoked = Some((reason, now));
        }
        revokes
    }

    pub(crate) fn revoke_subject(&mut self, subject: usize, except: Option<SessionId>) -> u64 {
        let mut count = 0;
        for i in 0..self.sessions.len() {
            let s = &self.sessions[i];
            if s.subject == subject && Some(s.id) != except {
                count += u64::from(self.revoke(i, RevocationReason::SubjectRevoked));
            }
        }
        count
    }

    /// `verify_live` with a genuine access token of session `i` expiring at
    /// `exp`.
    pub(crate) fn verify_live(&self, i: usize, exp: i64) -> Result<(), &'static str> {
        let s = &self.sessions[i];
        if self.now >= exp + LEEWAY {
            Err("Expired")
        } else if s.purged {
            Err("SessionExpired")
        } else if s.revoked.is_some() {
            Err("SessionRevoked")
        } else if self.now >= s.end() {
            Err("SessionExpired")
        } else {
            Ok(())
        }
    }

    /// `sessions(subject)`: (id, created, refreshed, idle expiry, absolute
    /// expiry) of the live ones, newest first (ties by id, descending).
    pub(crate) fn live_sessions(&self, subject: usize) -> Vec<(SessionId, i64, i64, i64, i64)> {
        let mut live: Vec<_> = (self.sessions.iter())
            .filter(|s| s.subject == subject && !s.purged && s.revoked.is_none())
            .filter(|s| self.now < s.end())
            .map(|s| {
                (
                    s.id,
                    s.created,
                    s.refreshed,
                    s.refreshed + IDLE,
                    s.created + ABSOLUTE,
                )
            })
            .collect();
        live.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
        live
    }

    /// Deletes records expired beyond the leeway, revoked or not.
    pub(crate) fn purge(&mut self) -> u64 {
        let cutoff = self.now - LEEWAY;
        let mut count = 0;
        for s in self.sessions.iter_mut().filter(|s| !s.purged) {
            if s.end() <= cutoff {
                s.purged = true;
                count += 1;
            }
        }
        count
    }

    /// The instant `anchor` names for session `i`, if it has one.
    pub(crate) fn anchor(&self, i: usize, anchor: Anchor) -> Option<i64> {
        let s = &self.sessions[i];
        match anchor {
            Anchor::GraceEnd => (s.generation() > 0).then_some(s.refreshed + self.grace),
            Anchor::AccessExpiry => Some(s.access.last()?.1 + LEEWAY),
            Anchor::SessionEnd => Some(s.end()),
            Anchor::PreviousTokenExpiry => {
                let g = s.generation().checked_sub(1)?;
                Some(s.refresh[g].1 + LEEWAY)
            }
            Anchor::AbsoluteEnd => Some(s.created + ABSOLUTE),
        }
    }
}

/// The index `pick` names in a list of `len >= 1` tokens, oldest first.
fn choose(len: usize, pick: Pick) -> usize {
    let last = len - 1;
    match pick {
        Pick::Current | Pick::Forged(_) => last,
        Pick::Previous => last.saturating_sub(1),
        Pick::Older(n) if last >= 2 => n % (last - 1),
        Pick::Older(_) => last.saturating_sub(1),
    }
}

/// A spoiled `token` (signed with `secret`, HS256) and the error it must
/// get; `other` is a real token of the other kind.
pub(crate) fn forge(token: &str, other: &str, f: Forgery, secret: &[u8]) -> (String, &'static str) {
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = signed.split_once('.').unwrap();
    match f {
        Forgery::SigChar(n) => {
            let signature = replace_char(signature, n % (signature.len() - 1));
            (format!("{signed}.{signature}"), "InvalidSignature")
        }
        Forgery::SigTrailingBits => {
            // 32 bytes in 43 characters: the last one carries 2 zero bits.
            const ALPHABET: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let (body, last) = signature.split_at(signature.len() - 1);
            let at = ALPHABET
                .iter()
                .position(|&c| c == last.as_bytes()[0])
                .unwrap();
            let spoiled = char::from(ALPHABET[at ^ 1]);
            (format!("{signed}.{body}{spoiled}"), "Malformed")
        }
        Forgery::PayloadChar(n) => {
            let payload = replace_char(payload, n % payload.len());
            (
                format!("{header}.{payload}.{signature}"),
                "InvalidSignature",
            )
        }
        Forgery::WrongKey => {
            let mut wrong = secret.to_vec();
            wrong[0] ^= 0x80;
            let signature = hs256(&wrong, signed.as_bytes());
            (format!("{signed}.{signature}"), "InvalidSignature")
        }
        Forgery::Garbage => ("not-a-token".into(), "Malformed"),
        Forgery::OtherType => (other.into(), "InvalidClaim(typ)"),
    }
}

fn replace_char(s: &str, at: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// HMAC-SHA256 (RFC 2104) of `message` under a key of at most 64 bytes,
/// base64url.
pub(crate) fn hs256(key: &[u8], message: &[u8]) -> String {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize();
    URL_SAFE_NO_PAD.encode(outer)
}
