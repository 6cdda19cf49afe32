//! The rest of the attack catalog on the refresh side, so that refresh
//! tokens face every row kind access tokens do: more `alg`, `crit`, `typ`,
//! `kid` and header parameter values, header and payload shapes, more
//! mistyped claims, non-canonical encodings, segment counts, 8 MiB, deep
//! nesting, invalid UTF-8, and algorithm confusion on an Ed25519 refresh
//! key. The leeway boundaries, which need sessions of their own, are in
//! `refresh_boundaries.rs`.

use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::{Error, Key};

use crate::common::{ACCESS_SECRET, AUDIENCE, REFRESH_SECRET};
use crate::forge::*;

const OK: Expect = Expect::Accept;
const MALFORMED: Expect = is!(Error::Malformed(_));
const BAD_SIG: Expect = is!(Error::InvalidSignature);
const TYP: Expect = claim!("typ");

pub(crate) fn header_rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.refresh_header(), fx.refresh_claims(&fx.alice));
    let tok = |header: Obj| fx.refresh(&header, &c);
    let raw_algs = [
        r#""""#,
        r#""hs256""#,
        r#""HS256 ""#,
        "null",
        "256",
        r#"["HS256"]"#,
    ];
    for raw in raw_algs {
        t.add(
            format!("alg {raw}"),
            tok(h.clone().set("alg", raw)),
            MALFORMED,
        );
    }
    let payload = b64(c.render());
    let attacker = [
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()),
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(ES256_PEM.as_bytes()),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(ED25519_PEM.as_bytes()),
        ),
    ];
    for (alg, key) in attacker {
        let input = format!(
            "{}.{payload}",
            b64(h.clone().s("alg", &format!("{alg:?}")).render())
        );
        let token = format!("{input}.{}", sign(&input, &key.unwrap(), alg));
        t.add(
            format!("alg {alg:?} signed by an attacker key"),
            token,
            BAD_SIG,
        );
    }
    for alg in ["RS256", "PS256", "ES256"] {
        let name = format!("alg {alg} over a valid HS256 signature");
        t.add(name, tok(h.clone().s("alg", alg)), BAD_SIG);
    }
    for raw in ["[]", r#"["urn:x-unknown"]"#] {
        t.add(
            format!("crit {raw}"),
            tok(h.clone().set("crit", raw)),
            MALFORMED,
        );
    }
    let b64_false = h.clone().set("crit", r#"["b64"]"#).set("b64", "false");
    t.add("crit b64 with b64:false", tok(b64_false), MALFORMED);

    t.add("typ number", tok(h.clone().set("typ", "7519")), MALFORMED);
    t.add("typ null", tok(h.clone().set("typ", "null")), MALFORMED);
    for typ in ["application/", "rt+jwt\0", "rt+jwt ", "application/JWT"] {
        t.add(format!("typ {typ:?}"), tok(h.clone().s("typ", typ)), TYP);
    }
    t.add("kid null", tok(h.clone().set("kid", "null")), MALFORMED);
    t.add("kid number", tok(h.clone().set("kid", "1")), MALFORMED);
    let kids = [
        ("upper-cased", fx.refresh_kid.to_uppercase()),
        ("with a trailing NUL", format!("{}\0", fx.refresh_kid)),
    ];
    for (name, kid) in kids {
        t.add(
            format!("kid {name}"),
            tok(h.clone().s("kid", &kid)),
            BAD_SIG,
        );
    }
    let params = [
        (
            "jwk",
            format!(r#"{{"kty":"oct","k":"{}"}}"#, b64("attacker")),
        ),
        ("x5t", quote("dGh1bWJwcmludA")),
        ("cty", quote("JWT")),
        ("zip", quote("DEF")),
        ("enc", quote("A256GCM")),
        ("b64", "false".to_owned()),
        ("x-unknown", "1".to_owned()),
    ];
    for (param, raw) in params {
        let name = format!("header param {param}: {raw}");
        t.add(name, tok(h.clone().set(param, raw)), MALFORMED);
    }
    let none_first = header("none", "rt+jwt", &fx.refresh_kid).dup("alg", quote("HS256"));
    let at_first = h.clone().s("typ", "at+jwt").dup("typ", quote("rt+jwt"));
    t.add("duplicate alg none then HS256", tok(none_first), MALFORMED);
    t.add("duplicate typ at+jwt then rt+jwt", tok(at_first), MALFORMED);

    let (hj, cj) = (h.render(), c.render());
    for (name, text) in shapes(&hj) {
        let token = signed(text.as_bytes(), cj.as_bytes(), &REFRESH_SECRET, HS256);
        t.add(format!("header {name}"), token, MALFORMED);
    }
    for (name, text) in shapes(&cj) {
        let token = signed(hj.as_bytes(), text.as_bytes(), &REFRESH_SECRET, HS256);
        t.add(format!("payload {name}"), token, MALFORMED);
    }
}

/// A JSON object's text replaced by other JSON, or spoiled around it.
fn shapes(json: &str) -> [(&'static str, String); 7] {
    [
        ("[]", "[]".to_owned()),
        ("null", "null".to_owned()),
        ("a string", quote(json)),
        ("{}", "{}".to_owned()),
        ("with a BOM", format!("\u{feff}{json}")),
        ("with trailing garbage", format!("{json}x")),
        ("twice", format!("{json}{json}")),
    ]
}

pub(crate) fn claim_rows(fx: &Fixture, t: &mut Table) {
    let c = fx.refresh_claims(&fx.alice);
    let tok = |claims: Obj| fx.refresh(&fx.refresh_header(), &claims);
    let aud = quote(AUDIENCE);
    let values = [
        ("sub", "null".to_owned()),
        ("sub", "42".to_owned()),
        ("sub", r#"{"id":"alice"}"#.to_owned()),
        ("sid", "null".to_owned()),
        ("sid", "0".to_owned()),
        ("jti", "null".to_owned()),
        ("aud", "null".to_owned()),
        ("aud", format!("[{aud},\"x\"]")),
        ("aud", "[]".to_owned()),
        ("iat", "null".to_owned()),
        ("iat", quote("1767225600")),
        ("iat", "18446744073709551616".to_owned()),
        ("exp", "null".to_owned()),
        ("exp", "1e300".to_owned()),
        ("exp", "true".to_owned()),
        ("exp", "[1767226500]".to_owned()),
        ("exp", "{}".to_owned()),
        ("exp", "18446744073709551616".to_owned()),
    ];
    for (claim, raw) in values {
        t.add(
            format!("{claim}: {raw}"),
            tok(c.clone().set(claim, &raw)),
            MALFORMED,
        );
    }
}

pub(crate) fn encoding_rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.refresh_header(), fx.refresh_claims(&fx.alice));
    let real = fx.alice.refresh_token.as_str();
    let [hs, ps, ss] = segments(real);
    let resigned = |h: &str, p: &str| signed_segments(h, p, &REFRESH_SECRET, HS256);
    t.add(
        "header padded with =",
        resigned(&format!("{hs}="), ps),
        MALFORMED,
    );
    t.add(
        "payload padded with =",
        resigned(hs, &format!("{ps}=")),
        MALFORMED,
    );
    let (h_odd, p_odd) = (b64(odd_length(&h.render())), b64(odd_length(&c.render())));
    let trailing = [
        ("payload", resigned(&h_odd, &xor_last_char(&p_odd, 1))),
        ("header", resigned(&xor_last_char(&h_odd, 1), &p_odd)),
    ];
    for (segment, token) in trailing {
        t.add(format!("{segment} trailing bits"), token, MALFORMED);
    }
    let (h1, h2) = hs.split_at(10);
    let (s1, s2) = ss.split_at(5);
    let spoiled = [
        (
            "space inside the header",
            resigned(&format!("{h1} {h2}"), ps),
        ),
        ("tab inside the signature", format!("{hs}.{ps}.{s1}\t{s2}")),
        ("leading space", format!(" {real}")),
        ("trailing newline", format!("{real}\n")),
        ("Bearer prefix", format!("Bearer {real}")),
        ("one segment", hs.to_owned()),
        (
            "five segments (JWE shape)",
            format!("{hs}.{ps}.{ps}.{ps}.{ss}"),
        ),
        ("empty token \"..\"", "..".to_owned()),
        ("empty header segment", resigned("", ps)),
        ("empty payload segment", resigned(hs, "")),
        ("8 MiB", format!("{hs}.{}.{ss}", "A".repeat(8 << 20))),
        ("NUL in the header segment", format!("{h1}\0{h2}.{ps}.{ss}")),
        (
            "non-ASCII in the header segment",
            format!("{h1}ü{h2}.{ps}.{ss}"),
        ),
    ];
    for (name, token) in spoiled {
        t.add(name, token, MALFORMED);
    }
    let sig = format!(r#""protected":"{hs}","signature":"{ss}""#);
    let general = format!(r#"{{"payload":"{ps}","signatures":[{{{sig}}}]}}"#);
    t.add("JSON serialization, general", general, MALFORMED);
    t.add(
        "signature truncated by one char",
        format!("{hs}.{ps}.{}", &ss[..42]),
        ANY,
    );
    t.add("signature doubled", format!("{real}{ss}"), ANY);
    t.add(
        "signature of zero bytes",
        format!("{hs}.{ps}.{}", b64([0u8; 32])),
        BAD_SIG,
    );

    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let hj = h.render();
    let deep_header = format!("{},\"x\":{deep}}}", &hj[..hj.len() - 1]);
    let deep_jti = c.clone().set("jti", &deep).render();
    let nest = [
        (
            "header member nested 10,000 deep",
            b64(deep_header),
            ps.to_owned(),
        ),
        ("jti nested 10,000 deep", hs.to_owned(), b64(deep_jti)),
    ];
    for (name, header, payload) in nest {
        t.add(
            format!("{name} (Big)"),
            resigned(&header, &payload),
            MALFORMED,
        )
        .on(Svc::Big);
    }
    let hb = h.render().into_bytes();
    let typ_ff = [&hb[..hb.len() - 2], b"\xFF", &hb[hb.len() - 2..]].concat();
    let token = signed(&typ_ff, c.render().as_bytes(), &REFRESH_SECRET, HS256);
    t.add("header kid with byte FF", token, MALFORMED);
}

/// Algorithm confusion on the service whose refresh key is Ed25519 (the
/// second test key) and whose access keys are RSA and the first Ed25519
/// key: public keys as HMAC secrets, other keys under its `kid`.
pub(crate) fn confusion_rows(fx: &Fixture, t: &mut Table) {
    let refresh = Key::ed25519_pem(ED25519_B_PEM).unwrap();
    let kid = refresh.kid().to_owned();
    let jwk = serde_json::to_string(&refresh.public_jwk().unwrap()).unwrap();
    let point = unb64(
        serde_json::from_str::<serde_json::Value>(&jwk).unwrap()["x"]
            .as_str()
            .unwrap(),
    );
    let c = fx.refresh_claims(&fx.asym_pair).render();
    let b = || EncodingKey::from_ed_pem(ED25519_B_PEM.as_bytes()).unwrap();
    let a = || EncodingKey::from_ed_pem(ED25519_PEM.as_bytes()).unwrap();
    let rsa = EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let hs = |secret: &[u8]| (Algorithm::HS256, EncodingKey::from_secret(secret));
    let cases = [
        (
            "control: EdDSA by the refresh key",
            "EdDSA",
            kid.as_str(),
            (Algorithm::EdDSA, b()),
            OK,
        ),
        (
            "HS256 keyed with its JWK",
            "HS256",
            kid.as_str(),
            hs(jwk.as_bytes()),
            BAD_SIG,
        ),
        (
            "HS256 keyed with its point",
            "HS256",
            kid.as_str(),
            hs(&point),
            BAD_SIG,
        ),
        (
            "HS256 keyed with the access secret",
            "HS256",
            kid.as_str(),
            hs(&ACCESS_SECRET),
            BAD_SIG,
        ),
        (
            "EdDSA by the access key, refresh kid",
            "EdDSA",
            kid.as_str(),
            (Algorithm::EdDSA, a()),
            BAD_SIG,
        ),
        (
            "EdDSA by the access key, its kid",
            "EdDSA",
            fx.ed_kid.as_str(),
            (Algorithm::EdDSA, a()),
            BAD_SIG,
        ),
        (
            "RS256 by the access key, refresh kid",
            "RS256",
            kid.as_str(),
            (Algorithm::RS256, rsa),
            BAD_SIG,
        ),
    ];
    for (name, alg, kid, (signer, key), expect) in cases {
        let input = format!("{}.{}", b64(header(alg, "rt+jwt", kid).render()), b64(&c));
        let token = format!("{input}.{}", sign(&input, &key, signer));
        let row = t
            .add(format!("asym refresh: {name}"), token, expect)
            .on(Svc::Asym);
        if matches!(expect, Expect::Accept) {
            row.refresh_only();
        }
    }
    let none = format!(
        "{}.{}.",
        b64(header("none", "rt+jwt", &kid).render()),
        b64(&c)
    );
    t.add("asym refresh: alg none", none, MALFORMED)
        .on(Svc::Asym);
    let access = fx.asym_pair.access_token.as_str();
    t.add("asym refresh: the real access token", access, TYP)
        .on(Svc::Asym);
}

/// `json` with spaces added so its length is not a multiple of 3: its
/// base64url then ends in a character with unused low bits.
fn odd_length(json: &str) -> String {
    let mut json = json.to_owned();
    while json.len().is_multiple_of(3) {
        json.insert(1, ' ');
    }
    json
}
