//! Hostile access-token headers for `verify`: `alg`, `crit`, `typ`, `kid`,
//! attacker key parameters, duplicate members, and algorithm confusion on
//! asymmetric keys. Signed with the real access secret unless the row says
//! otherwise, so the refusal comes from the header check itself.

use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::Error;

use crate::common::ACCESS_SECRET;
use crate::forge::*;

const OK: Expect = Expect::Accept;
const MALFORMED: Expect = is!(Error::Malformed(_));
const BAD_SIG: Expect = is!(Error::InvalidSignature);
const TYP: Expect = claim!("typ");

pub(crate) fn rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.access_header(), fx.access_claims());
    let tok = |header: Obj| fx.access(&header, &c);
    t.add("control: hand-made access token", tok(h.clone()), OK);
    t.add(
        "control: real access token",
        fx.alice.access_token.as_str(),
        OK,
    );

    let payload = b64(c.render());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let input = format!("{}.{payload}", b64(h.clone().s("alg", alg).render()));
        let sig = hmac(&input, &ACCESS_SECRET, HS256);
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
    for raw in [
        r#""""#,
        r#""hs256""#,
        r#""HS256 ""#,
        "null",
        "256",
        r#"["HS256"]"#,
    ] {
        t.add(
            format!("alg {raw}"),
            tok(h.clone().set("alg", raw)),
            MALFORMED,
        );
    }
    // The header's members as an array, which serde would read into the
    // same fields: properly signed, and still not a JOSE header.
    let array = format!(r#"["HS256",{},{}]"#, h.get("typ"), h.get("kid"));
    t.add(
        "header as a JSON array of its members",
        signed(
            array.as_bytes(),
            c.render().as_bytes(),
            &ACCESS_SECRET,
            HS256,
        ),
        MALFORMED,
    );
    // The algorithm is pinned to the kid's key: same secret, other HMAC.
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let header = h.clone().s("alg", &format!("{alg:?}")).render();
        let token = signed(
            header.as_bytes(),
            c.render().as_bytes(),
            &ACCESS_SECRET,
            alg,
        );
        t.add(
            format!("alg {alg:?} keyed with the HS256 secret"),
            token,
            BAD_SIG,
        );
    }
    // Properly signed by the attacker's own asymmetric keys, under our kid.
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
        let header = h.clone().s("alg", &format!("{alg:?}")).render();
        let input = format!("{}.{payload}", b64(header));
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

    for raw in [r#"["exp"]"#, "[]", r#"["urn:x-unknown"]"#] {
        t.add(
            format!("crit {raw}"),
            tok(h.clone().set("crit", raw)),
            MALFORMED,
        );
    }
    let b64_false = h.clone().set("crit", r#"["b64"]"#).set("b64", "false");
    t.add("crit b64 with b64:false", tok(b64_false), MALFORMED);

    t.add("typ missing", tok(h.clone().without("typ")), MALFORMED);
    t.add("typ number", tok(h.clone().set("typ", "9068")), MALFORMED);
    let typs = [
        "JWT",
        "rt+jwt",
        "application/rt+jwt",
        "",
        "application/",
        "at+jwt\0",
        "at+jwt ",
    ];
    for typ in typs {
        t.add(format!("typ {typ:?}"), tok(h.clone().s("typ", typ)), TYP);
    }
    let app = h.clone().s("typ", "application/at+jwt");
    t.add("control: typ application/at+jwt", tok(app), OK);
    t.add("control: typ AT+JWT", tok(h.clone().s("typ", "AT+JWT")), OK);
    t.add(
        "real refresh token as access token",
        fx.alice.refresh_token.as_str(),
        TYP,
    );

    t.add("kid missing", tok(h.clone().without("kid")), MALFORMED);
    t.add("kid null", tok(h.clone().set("kid", "null")), MALFORMED);
    t.add("kid number", tok(h.clone().set("kid", "1")), MALFORMED);
    let kids = [
        ("unknown", "attacker-key".to_owned()),
        ("empty", String::new()),
        ("path traversal", "../../etc/passwd".to_owned()),
        ("SQL injection", "' OR 1=1 --".to_owned()),
        ("of the refresh key", fx.refresh_kid.clone()),
        ("upper-cased", fx.access_kid.to_uppercase()),
        ("with a trailing NUL", format!("{}\0", fx.access_kid)),
    ];
    for (name, kid) in kids {
        t.add(
            format!("kid {name}"),
            tok(h.clone().s("kid", &kid)),
            BAD_SIG,
        );
    }

    let params = [
        ("jwk", fx.ed_jwk.clone()),
        (
            "jwk",
            format!(r#"{{"kty":"oct","k":"{}"}}"#, b64("attacker")),
        ),
        ("jku", quote("https://attacker.example/jwks.json")),
        ("x5u", quote("https://attacker.example/cert.pem")),
        ("x5c", r#"["MIIBszCCAVmgAwIBAgIU"]"#.to_owned()),
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

    let kid = quote(&fx.access_kid);
    let none_first = header("none", "at+jwt", &fx.access_kid).dup("alg", quote("HS256"));
    let dups = [
        ("alg HS256 then none", h.clone().dup("alg", quote("none"))),
        ("alg none then HS256", none_first),
        (
            "kid unknown then real",
            h.clone().s("kid", "x").dup("kid", kid),
        ),
        (
            "typ rt+jwt then at+jwt",
            h.clone().s("typ", "rt+jwt").dup("typ", quote("at+jwt")),
        ),
    ];
    for (name, header) in dups {
        t.add(format!("duplicate header {name}"), tok(header), MALFORMED);
    }

    let hj = h.render();
    let shapes = [
        ("[]", "[]".to_owned()),
        ("null", "null".to_owned()),
        ("a string", quote(&hj)),
        ("{}", "{}".to_owned()),
        ("with a BOM", format!("\u{feff}{hj}")),
        ("with trailing garbage", format!("{hj}x")),
        ("twice", format!("{hj}{hj}")),
    ];
    for (name, text) in shapes {
        let token = signed(
            text.as_bytes(),
            c.render().as_bytes(),
            &ACCESS_SECRET,
            HS256,
        );
        t.add(format!("header {name}"), token, MALFORMED);
    }
}

/// Algorithm confusion on the service with an RS256 signing key and an
/// accepted Ed25519 key: public keys as HMAC secrets, one key's signature
/// under the other's `kid`.
pub(crate) fn confusion_rows(fx: &Fixture, t: &mut Table) {
    let c = fx.access_claims().render();
    let rsa_jwk: serde_json::Value = serde_json::from_str(&fx.rsa_jwk).unwrap();
    let ed_jwk: serde_json::Value = serde_json::from_str(&fx.ed_jwk).unwrap();
    let n = unb64(rsa_jwk["n"].as_str().unwrap());
    let x = unb64(ed_jwk["x"].as_str().unwrap());
    let jwks = serde_json::to_string(fx.asym.jwks()).unwrap();
    let rsa = || EncodingKey::from_rsa_pem(RSA_PEM.as_bytes()).unwrap();
    let ed = || EncodingKey::from_ed_pem(ED25519_PEM.as_bytes()).unwrap();
    let other_ed = EncodingKey::from_ed_pem(ED25519_B_PEM.as_bytes()).unwrap();
    let es = EncodingKey::from_ec_pem(ES256_PEM.as_bytes()).unwrap();
    let hs = |secret: &[u8]| (Algorithm::HS256, EncodingKey::from_secret(secret));
    let (rsa_kid, ed_kid) = (fx.rsa_kid.as_str(), fx.ed_kid.as_str());
    let cases = [
        (
            "control: EdDSA by the accepted key",
            "EdDSA",
            ed_kid,
            (Algorithm::EdDSA, ed()),
            OK,
        ),
        (
            "HS256 keyed with the RSA JWK",
            "HS256",
            rsa_kid,
            hs(fx.rsa_jwk.as_bytes()),
            BAD_SIG,
        ),
        (
            "HS256 keyed with the RSA modulus",
            "HS256",
            rsa_kid,
            hs(&n),
            BAD_SIG,
        ),
        (
            "HS256 keyed with the JWKS text",
            "HS256",
            rsa_kid,
            hs(jwks.as_bytes()),
            BAD_SIG,
        ),
        (
            "HS256 keyed with the Ed25519 JWK",
            "HS256",
            ed_kid,
            hs(fx.ed_jwk.as_bytes()),
            BAD_SIG,
        ),
        (
            "HS256 keyed with the Ed25519 point",
            "HS256",
            ed_kid,
            hs(&x),
            BAD_SIG,
        ),
        (
            "EdDSA signature, RSA kid",
            "EdDSA",
            rsa_kid,
            (Algorithm::EdDSA, ed()),
            BAD_SIG,
        ),
        (
            "RS256 signature, Ed25519 kid",
            "RS256",
            ed_kid,
            (Algorithm::RS256, rsa()),
            BAD_SIG,
        ),
        (
            "PS256 by the very RSA key",
            "PS256",
            rsa_kid,
            (Algorithm::PS256, rsa()),
            BAD_SIG,
        ),
        (
            "EdDSA by another Ed25519 key",
            "EdDSA",
            ed_kid,
            (Algorithm::EdDSA, other_ed),
            BAD_SIG,
        ),
        (
            "ES256 attacker key, RSA kid",
            "ES256",
            rsa_kid,
            (Algorithm::ES256, es),
            BAD_SIG,
        ),
        (
            "HS256, the HS service's kid",
            "HS256",
            &fx.access_kid,
            hs(&ACCESS_SECRET),
            BAD_SIG,
        ),
    ];
    for (name, alg, kid, (signer, key), expect) in cases {
        let input = format!("{}.{}", b64(header(alg, "at+jwt", kid).render()), b64(&c));
        let token = format!("{input}.{}", sign(&input, &key, signer));
        t.add(format!("asym: {name}"), token, expect).on(Svc::Asym);
    }
    let none = format!(
        "{}.{}.",
        b64(header("none", "at+jwt", rsa_kid).render()),
        b64(&c)
    );
    t.add("asym: alg none, RSA kid", none, MALFORMED)
        .on(Svc::Asym);
    let real = fx.asym_pair.access_token.as_str();
    t.add("asym: control: real RS256 token", real, OK)
        .on(Svc::Asym);
}
