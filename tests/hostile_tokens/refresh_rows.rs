//! Hostile refresh tokens, for `refresh` and `revoke`. They are made from
//! alice's real refresh claims, so one that slipped through would rotate
//! or end her live session; the final checks prove none did.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use jsonwebtoken::Algorithm;
use jwt_rotate::Error;

use crate::common::{ACCESS_SECRET, AUDIENCE, REFRESH_SECRET};
use crate::forge::*;

const OK: Expect = Expect::Accept;
const MALFORMED: Expect = is!(Error::Malformed(_));
const BAD_SIG: Expect = is!(Error::InvalidSignature);
const EXPIRED: Expect = is!(Error::Expired);
const NOT_YET: Expect = is!(Error::NotYetValid);
const TYP: Expect = claim!("typ");

pub(crate) fn header_rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.refresh_header(), fx.refresh_claims(&fx.alice));
    let tok = |header: Obj| fx.refresh(&header, &c);
    // Carol's session, not alice's: proves the forge makes tokens the
    // service takes, so the rows below fail for the reason they name.
    let carol = fx.refresh(&h, &fx.refresh_claims(&fx.carol));
    t.add("control: carol's refresh token, made by hand", carol, OK)
        .refresh_only();

    t.add(
        "real access token as refresh token",
        fx.alice.access_token.as_str(),
        TYP,
    );
    for typ in ["at+jwt", "application/at+jwt", "JWT", ""] {
        t.add(format!("typ {typ:?}"), tok(h.clone().s("typ", typ)), TYP);
    }
    t.add("typ missing", tok(h.clone().without("typ")), MALFORMED);

    let payload = b64(c.render());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let input = format!("{}.{payload}", b64(h.clone().s("alg", alg).render()));
        let sig = hmac(&input, &REFRESH_SECRET, HS256);
        t.add(
            format!("alg {alg}, empty signature"),
            format!("{input}."),
            MALFORMED,
        );
        t.add(
            format!("alg {alg}, HS256 signature"),
            format!("{input}.{sig}"),
            MALFORMED,
        );
    }
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let header = h.clone().s("alg", &format!("{alg:?}")).render();
        let token = signed(
            header.as_bytes(),
            c.render().as_bytes(),
            &REFRESH_SECRET,
            alg,
        );
        t.add(
            format!("alg {alg:?} keyed with the HS256 secret"),
            token,
            BAD_SIG,
        );
    }

    t.add("kid missing", tok(h.clone().without("kid")), MALFORMED);
    let kids = [
        ("unknown", "attacker"),
        ("empty", ""),
        ("path traversal", "../../etc/passwd"),
        ("SQL injection", "' OR 1=1 --"),
        ("of the access key", fx.access_kid.as_str()),
    ];
    for (name, kid) in kids {
        t.add(format!("kid {name}"), tok(h.clone().s("kid", kid)), BAD_SIG);
    }
    let by = |header: &Obj, secret: &[u8]| {
        signed(
            header.render().as_bytes(),
            c.render().as_bytes(),
            secret,
            HS256,
        )
    };
    let access_kid = h.clone().s("kid", &fx.access_kid);
    t.add(
        "access kid, access key",
        by(&access_kid, &ACCESS_SECRET),
        BAD_SIG,
    );
    t.add("signed by the access key", by(&h, &ACCESS_SECRET), BAD_SIG);
    t.add("signed by a guessed secret", by(&h, b"secret"), BAD_SIG);

    let params = [
        ("crit", r#"["exp"]"#.to_owned()),
        ("jwk", fx.ed_jwk.clone()),
        ("jku", quote("https://attacker.example/jwks.json")),
        ("x5u", quote("https://attacker.example/cert.pem")),
        ("x5c", r#"["MIIBszCCAVmgAwIBAgIU"]"#.to_owned()),
    ];
    for (param, raw) in params {
        t.add(
            format!("header param {param}"),
            tok(h.clone().set(param, raw)),
            MALFORMED,
        );
    }
    let kid = quote(&fx.refresh_kid);
    t.add(
        "duplicate alg",
        tok(h.clone().dup("alg", quote("none"))),
        MALFORMED,
    );
    t.add(
        "duplicate kid",
        tok(h.clone().s("kid", "x").dup("kid", kid)),
        MALFORMED,
    );
}

pub(crate) fn claim_rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.refresh_header(), fx.refresh_claims(&fx.alice));
    let tok = |claims: Obj| fx.refresh(&h, &claims);
    let [rh, _, rs] = segments(fx.alice.refresh_token.as_str());
    let bob_sid = quote(&fx.bob.session_id.to_string());

    // Forged: claims changed, the real signature kept.
    let tampered = [
        ("gen 1", c.clone().n("gen", 1)),
        ("gen 0, re-encoded", c.clone()),
        ("sid of bob's session", c.clone().set("sid", &bob_sid)),
        ("sub mallory", c.clone().s("sub", "mallory")),
    ];
    for (name, claims) in tampered {
        let token = format!("{rh}.{}.{rs}", b64(claims.render()));
        t.add(format!("forged {name}, real signature"), token, BAD_SIG);
    }
    let bob = c.clone().set("sid", &bob_sid).render();
    let token = signed(h.render().as_bytes(), bob.as_bytes(), &ACCESS_SECRET, HS256);
    t.add("forged sid of bob's session, access key", token, BAD_SIG);

    // Correctly signed, refused before any store access.
    for name in ["iss", "aud", "sub", "sid", "gen", "jti", "iat", "exp"] {
        t.add(
            format!("{name} missing"),
            tok(c.clone().without(name)),
            MALFORMED,
        );
    }
    for (claim, raw) in [("admin", "true"), ("nbf", "0"), ("typ", r#""rt+jwt""#)] {
        t.add(
            format!("extra claim {claim}"),
            tok(c.clone().set(claim, raw)),
            MALFORMED,
        );
    }
    t.add(
        "duplicate gen 0 then 1",
        tok(c.clone().dup("gen", "1")),
        MALFORMED,
    );
    t.add(
        "duplicate sid alice then bob",
        tok(c.clone().dup("sid", &bob_sid)),
        MALFORMED,
    );
    let u64_max_plus_one = (i128::from(u64::MAX) + 1).to_string();
    let gens = [
        "\"0\"",
        "-1",
        "0.0",
        "1e300",
        "null",
        &u64_max_plus_one,
        "true",
        "[0]",
    ];
    for raw in gens {
        t.add(
            format!("gen {raw}"),
            tok(c.clone().set("gen", raw)),
            MALFORMED,
        );
    }
    // `revoke` ends a session with any genuine token, whatever its `gen`.
    t.add("gen u64::MAX", tok(c.clone().n("gen", u64::MAX)), MALFORMED)
        .refresh_only();

    let jti: String = serde_json::from_str(c.get("jti")).unwrap();
    let jtis = [
        ("31 bytes", b64([7u8; 31])),
        ("33 bytes", b64([7u8; 33])),
        ("empty", String::new()),
        ("padded", format!("{}=", b64([7u8; 32]))),
        ("in standard base64", STANDARD_NO_PAD.encode([0xFF; 32])),
        ("with trailing bits set", xor_last_char(&jti, 1)),
        ("in hex", "ab".repeat(32)),
    ];
    for (name, value) in jtis {
        t.add(
            format!("jti {name}"),
            tok(c.clone().s("jti", &value)),
            claim!("jti"),
        );
    }
    t.add("jti number", tok(c.clone().set("jti", "7")), MALFORMED);
    let bob_short = c.clone().set("sid", &bob_sid).s("jti", &b64([7u8; 31]));
    t.add(
        "bob's sid with a 31-byte jti",
        tok(bob_short),
        claim!("jti"),
    );

    let sid = fx.alice.session_id.to_string();
    let sids = [
        ("not a session id", "not-a-session".to_owned()),
        ("non-canonical", xor_last_char(&sid, 1)),
        ("padded", format!("{sid}==")),
    ];
    for (name, value) in sids {
        t.add(
            format!("sid {name}"),
            tok(c.clone().s("sid", &value)),
            claim!("sid"),
        );
    }

    let now = i128::from(fx.now);
    let values = [
        ("iss", quote("https://evil.example.com"), claim!("iss")),
        ("aud", quote("other.example.com"), claim!("aud")),
        ("aud", format!("[{}]", quote(AUDIENCE)), MALFORMED),
        ("iss", "null".to_owned(), MALFORMED),
        ("iat", (now + 6).to_string(), NOT_YET),
        ("iat", i64::MAX.to_string(), NOT_YET),
        ("iat", "1e300".to_owned(), MALFORMED),
        ("iat", format!("{now}.0"), MALFORMED),
        ("exp", quote(&now.to_string()), MALFORMED),
        ("exp", format!("{now}.5"), MALFORMED),
    ];
    for (claim, raw, expect) in values {
        t.add(
            format!("{claim}: {raw}"),
            tok(c.clone().set(claim, &raw)),
            expect,
        );
    }
    // `revoke` ends a session with a genuine expired token, by design.
    for exp in [now - 5, i64::MIN.into()] {
        t.add(format!("exp: {exp}"), tok(c.clone().n("exp", exp)), EXPIRED)
            .refresh_only();
    }
}

