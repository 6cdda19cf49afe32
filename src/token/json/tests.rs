//! [`Object`] writes what serde_json writes; [`Reader`] reads back what
//! `Object` writes, and on any other text leaves the verdict to serde_json.

use std::borrow::Cow;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims<'a> {
    #[serde(borrow)]
    iss: Cow<'a, str>,
    #[serde(borrow)]
    sub: Cow<'a, str>,
    n: i64,
    #[serde(rename = "gen")]
    generation: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<Window>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Window {
    from: i64,
    to: i64,
}

fn write(claims: &Claims<'_>, members: &str) -> String {
    let mut out = Scratch::new();
    let mut object = Object::new(&mut out);
    object
        .str("iss", &claims.iss)
        .str("sub", &claims.sub)
        .int("n", claims.n)
        .uint("gen", claims.generation);
    if let Some(window) = claims.window {
        object.object("window", |w| {
            w.int("from", window.from).int("to", window.to);
        });
    }
    object.members(members);
    object.end();
    String::from_utf8(out.as_bytes().to_vec()).unwrap()
}

fn read<'a>(json: &mut Reader<'a>) -> Option<Claims<'a>> {
    let (iss, sub) = (json.str("iss")?, json.str("sub")?);
    let (n, generation) = (json.int("n")?, json.uint("gen")?);
    let window = if json.at_end() {
        None
    } else {
        Some(json.object("window", |w| {
            Some(Window {
                from: w.int("from")?,
                to: w.int("to")?,
            })
        })?)
    };
    json.at_end().then(|| Claims {
        iss: iss.into(),
        sub: sub.into(),
        n,
        generation,
        window,
    })
}

/// What our reader with serde_json behind it makes of `text`, and what
/// serde_json alone does: always the same.
fn both(text: &str) -> (Result<Claims<'_>, ()>, Result<Claims<'_>, ()>) {
    let alone = serde_json::from_str(text).map_err(drop);
    (parse_ours(text.as_bytes(), read), alone)
}

