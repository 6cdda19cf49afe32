//! Hostile proofs with access tokens (`verify_dpop`): `ath` missing or
//! wrong, a proof by another key than `cnf.jkt`, bound tokens as Bearer,
//! unbound or broken bindings.

use jwt_rotate::DpopProblem::*;
use serde_json::json;

use crate::common::dpop::{URL, ath, bound_access_token};
use crate::table::{Fixture, Op, Row, Want, add};

pub(crate) fn rows(fx: &Fixture, rows: &mut Vec<Row>) {
    let now = fx.now();
    let es = &fx.es256;
    let bound = fx.bound.clone();
    let access = |rows: &mut Vec<Row>, name: &str, token: &str, proof: String, want| {
        add(rows, name, Op::Access(token.to_owned()), proof, want);
    };
    let with_ath = |value: Option<String>| {
        let mut claims = es.claims("GET", URL, now);
        if let Some(value) = value {
            claims["ath"] = json!(value);
        }
        es.sign(&es.header(), &claims)
    };

    access(
        rows,
        "control: bound token with its proof",
        &bound,
        with_ath(Some(ath(&bound))),
        Want::Accept,
    );
    access(
        rows,
        "ath missing",
        &bound,
        with_ath(None),
        Want::Problem(AccessTokenHash),
    );
    access(
        rows,
        "ath of another token",
        &bound,
        with_ath(Some(ath(fx.pair.access_token.as_str()))),
        Want::Problem(AccessTokenHash),
    );
    access(
        rows,
        "ath of the token, padded",
        &bound,
        with_ath(Some(format!("{}=", ath(&bound)))),
        Want::Problem(AccessTokenHash),
    );
    access(
        rows,
        "ath empty",
        &bound,
        with_ath(Some(String::new())),
        Want::Problem(AccessTokenHash),
    );
    access(
        rows,
        "ath the token itself",
        &bound,
        with_ath(Some(bound.clone())),
        Want::Problem(AccessTokenHash),
    );
    let by_other = {
        let mut claims = fx.ed25519.claims("GET", URL, now);
        claims["ath"] = json!(ath(&bound));
        fx.ed25519.sign(&fx.ed25519.header(), &claims)
    };
    access(
        rows,
        "proof by another key than cnf.jkt",
        &bound,
        by_other,
        Want::Problem(KeyMismatch),
    );
    let wrong_method = {
        let mut claims = es.claims("POST", URL, now);
        claims["ath"] = json!(ath(&bound));
        es.sign(&es.header(), &claims)
    };
    access(
        rows,
        "proof for POST on a GET",
        &bound,
        wrong_method,
        Want::Problem(Method),
    );
    add(
        rows,
        "bound token as Bearer",
        Op::Bearer(bound.clone()),
        String::new(),
        Want::DpopRequired,
    );

    let unbound = fx.pair.access_token.as_str();
    let proof_for = |token: &str| {
        let mut claims = es.claims("GET", URL, now);
        claims["ath"] = json!(ath(token));
        es.sign(&es.header(), &claims)
    };
    access(
        rows,
        "unbound token with a valid proof",
        unbound,
        proof_for(unbound),
        Want::Claim("cnf"),
    );
    for jkt in [
        "",
        "short",
        &format!("{}=", es.jkt.as_str()),
        &"A".repeat(44),
    ] {
        let broken = bound_access_token(&fx.pair, "alice", jkt, now);
        access(
            rows,
            &format!("cnf.jkt {jkt:?}"),
            &broken,
            proof_for(&broken),
            Want::Claim("cnf"),
        );
    }
    let tampered = bound.replacen('.', ".e", 1);
    access(
        rows,
        "bound token tampered",
        &tampered,
        proof_for(&tampered),
        Want::BadTokenSignature,
    );
}
