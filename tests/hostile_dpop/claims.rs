//! Hostile proof claims and encodings: missing and mistyped claims, wrong
//! method and URL, `iat` outside its window, nonces, size and shape.

use jwt_rotate::DpopProblem::*;
use serde_json::{Value, json};
use time::Duration;

use crate::common::dpop::{TOKEN_URL, b64};
use crate::table::{Fixture, Op, Row, Want, add};

pub(crate) fn rows(fx: &Fixture, rows: &mut Vec<Row>) {
    let now = fx.now();
    let ed = &fx.ed25519;
    let header = ed.header();
    let claims = || ed.claims("POST", TOKEN_URL, now);
    let set = |member: &str, value: Value| {
        let mut c = claims();
        c[member] = value;
        ed.sign(&header, &c)
    };
    let unset = |member: &str| {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(member);
        ed.sign(&header, &c)
    };
    let token = |rows: &mut Vec<Row>, name: &str, proof: String, want| {
        add(rows, name, Op::Token, proof, want);
    };

    for member in ["jti", "htm", "htu", "iat"] {
        token(
            rows,
            &format!("{member} missing"),
            unset(member),
            Want::Problem(Claim),
        );
    }
    for member in ["jti", "htm", "htu"] {
        token(
            rows,
            &format!("{member} empty"),
            set(member, json!("")),
            Want::Problem(Claim),
        );
        token(
            rows,
            &format!("{member} a number"),
            set(member, json!(1)),
            Want::Problem(Malformed),
        );
    }
    token(
        rows,
        "iat a string",
        set("iat", json!(now.unix_timestamp().to_string())),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "iat a fraction",
        set("iat", json!(now.unix_timestamp() as f64 + 0.5)),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "iat null",
        set("iat", Value::Null),
        Want::Problem(Claim),
    );
    let dup = format!(
        r#"{{"jti":"a","jti":"b","htm":"POST","htu":"{TOKEN_URL}","iat":{}}}"#,
        now.unix_timestamp()
    );
    token(
        rows,
        "jti given twice",
        ed.sign_raw(&header.to_string(), &dup),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "claims an array",
        ed.sign_raw(&header.to_string(), "[1]"),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "claims not UTF-8",
        {
            let input = format!("{}.{}", b64(header.to_string()), b64(b"{\"jti\":\"\xff\"}"));
            let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &ed.key, ed.alg).unwrap();
            format!("{input}.{sig}")
        },
        Want::Problem(Malformed),
    );
    let mut deep = claims();
    deep["x"] = json!(0);
    let deep = deep.to_string().replace(
        "\"x\":0",
        &format!("\"x\":{}{}", "[".repeat(2500), "]".repeat(2500)),
    );
    token(
        rows,
        "control: an unknown claim nested 2500 deep",
        ed.sign_raw(&header.to_string(), &deep),
        Want::Accept,
    );
    let mut deep_htu = claims();
    deep_htu["htu"] = json!(0);
    let deep_htu = deep_htu.to_string().replace(
        "\"htu\":0",
        &format!("\"htu\":{}{}", "[".repeat(200), "]".repeat(200)),
    );
    token(
        rows,
        "htu nested 200 deep",
        ed.sign_raw(&header.to_string(), &deep_htu),
        Want::Problem(Malformed),
    );
    let as_array = format!(r#"["j","POST","{TOKEN_URL}",{}]"#, now.unix_timestamp());
    token(
        rows,
        "claims as an array in field order",
        ed.sign_raw(&header.to_string(), &as_array),
        Want::Problem(Malformed),
    );
    // htm
    for htm in ["post", "GET", "POST ", "PUT"] {
        token(
            rows,
            &format!("htm {htm:?}"),
            set("htm", json!(htm)),
            Want::Problem(Method),
        );
    }
    // htu
    for htu in [
        "https://auth.example.org/oauth/token",
        "http://auth.example.com/oauth/token",
        "https://auth.example.com:8443/oauth/token",
        "https://auth.example.com/oauth/token/",
        "https://auth.example.com/oauth/revoke",
        "https://auth.example.com/OAUTH/token",
        "/oauth/token",
        "https://attacker@auth.example.com/oauth/token",
        "https://auth.example.com/oauth/token\u{0}",
        "auth.example.com/oauth/token",
    ] {
        token(
            rows,
            &format!("htu {htu:?}"),
            set("htu", json!(htu)),
            Want::Problem(Url),
        );
    }
    token(
        rows,
        "control: htu with query and fragment",
        set("htu", json!(format!("{TOKEN_URL}?x=1#y"))),
        Want::Accept,
    );
    // iat
    let at = |offset: i64| json!((now + Duration::seconds(offset)).unix_timestamp());
    token(
        rows,
        "iat 61 s old",
        set("iat", at(-61)),
        Want::Problem(Stale),
    );
    token(
        rows,
        "iat a day old",
        set("iat", at(-86_400)),
        Want::Problem(Stale),
    );
    token(rows, "iat 0", set("iat", json!(0)), Want::Problem(Stale));
    token(
        rows,
        "iat i64::MIN",
        set("iat", json!(i64::MIN)),
        Want::Problem(Stale),
    );
    token(
        rows,
        "iat 6 s ahead",
        set("iat", at(6)),
        Want::Problem(Future),
    );
    token(
        rows,
        "iat a year ahead",
        set("iat", at(31_536_000)),
        Want::Problem(Future),
    );
    token(
        rows,
        "iat i64::MAX",
        set("iat", json!(i64::MAX)),
        Want::Problem(Future),
    );
    token(
        rows,
        "iat past i64",
        ed.sign_raw(
            &header.to_string(),
            &format!(
                r#"{{"jti":"j","htm":"POST","htu":"{TOKEN_URL}","iat":99999999999999999999}}"#
            ),
        ),
        Want::Problem(Malformed),
    );

    // Encodings
    let real = ed.proof("POST", TOKEN_URL, now);
    let pad = "x".repeat(9000);
    token(
        rows,
        "larger than max_proof_bytes",
        set("pad", json!(pad)),
        Want::Problem(TooLarge),
    );
    token(rows, "empty", String::new(), Want::Problem(Malformed));
    let parts: Vec<&str> = real.split('.').collect();
    token(
        rows,
        "two segments",
        format!("{}.{}", parts[0], parts[1]),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "four segments",
        format!("{real}.{}", parts[2]),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "header padded",
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        Want::Problem(Malformed),
    );
    let resigned = |header_segment: &str, payload_segment: &str| {
        let input = format!("{header_segment}.{payload_segment}");
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &ed.key, ed.alg).unwrap();
        format!("{input}.{sig}")
    };
    token(
        rows,
        "payload with + and /, signed",
        resigned(parts[0], &(parts[1].to_owned() + "+/")),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "payload padded, signed",
        resigned(parts[0], &(parts[1].to_owned() + "=")),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "header padded, signed",
        resigned(&(parts[0].to_owned() + "="), parts[1]),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "whitespace around",
        format!(" {real} "),
        Want::Problem(Malformed),
    );
    token(
        rows,
        "a JWE-like five segments",
        format!("{real}.a.b"),
        Want::Problem(Malformed),
    );

    // Nonces
    let with_nonce = |nonce: Option<&str>| {
        let mut c = claims();
        if let Some(nonce) = nonce {
            c["nonce"] = json!(nonce);
        }
        ed.sign(&header, &c)
    };
    let nonces =
        jwt_rotate::DpopNonces::with_secret(fx.nonces_secret, Duration::minutes(5)).unwrap();
    let good = nonces.issue(now).unwrap();
    let stale = nonces.issue(now - Duration::minutes(11)).unwrap();
    let other = jwt_rotate::DpopNonces::with_secret([1u8; 32], Duration::minutes(5)).unwrap();
    let foreign = other.issue(now).unwrap();
    let nonce = |rows: &mut Vec<Row>, name: &str, proof: String, want| {
        add(rows, name, Op::TokenWithNonce, proof, want);
    };
    nonce(rows, "nonce missing", with_nonce(None), Want::UseNonce);
    nonce(rows, "nonce empty", with_nonce(Some("")), Want::UseNonce);
    nonce(
        rows,
        "nonce from another server",
        with_nonce(Some(&foreign)),
        Want::UseNonce,
    );
    nonce(
        rows,
        "nonce 11 minutes old",
        with_nonce(Some(&stale)),
        Want::UseNonce,
    );
    nonce(
        rows,
        "nonce garbage",
        with_nonce(Some("%%%")),
        Want::UseNonce,
    );
    nonce(
        rows,
        "control: nonce current",
        with_nonce(Some(&good)),
        Want::Accept,
    );
}
