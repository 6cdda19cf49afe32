//! Hostile access-token encodings for `verify`: non-canonical base64,
//! segment counts, JSON serialization, size, deep nesting, invalid UTF-8,
//! stripped and foreign signatures, and one-character flips of a real token.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use jwt_rotate::Error;

use crate::common::{ACCESS_SECRET, REFRESH_SECRET};
use crate::forge::*;

const OK: Expect = Expect::Accept;
const MALFORMED: Expect = is!(Error::Malformed(_));
const BAD_SIG: Expect = is!(Error::InvalidSignature);

pub(crate) fn rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.access_header(), fx.access_claims());
    let token = fx.access(&h, &c);
    let [hs, ps, ss] = segments(&token);
    let resigned = |h: &str, p: &str| signed_segments(h, p, &ACCESS_SECRET, HS256);

    // An ignored claim whose aligned bytes encode to `+` and `/`.
    let odd = c.clone().s("x", "?????>>>>>").render();
    let standard = STANDARD_NO_PAD.encode(&odd);
    assert!(standard.contains('+') && standard.contains('/'));
    t.add("control: URL-safe payload", resigned(hs, &b64(&odd)), OK);
    t.add(
        "payload in standard base64 (+/)",
        resigned(hs, &standard),
        MALFORMED,
    );
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
    t.add("signature padded with =", format!("{token}="), MALFORMED);
    for bits in [1, 2, 3] {
        let sig = xor_last_char(ss, bits);
        t.add(
            format!("signature trailing bits {bits}"),
            format!("{hs}.{ps}.{sig}"),
            MALFORMED,
        );
    }
    let (h_odd, p_odd) = (b64(odd_length(&h.render())), b64(odd_length(&c.render())));
    t.add("control: odd-length segments", resigned(&h_odd, &p_odd), OK);
    t.add(
        "payload trailing bits",
        resigned(&h_odd, &xor_last_char(&p_odd, 1)),
        MALFORMED,
    );
    t.add(
        "header trailing bits",
        resigned(&xor_last_char(&h_odd, 1), &p_odd),
        MALFORMED,
    );
    let ((h1, h2), (p1, p2)) = (hs.split_at(10), ps.split_at(10));
    t.add(
        "space inside the header",
        resigned(&format!("{h1} {h2}"), ps),
        MALFORMED,
    );
    t.add(
        "newline inside the payload",
        resigned(hs, &format!("{p1}\n{p2}")),
        MALFORMED,
    );
    let (s1, s2) = ss.split_at(5);
    t.add(
        "tab inside the signature",
        format!("{hs}.{ps}.{s1}\t{s2}"),
        MALFORMED,
    );
    t.add("leading space", format!(" {token}"), MALFORMED);
    t.add("trailing newline", format!("{token}\n"), MALFORMED);
    t.add("trailing CRLF", format!("{token}\r\n"), MALFORMED);
    t.add("Bearer prefix", format!("Bearer {token}"), MALFORMED);
    t.add(
        "dots replaced by commas",
        token.replace('.', ","),
        MALFORMED,
    );

    t.add("one segment", hs, MALFORMED);
    t.add("two segments", format!("{hs}.{ps}"), MALFORMED);
    t.add("four segments", format!("{token}.{ss}"), MALFORMED);
    t.add("four segments, last empty", format!("{token}."), MALFORMED);
    t.add(
        "five segments (JWE shape)",
        format!("{hs}.{ps}.{ps}.{ps}.{ss}"),
        MALFORMED,
    );
    for empty in ["", ".", "..", "...", "...."] {
        t.add(format!("empty token {empty:?}"), empty, MALFORMED);
    }
    t.add("empty header segment", resigned("", ps), MALFORMED);
    t.add("empty payload segment", resigned(hs, ""), MALFORMED);
    let sig = format!(r#""protected":"{hs}","signature":"{ss}""#);
    t.add(
        "JSON serialization, flattened",
        format!(r#"{{"payload":"{ps}",{sig}}}"#),
        MALFORMED,
    );
    let general = format!(r#"{{"payload":"{ps}","signatures":[{{{sig}}}]}}"#);
    t.add("JSON serialization, general", general, MALFORMED);

    t.add("control: exactly 8192 bytes", fx.access_of_len(8192), OK);
    t.add("8 KiB + 1 byte", fx.access_of_len(8193), MALFORMED);
    t.add(
        "1 MiB",
        format!("{hs}.{}.{ss}", "A".repeat(1 << 20)),
        MALFORMED,
    );
    t.add(
        "8 MiB",
        format!("{hs}.{}.{ss}", "A".repeat(8 << 20)),
        MALFORMED,
    );

    t.add(
        "signature stripped (trailing dot)",
        format!("{hs}.{ps}."),
        BAD_SIG,
    );
    t.add(
        "signature truncated by one char",
        format!("{hs}.{ps}.{}", &ss[..42]),
        ANY,
    );
    t.add(
        "signature truncated to 30 bytes",
        format!("{hs}.{ps}.{}", &ss[..40]),
        BAD_SIG,
    );
    t.add("signature doubled", format!("{token}{ss}"), ANY);
    t.add(
        "signature of zero bytes",
        format!("{hs}.{ps}.{}", b64([0u8; 32])),
        BAD_SIG,
    );
    let forged = b64(c.clone().s("sub", "admin").render());
    t.add(
        "real signature on forged claims",
        format!("{hs}.{forged}.{ss}"),
        BAD_SIG,
    );
    let by = |secret: &[u8]| signed(h.render().as_bytes(), c.render().as_bytes(), secret, HS256);
    t.add("signed by the refresh key", by(&REFRESH_SECRET), BAD_SIG);
    t.add("signed by a guessed secret", by(b"secret"), BAD_SIG);
    let refresh_kid = h.clone().s("kid", &fx.refresh_kid).render();
    let token = signed(
        refresh_kid.as_bytes(),
        c.render().as_bytes(),
        &REFRESH_SECRET,
        HS256,
    );
    t.add("refresh kid, signed by the refresh key", token, BAD_SIG);
    flips(t, "real access token", fx.alice.access_token.as_str());

    let open = "[".repeat(10_000);
    let deep = format!("{open}{}", "]".repeat(10_000));
    let hj = h.render();
    let deep_header = format!("{},\"x\":{deep}}}", &hj[..hj.len() - 1]);
    let deep_claim = c.clone().set("x", deep).render();
    let shallow_claim = c
        .clone()
        .set("x", "[".repeat(2_500) + &"]".repeat(2_500))
        .render();
    let nest = [
        ("header of 10,000 '['", b64(&open), ps.to_owned(), Svc::Main),
        ("header of 10,000 '['", b64(&open), ps.to_owned(), Svc::Big),
        (
            "header member nested 10,000 deep",
            b64(deep_header),
            ps.to_owned(),
            Svc::Big,
        ),
        ("payload of 10,000 '['", hs.to_owned(), b64(&open), Svc::Big),
        (
            "claim nested 10,000 deep",
            hs.to_owned(),
            b64(deep_claim),
            Svc::Big,
        ),
        (
            "claim nested 2,500 deep",
            hs.to_owned(),
            b64(shallow_claim),
            Svc::Main,
        ),
    ];
    for (name, header, payload, svc) in nest {
        t.add(
            format!("{name} ({svc:?})"),
            resigned(&header, &payload),
            MALFORMED,
        )
        .on(svc);
    }

    let (hb, cb) = (h.render().into_bytes(), c.render().into_bytes());
    let utf8 = [
        (
            "header typ with byte FF",
            splice(&hb, "\"at+jwt", b"\xFF"),
            cb.clone(),
        ),
        (
            "header kid with overlong '/'",
            splice(&hb, "\"kid\":\"", b"\xC0\xAF"),
            cb.clone(),
        ),
        (
            "payload sub with bytes C3 28",
            hb.clone(),
            splice(&cb, "\"alice", b"\xC3\x28"),
        ),
        (
            "payload sub with a lone surrogate",
            hb.clone(),
            splice(&cb, "\"alice", b"\\ud800"),
        ),
        (
            "payload sub with a raw NUL",
            hb.clone(),
            splice(&cb, "\"alice", b"\0"),
        ),
    ];
    for (name, header, payload) in utf8 {
        t.add(
            name,
            signed(&header, &payload, &ACCESS_SECRET, HS256),
            MALFORMED,
        );
    }
    let (p1, p2) = ps.split_at(8);
    t.add(
        "non-ASCII in the payload segment",
        resigned(hs, &format!("{p1}é{p2}")),
        MALFORMED,
    );
    t.add(
        "NUL in the header segment",
        format!("{h1}\0{h2}.{ps}.{ss}"),
        MALFORMED,
    );
    t.add(
        "non-ASCII in the header segment",
        format!("{h1}ü{h2}.{ps}.{ss}"),
        MALFORMED,
    );
}

/// `json` with `bytes` inserted after the first `needle`.
fn splice(json: &[u8], needle: &str, bytes: &[u8]) -> Vec<u8> {
    let at = String::from_utf8_lossy(json).find(needle).unwrap() + needle.len();
    [&json[..at], bytes, &json[at..]].concat()
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
