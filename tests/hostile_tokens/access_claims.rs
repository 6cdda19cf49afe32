//! Hostile access-token claims for `verify`, all correctly signed with the
//! access key: missing, null and mistyped claims, wrong values, times and
//! the leeway boundaries (with positive controls on the passing side),
//! duplicate members, payloads that are not one object.

use jwt_rotate::Error;

use crate::common::{ACCESS_SECRET, AUDIENCE};
use crate::forge::*;

const OK: Expect = Expect::Accept;
const MALFORMED: Expect = is!(Error::Malformed(_));
const EXPIRED: Expect = is!(Error::Expired);
const NOT_YET: Expect = is!(Error::NotYetValid);
const LIFETIME: Expect = claim!("exp");

pub(crate) fn rows(fx: &Fixture, t: &mut Table) {
    let (h, c) = (fx.access_header(), fx.access_claims());
    let tok = |claims: Obj| fx.access(&h, &claims);
    let required = [
        ("iss", claim!("iss")),
        ("sub", claim!("sub")),
        ("aud", claim!("aud")),
        ("exp", claim!("exp")),
        ("iat", claim!("iat")),
        ("jti", claim!("jti")),
        ("sid", claim!("sid")),
    ];
    for (name, expect) in required {
        t.add(
            format!("{name} missing"),
            tok(c.clone().without(name)),
            expect,
        );
        t.add(
            format!("{name} null"),
            tok(c.clone().set(name, "null")),
            expect,
        );
    }

    let now = i128::from(fx.now);
    let exp = now + 900;
    let aud = quote(AUDIENCE);
    let typed = [
        ("exp", quote(&exp.to_string()), MALFORMED),
        ("exp", format!("{exp}.0"), MALFORMED),
        ("exp", format!("{exp}.5"), MALFORMED),
        ("exp", "1.7672265e9".to_owned(), MALFORMED),
        ("exp", "1e300".to_owned(), MALFORMED),
        ("exp", u64::MAX.to_string(), MALFORMED),
        ("exp", (i128::from(u64::MAX) + 1).to_string(), MALFORMED),
        ("exp", i64::MAX.to_string(), LIFETIME),
        ("exp", i64::MIN.to_string(), EXPIRED),
        ("exp", "-1".to_owned(), EXPIRED),
        ("exp", "true".to_owned(), MALFORMED),
        ("exp", format!("[{exp}]"), MALFORMED),
        ("exp", "{}".to_owned(), MALFORMED),
        ("exp", format!("0{exp}"), MALFORMED),
        ("iat", format!("{now}.0"), MALFORMED),
        ("iat", "-1".to_owned(), LIFETIME),
        ("iat", i64::MIN.to_string(), LIFETIME),
        ("iat", i64::MAX.to_string(), NOT_YET),
        ("iat", "1e300".to_owned(), MALFORMED),
        ("nbf", quote(&now.to_string()), MALFORMED),
        ("nbf", format!("{now}.5"), MALFORMED),
        ("aud", format!("[{aud}]"), MALFORMED),
        ("aud", format!("[{aud},\"x\"]"), MALFORMED),
        ("aud", "[]".to_owned(), MALFORMED),
        ("aud", "1".to_owned(), MALFORMED),
        ("sub", r#"{"id":"alice"}"#.to_owned(), MALFORMED),
        ("sub", r#"["alice"]"#.to_owned(), MALFORMED),
        ("sub", "42".to_owned(), MALFORMED),
        ("sub", quote(""), claim!("sub")),
        ("jti", quote(""), claim!("jti")),
        ("jti", "7".to_owned(), MALFORMED),
        ("sid", "0".to_owned(), MALFORMED),
        ("sid", quote("not-a-session"), claim!("sid")),
        ("iss", quote("https://evil.example.com"), claim!("iss")),
        ("iss", quote("https://auth.example.com/"), claim!("iss")),
        ("iss", quote("HTTPS://AUTH.EXAMPLE.COM"), claim!("iss")),
        ("aud", quote("other.example.com"), claim!("aud")),
        ("aud", quote(""), claim!("aud")),
        ("aud", quote("API.EXAMPLE.COM"), claim!("aud")),
    ];
    for (claim, raw, expect) in typed {
        t.add(
            format!("{claim}: {raw}"),
            tok(c.clone().set(claim, &raw)),
            expect,
        );
    }
    let sid = fx.alice.session_id.to_string();
    let odd_sid = xor_last_char(&sid, 1);
    t.add(
        "sid non-canonical",
        tok(c.clone().s("sid", &odd_sid)),
        claim!("sid"),
    );
    t.add(
        "sid padded",
        tok(c.clone().s("sid", &format!("{sid}=="))),
        claim!("sid"),
    );

    // The default leeway is 5 s: each boundary with a control on its inside.
    let times = |iat: i128, exp: i128| tok(c.clone().n("iat", iat).n("exp", exp));
    t.add("nbf now+6", tok(c.clone().n("nbf", now + 6)), NOT_YET);
    t.add("control: nbf now+5", tok(c.clone().n("nbf", now + 5)), OK);
    t.add("iat now+6", times(now + 6, now + 906), NOT_YET);
    t.add("control: iat now+5", times(now + 5, now + 905), OK);
    t.add(
        "iat a day ahead",
        times(now + 86_400, now + 87_000),
        NOT_YET,
    );
    t.add("exp now-5", times(now - 100, now - 5), EXPIRED);
    t.add("control: exp now-4", times(now - 100, now - 4), OK);
    t.add("exp a day ago", times(now - 86_500, now - 86_400), EXPIRED);
    t.add("lifetime access_ttl + 1 s", times(now, now + 901), LIFETIME);
    t.add("control: lifetime access_ttl", times(now, now + 900), OK);
    t.add("lifetime a year", times(now, now + 31_536_000), LIFETIME);
    t.add("exp equal to iat", times(now, now), LIFETIME);
    t.add("exp before iat", times(now, now - 1), LIFETIME);

    let dups = [
        ("sub alice then admin", c.clone().dup("sub", quote("admin"))),
        (
            "exp then a later exp",
            c.clone().dup("exp", (now + 86_400).to_string()),
        ),
        (
            "aud wrong then right",
            c.clone().s("aud", "x").dup("aud", aud),
        ),
    ];
    for (name, claims) in dups {
        t.add(format!("duplicate claim {name}"), tok(claims), MALFORMED);
    }

    let cj = c.render();
    let shapes = [
        ("[]", "[]".to_owned(), MALFORMED),
        ("null", "null".to_owned(), MALFORMED),
        ("a string", quote(&cj), MALFORMED),
        ("{}", "{}".to_owned(), claim!("iss")),
        ("with a BOM", format!("\u{feff}{cj}"), MALFORMED),
        ("with trailing garbage", format!("{cj}x"), MALFORMED),
        ("twice", format!("{cj}{cj}"), MALFORMED),
    ];
    for (name, text, expect) in shapes {
        let token = signed(
            h.render().as_bytes(),
            text.as_bytes(),
            &ACCESS_SECRET,
            HS256,
        );
        t.add(format!("payload {name}"), token, expect);
    }
}