pub(crate) fn encoding_rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.refresh_header(), fx.refresh_claims(&fx.alice));
    let real = fx.alice.refresh_token.as_str();
    let [hs, ps, ss] = segments(real);
    let resigned = |h: &str, p: &str| signed_segments(h, p, &REFRESH_SECRET, HS256);

    let big_sub = fx.refresh(&h, &c.clone().s("sub", &"x".repeat(6_100)));
    assert!(big_sub.len() > 8192);
    t.add("over 8 KiB, signed", big_sub, MALFORMED);
    t.add(
        "1 MiB",
        format!("{hs}.{}.{ss}", "A".repeat(1 << 20)),
        MALFORMED,
    );
    t.add("two segments", format!("{hs}.{ps}"), MALFORMED);
    t.add("four segments", format!("{real}.{ss}"), MALFORMED);
    t.add("empty", "", MALFORMED);
    let json = format!(r#"{{"protected":"{hs}","payload":"{ps}","signature":"{ss}"}}"#);
    t.add("JSON serialization", json, MALFORMED);
    t.add("signature padded with =", format!("{real}="), MALFORMED);
    let odd_sig = xor_last_char(ss, 1);
    t.add(
        "signature trailing bits set",
        format!("{hs}.{ps}.{odd_sig}"),
        MALFORMED,
    );
    t.add("signature stripped", format!("{hs}.{ps}."), BAD_SIG);
    t.add(
        "signature truncated to 30 bytes",
        format!("{hs}.{ps}.{}", &ss[..40]),
        BAD_SIG,
    );
    let (p1, p2) = ps.split_at(10);
    t.add(
        "space inside the payload",
        resigned(hs, &format!("{p1} {p2}")),
        MALFORMED,
    );
    let odd = c.clone().s("sub", "?????>>>>>").render();
    let standard = STANDARD_NO_PAD.encode(&odd);
    assert!(standard.contains('+') && standard.contains('/'));
    t.add(
        "payload in standard base64 (+/)",
        resigned(hs, &standard),
        MALFORMED,
    );
    let mut bytes = c.clone().s("sub", "al~ice").render().into_bytes();
    let tilde = bytes.iter().position(|b| *b == b'~').unwrap();
    bytes[tilde] = 0xFF;
    let token = signed(h.render().as_bytes(), &bytes, &REFRESH_SECRET, HS256);
    t.add("sub with byte FF", token, MALFORMED);
    flips(t, "real refresh token", real);

    let open = "[".repeat(10_000);
    let deep = format!("{open}{}", "]".repeat(10_000));
    let nest = [
        ("header of 10,000 '['", b64(&open), ps.to_owned()),
        ("payload of 10,000 '['", hs.to_owned(), b64(&open)),
        (
            "sub nested 10,000 deep",
            hs.to_owned(),
            b64(c.clone().set("sub", deep).render()),
        ),
    ];
    for (name, header, payload) in nest {
        t.add(
            format!("{name} (Big)"),
            resigned(&header, &payload),
            MALFORMED,
        )
        .on(Svc::Big);
    }
}