fn plain(text: &str) -> bool {
    !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Small edits that make other valid spellings or invalid text.
const EDITS: [&str; 16] = [
    " ", "\n", "0", "-", "\\", "\"", ",", "}", "{", ".5", "e1", "\u{1}", "x", ":", "\"x\":1,", "",
];

/// 256 by default; `JWT_ROTATE_PROPTEST_CASES` (CI: 4000) for more.
fn cases() -> u32 {
    std::env::var("JWT_ROTATE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn writes_what_serde_json_writes(
        iss in ".*",
        sub in "[\\x00-\\x7f\"\\\\\u{80}-\u{10ffff}]{0,40}",
        n: i64,
        generation: u64,
        window: Option<(i64, i64)>,
    ) {
        let window = window.map(|(from, to)| Window { from, to });
        let claims = Claims { iss: iss.into(), sub: sub.into(), n, generation, window };
        let json = serde_json::to_string(&claims).unwrap();
        prop_assert_eq!(write(&claims, ""), json.clone());
        let with_members = format!("{},\"roles\":[\"a\"]}}", &json[..json.len() - 1]);
        prop_assert_eq!(write(&claims, "\"roles\":[\"a\"]"), with_members);
    }

    #[test]
    fn reads_what_it_writes_and_agrees_with_serde_json_on_any_other_text(
        iss in "[ -~\u{80}-\u{10ffff}]{0,20}",
        sub in ".{0,20}",
        n: i64,
        generation: u64,
        window: Option<(i64, i64)>,
        at: prop::sample::Index,
        edit in 0..EDITS.len() + 1,
    ) {
        let window = window.map(|(from, to)| Window { from, to });
        let claims = Claims { iss: iss.into(), sub: sub.into(), n, generation, window };
        let text = write(&claims, "");
        if plain(&claims.iss) && plain(&claims.sub) {
            let mut reader = Reader::new(&text).unwrap();
            let fast = read(&mut reader);
            prop_assert_eq!(fast.as_ref(), Some(&claims));
        }
        let (ours, alone) = both(&text);
        prop_assert_eq!(ours, alone);

        // One character inserted (or, past the list, removed) somewhere.
        let boundaries: Vec<usize> = (0..text.len()).filter(|i| text.is_char_boundary(*i)).collect();
        let i = boundaries[at.index(boundaries.len())];
        let mut edited = text.clone();
        match EDITS.get(edit) {
            Some(insert) => edited.insert_str(i, insert),
            None => drop(edited.remove(i)),
        }
        let (ours, alone) = both(&edited);
        prop_assert_eq!(ours, alone, "{}", edited);
    }
}

#[test]
fn numbers_serde_json_would_refuse_or_read_otherwise_go_to_it() {
    let claims = |n: &str, generation: &str| {
        format!(r#"{{"iss":"a","sub":"b","n":{n},"gen":{generation}}}"#)
    };
    for (n, generation) in [
        ("-0", "0"),
        ("01", "0"),
        ("1.0", "0"),
        ("1e3", "0"),
        ("1E3", "0"),
        ("-", "0"),
        ("", "0"),
        ("9223372036854775808", "0"),
        ("-9223372036854775809", "0"),
        ("-9223372036854775808", "18446744073709551615"),
        ("9223372036854775807", "18446744073709551616"),
        ("0", "-1"),
        ("0", "-0"),
        ("0", "00"),
    ] {
        let text = claims(n, generation);
        let (ours, alone) = both(&text);
        assert_eq!(ours, alone, "{text}");
    }
    let text = claims("-9223372036854775808", "18446744073709551615");
    let read = read(&mut Reader::new(&text).unwrap()).unwrap();
    assert_eq!((read.n, read.generation), (i64::MIN, u64::MAX));
}

#[test]
fn an_object_of_members_alone() {
    let mut out = Scratch::new();
    let mut object = Object::new(&mut out);
    object.members("").members("\"a\":1");
    object.end();
    assert_eq!(out.as_bytes(), b"{\"a\":1}");
}

#[test]
fn only_an_object_is_read_though_serde_would_read_an_array_of_the_fields() {
    let array = r#"["iss","sub",1,2]"#;
    let serde_alone: Result<Claims<'_>, _> = serde_json::from_str(array);
    assert!(serde_alone.is_ok(), "serde reads a struct from an array");
    assert_eq!(parse::<Claims<'_>>(array.as_bytes()), Err(()));
    assert_eq!(parse_ours(array.as_bytes(), read), Err(()));
    for text in [" \t\r\n[\"iss\",\"sub\",1,2]", "null", "1", "\"x\"", ""] {
        assert_eq!(parse::<Claims<'_>>(text.as_bytes()), Err(()), "{text}");
    }
    let object = r#" {"iss":"i","sub":"s","n":1,"gen":2}"#;
    assert!(parse::<Claims<'_>>(object.as_bytes()).is_ok());
    assert!(parse_ours(object.as_bytes(), read).is_ok());
}

#[test]
fn an_expected_string_is_read_only_when_it_is_exactly_there() {
    let read = |text: &'static str, expected: &str| {
        let mut reader = Reader::new(text).unwrap();
        reader.str_equal("iss", expected).map(str::to_owned)
    };
    assert_eq!(
        read(r#"{"iss":"https://a.example"}"#, "https://a.example").as_deref(),
        Some("https://a.example")
    );
    for (text, expected) in [
        (r#"{"iss":"https://a.example.org"}"#, "https://a.example"),
        (r#"{"iss":"https://a.exampl"}"#, "https://a.example"),
        (r#"{"iss":"https:\/\/a.example"}"#, "https://a.example"),
        (r#"{"aud":"x"}"#, "x"),
        // An expected value that needs escaping is never matched as is.
        (r#"{"iss":"a"b"}"#, "a\"b"),
    ] {
        assert_eq!(read(text, expected), None, "{text}");
    }
}

#[test]
fn a_string_ends_at_its_first_quote_escape_or_control_character() {
    for len in [0, 1, 15, 16, 17, 31, 32, 33, 43, 64] {
        let body = "a".repeat(len);
        for stop in ["\"", "\\", "\n", "\u{1f}"] {
            let text = format!("{body}{stop}{body}\"");
            assert_eq!(string_end(text.as_bytes()), Some(len), "{len} {stop:?}");
        }
        assert_eq!(string_end(body.as_bytes()), None, "{len}");
    }
}

#[test]
fn an_array_of_plain_strings_is_read_and_any_other_goes_to_serde_json() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Listed {
        k: Vec<String>,
    }
    let read = |text: &str| {
        let mut reader = Reader::new(text).unwrap();
        reader.strings("k").filter(|_| reader.at_end())
    };
    for (text, fast) in [
        (r#"{"k":["a"]}"#, Some(vec!["a"])),
        (r#"{"k":["a","bc",""]}"#, Some(vec!["a", "bc", ""])),
        (r#"{"k":[]}"#, None),
        (r#"{"k":["a",]}"#, None),
        (r#"{"k":["a" ,"b"]}"#, None),
        (r#"{"k":["a\"b"]}"#, None),
        (r#"{"k":["a"],}"#, None),
        (r#"{"k":[1]}"#, None),
        (r#"{"k":"a"}"#, None),
        (r#"{"k":["a"}"#, None),
    ] {
        let fast = fast.map(|v| v.into_iter().map(String::from).collect::<Vec<_>>());
        assert_eq!(read(text), fast, "{text}");
        let ours = parse_ours(text.as_bytes(), |r| {
            let k = r.strings("k")?;
            r.at_end().then_some(Listed { k })
        });
        let alone = serde_json::from_str::<Listed>(text).map_err(drop);
        assert_eq!(ours, alone, "{text}");
    }
}
