//! Hostile proof headers and signatures: `alg`, `typ`, `crit`, the `jwk`
//! key (private parts, wrong type, curve, size, encoding), and signatures
//! that are not the key's.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_rotate::DpopProblem::*;
use serde_json::{Value, json};

use crate::common::dpop::{Client, ES384_PEM, TOKEN_URL, b64};
use crate::table::{Fixture, Op, Row, Want, add};

const ACCEPT: Want = Want::Accept;

fn with(mut value: Value, member: &str, set: Value) -> Value {
    value[member] = set;
    value
}

fn without(mut value: Value, member: &str) -> Value {
    value.as_object_mut().unwrap().remove(member);
    value
}

pub(crate) fn rows(fx: &Fixture, rows: &mut Vec<Row>) {
    let now = fx.now();
    let es = &fx.es256;
    let claims = || es.claims("POST", TOKEN_URL, now);
    let header = es.header();
    let token = |rows: &mut Vec<Row>, name: &str, proof: String, want| {
        add(rows, name, Op::Token, proof, want);
    };

    for client in [&fx.es256, &fx.ed25519, &fx.rs256, &fx.ps256] {
        let name = format!("control: valid {:?} proof", client.alg);
        token(rows, &name, client.proof("POST", TOKEN_URL, now), ACCEPT);
    }
    let first = es.proof("POST", TOKEN_URL, now);
    token(
        rows,
        "control: ES256 proof, first use",
        first.clone(),
        ACCEPT,
    );
    token(
        rows,
        "the same proof replayed",
        first.clone(),
        Want::Problem(Replayed),
    );
    let ed_only = fx.ed25519.proof("POST", TOKEN_URL, now);
    add(
        rows,
        "EdDSA proof where only ES256 is accepted",
        Op::TokenEs256Only,
        ed_only,
        Want::Problem(Algorithm),
    );
    add(
        rows,
        "control: ES256 where only ES256 is accepted",
        Op::TokenEs256Only,
        es.proof("POST", TOKEN_URL, now),
        ACCEPT,
    );

    // alg
    for alg in ["none", "None", "NONE"] {
        let h = with(header.clone(), "alg", json!(alg));
        let input = format!("{}.{}", b64(h.to_string()), b64(claims().to_string()));
        token(
            rows,
            &format!("alg {alg}, no signature"),
            format!("{input}."),
            Want::Problem(Algorithm),
        );
    }
    for alg in [Algorithm::HS256, Algorithm::HS512] {
        // HMAC keyed with the public key's own text: the classic confusion.
        let secret = serde_json::to_vec(&es.jwk).unwrap();
        let h = with(header.clone(), "alg", json!(alg));
        let input = format!("{}.{}", b64(h.to_string()), b64(claims().to_string()));
        let key = EncodingKey::from_secret(&secret);
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).unwrap();
        token(
            rows,
            &format!("alg {alg:?} keyed with the public JWK"),
            format!("{input}.{sig}"),
            Want::Problem(Algorithm),
        );
    }
    let oct = json!({"kty": "oct", "k": b64([7u8; 32])});
    let hs = with(
        with(header.clone(), "alg", json!("HS256")),
        "jwk",
        oct.clone(),
    );
    token(
        rows,
        "alg HS256 with a symmetric jwk",
        es.sign(&hs, &claims()),
        Want::Problem(Algorithm),
    );
    token(
        rows,
        "alg ES256 with a symmetric jwk",
        es.sign(&with(header.clone(), "jwk", oct), &claims()),
        Want::Problem(Key),
    );
    token(
        rows,
        "alg missing",
        es.sign(&without(header.clone(), "alg"), &claims()),
        Want::Problem(Algorithm),
    );
    token(
        rows,
        "alg es256 (lower case)",
        es.sign(&with(header.clone(), "alg", json!("es256")), &claims()),
        Want::Problem(Algorithm),
    );
    token(
        rows,
        "alg a number",
        es.sign(&with(header.clone(), "alg", json!(256)), &claims()),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "alg RS256 over an EC key",
        es.sign(&with(header.clone(), "alg", json!("RS256")), &claims()),
        Want::Problem(Algorithm),
    );
    token(
        rows,
        "alg EdDSA over an EC key",
        es.sign(&with(header.clone(), "alg", json!("EdDSA")), &claims()),
        Want::Problem(Algorithm),
    );
    let ed_as_es = with(fx.ed25519.header(), "alg", json!("ES256"));
    token(
        rows,
        "alg ES256 over an Ed25519 key",
        fx.ed25519.sign(&ed_as_es, &claims()),
        Want::Problem(Algorithm),
    );
    let es384 = Client::new(Algorithm::ES384, ES384_PEM);
    let p384 = with(es384.header(), "alg", json!("ES256"));
    token(
        rows,
        "alg ES256 over a P-384 key",
        es384.sign(&es384.header(), &claims()).replacen(
            &b64(es384.header().to_string()),
            &b64(p384.to_string()),
            1,
        ),
        Want::Problem(Key),
    );
    token(
        rows,
        "alg ES384 (not accepted)",
        es384.proof("POST", TOKEN_URL, now),
        Want::Problem(Algorithm),
    );

    // typ
    token(
        rows,
        "typ missing",
        es.sign(&without(header.clone(), "typ"), &claims()),
        Want::Problem(Type),
    );
    for typ in [
        "JWT",
        "at+jwt",
        "rt+jwt",
        "dpop+jwt ",
        "dpop",
        "application/jwt",
    ] {
        let h = with(header.clone(), "typ", json!(typ));
        token(
            rows,
            &format!("typ {typ:?}"),
            es.sign(&h, &claims()),
            Want::Problem(Type),
        );
    }
    token(
        rows,
        "typ a number",
        es.sign(&with(header.clone(), "typ", json!(1)), &claims()),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "control: typ application/DPOP+JWT",
        es.sign(
            &with(header.clone(), "typ", json!("application/DPOP+JWT")),
            &claims(),
        ),
        ACCEPT,
    );
    token(
        rows,
        "crit present",
        es.sign(&with(header.clone(), "crit", json!(["exp"])), &claims()),
        Want::Problem(Malformed),
    );
    let dup = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","alg":"ES256","jwk":{}}}"#,
        es.jwk
    );
    token(
        rows,
        "alg given twice",
        es.sign_raw(&dup, &claims().to_string()),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "header not JSON",
        es.sign_raw("{typ: dpop+jwt}", &claims().to_string()),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "header an array",
        es.sign_raw("[]", &claims().to_string()),
        Want::Problem(Malformed),
    );
    let array = format!(r#"["dpop+jwt","ES256",{}]"#, es.jwk);
    token(
        rows,
        "header as an array in field order",
        es.sign_raw(&array, &claims().to_string()),
        Want::Problem(Malformed),
    );
    let jwk_array = with(
        header.clone(),
        "jwk",
        json!([es.jwk["kty"], es.jwk["crv"], es.jwk["x"], es.jwk["y"]]),
    );
    token(
        rows,
        "jwk as an array in field order",
        es.sign(&jwk_array, &claims()),
        Want::Problem(Malformed),
    );

    // jwk
    let jwk = |set: &dyn Fn(&mut Value)| {
        let mut key = es.jwk.clone();
        set(&mut key);
        es.sign(&with(header.clone(), "jwk", key), &claims())
    };
    token(
        rows,
        "jwk missing",
        es.sign(&without(header.clone(), "jwk"), &claims()),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk with the EC private key d",
        jwk(&|k| k["d"] = json!(b64([1u8; 32]))),
        Want::Problem(Key),
    );
    let ed_private = with(
        fx.ed25519.header(),
        "jwk",
        with(fx.ed25519.jwk.clone(), "d", json!(b64([1u8; 32]))),
    );
    token(
        rows,
        "jwk with the Ed25519 private key d",
        fx.ed25519.sign(&ed_private, &claims()),
        Want::Problem(Key),
    );
    for member in ["p", "q", "dp", "dq", "qi"] {
        let rsa = with(
            fx.rs256.header(),
            "jwk",
            with(fx.rs256.jwk.clone(), member, json!("AQAB")),
        );
        token(
            rows,
            &format!("jwk with the RSA private member {member}"),
            fx.rs256.sign(&rsa, &claims()),
            Want::Problem(Key),
        );
    }
    token(
        rows,
        "jwk kty missing",
        jwk(&|k| drop(k.as_object_mut().unwrap().remove("kty"))),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "jwk kty OKP over EC members",
        jwk(&|k| k["kty"] = json!("OKP")),
        Want::Problem(Algorithm),
    );
    token(
        rows,
        "jwk crv P-384",
        jwk(&|k| k["crv"] = json!("P-384")),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk y missing",
        jwk(&|k| drop(k.as_object_mut().unwrap().remove("y"))),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk x of 31 bytes",
        jwk(&|k| k["x"] = json!(b64([5u8; 31]))),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk x padded",
        jwk(&|k| k["x"] = json!(format!("{}=", k["x"].as_str().unwrap()))),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk x in standard base64",
        jwk(&|k| {
            let bytes = URL_SAFE_NO_PAD.decode(k["x"].as_str().unwrap()).unwrap();
            k["x"] = json!(STANDARD.encode(bytes));
        }),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk point not on the curve",
        jwk(&|k| k["y"] = json!(b64([3u8; 32]))),
        Want::Problem(Key),
    );
    token(
        rows,
        "jwk a string",
        es.sign(&with(header.clone(), "jwk", json!("key")), &claims()),
        Want::Problem(Malformed),
    );
    let x25519 = with(
        fx.ed25519.header(),
        "jwk",
        with(fx.ed25519.jwk.clone(), "crv", json!("X25519")),
    );
    token(
        rows,
        "jwk crv X25519",
        fx.ed25519.sign(&x25519, &claims()),
        Want::Problem(Key),
    );
    // aws-lc will not even load a 1024-bit key: its public half by hand.
    let mut weak = fx.rs256.jwk.clone();
    let n = URL_SAFE_NO_PAD.decode(weak["n"].as_str().unwrap()).unwrap();
    weak["n"] = json!(b64(&n[..128]));
    token(
        rows,
        "jwk RSA 1024 bits",
        fx.rs256
            .sign(&with(fx.rs256.header(), "jwk", weak), &claims()),
        Want::Problem(Key),
    );
    let mut zero_n = fx.rs256.jwk.clone();
    let n = URL_SAFE_NO_PAD
        .decode(zero_n["n"].as_str().unwrap())
        .unwrap();
    zero_n["n"] = json!(b64([&[0u8][..], &n].concat()));
    token(
        rows,
        "jwk RSA n with a leading zero",
        fx.rs256
            .sign(&with(fx.rs256.header(), "jwk", zero_n), &claims()),
        Want::Problem(Key),
    );

    // Signatures
    let other_key = fx.ed25519_b.sign(&fx.ed25519.header(), &claims());
    token(
        rows,
        "signed by another key than the jwk",
        other_key,
        Want::Problem(Signature),
    );
    let real = es.proof("POST", TOKEN_URL, now);
    let (signed, _) = real.rsplit_once('.').unwrap();
    token(
        rows,
        "signature stripped",
        format!("{signed}."),
        Want::Problem(Signature),
    );
    let mut flipped: Vec<char> = real.chars().collect();
    let at = signed.len() + 5;
    flipped[at] = if flipped[at] == 'A' { 'B' } else { 'A' };
    token(
        rows,
        "signature altered",
        flipped.into_iter().collect(),
        Want::Problem(Signature),
    );
    let swapped_jwk = real.replacen(
        &b64(es.header().to_string()),
        &b64(with(header.clone(), "jwk", fx.ed25519.jwk.clone()).to_string()),
        1,
    );
    token(
        rows,
        "jwk swapped after signing",
        swapped_jwk,
        Want::Problem(Algorithm),
    );
    let rs = fx.rs256.proof("POST", TOKEN_URL, now);
    let rs_as_ps = rs.replacen(
        &b64(fx.rs256.header().to_string()),
        &b64(fx.ps256.header().to_string()),
        1,
    );
    token(
        rows,
        "RS256 signature relabelled PS256",
        rs_as_ps,
        Want::Problem(Signature),
    );
    let sig = real.rsplit_once('.').unwrap().1;
    let der_like = format!(
        "{signed}.{}",
        b64([&[0x30u8, 0x44][..], &URL_SAFE_NO_PAD.decode(sig).unwrap()].concat())
    );
    token(
        rows,
        "ES256 signature with a DER prefix",
        der_like,
        Want::Problem(Signature),
    );
}
