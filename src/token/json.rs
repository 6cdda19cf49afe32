//! Our claims as JSON: [`Object`] writes them straight into a [`Scratch`],
//! the same bytes serde_json writes for the same struct, without its calls
//! per punctuation mark; [`Reader`] reads back that one spelling, and
//! leaves every other to serde_json.

use serde::Deserialize;

use super::scratch::Scratch;

/// `T` from the JSON object `json`, by serde_json, with the UTF-8 checked
/// once for the whole text rather than once per string in it.
pub(crate) fn parse<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, ()> {
    serde_json::from_str(object_text(json)?).map_err(drop)
}

/// `json` as text, if it is a JSON object. A JOSE header and a JWT claims
/// set are objects (RFC 7515, RFC 7519), but serde's derived structs also
/// read an array of their fields in order (`["HS256","at+jwt","k1"]`): a
/// second spelling of the same token, which we refuse.
fn object_text(json: &[u8]) -> Result<&str, ()> {
    let text = std::str::from_utf8(json).map_err(drop)?;
    let start = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if start.starts_with('{') {
        Ok(text)
    } else {
        Err(())
    }
}

/// `T` from the JSON text `json`: by `ours` if it is in the one spelling
/// [`Object`] writes, else by serde_json.
pub(crate) fn parse_ours<'a, T: Deserialize<'a>>(
    json: &'a [u8],
    ours: impl FnOnce(&mut Reader<'a>) -> Option<T>,
) -> Result<T, ()> {
    let text = object_text(json)?;
    match Reader::new(text).and_then(|mut reader| ours(&mut reader)) {
        Some(value) => Ok(value),
        None => serde_json::from_str(text).map_err(drop),
    }
}

/// A JSON object being written, its members in the order they are added.
/// Keys are the crate's own claim names, which need no escaping.
pub(crate) struct Object<'a> {
    out: &'a mut Scratch,
    empty: bool,
}

impl<'a> Object<'a> {
    pub(crate) fn new(out: &'a mut Scratch) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    #[inline]
    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        string(self.out, value);
        self
    }

    /// A member whose value needs no escaping by construction (base64url:
    /// a `jti`, a `sid`), copied without looking for characters to escape.
    #[inline]
    pub(crate) fn plain(&mut self, key: &str, value: &str) -> &mut Self {
        debug_assert!(!needs_escape(value), "{value:?} needs escaping");
        self.key(key);
        self.out.push(b'"');
        self.out.extend(value.as_bytes());
        self.out.push(b'"');
        self
    }

    #[inline]
    pub(crate) fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        self.number(value)
    }

    #[inline]
    pub(crate) fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        self.number(value)
    }

    /// A member whose value is an object, written by `members`.
    pub(crate) fn object(&mut self, key: &str, members: impl FnOnce(&mut Object<'_>)) -> &mut Self {
        self.key(key);
        let mut inner = Object::new(self.out);
        members(&mut inner);
        inner.end();
        self
    }

    /// Members already serialized, `"a":1,"b":2` (the text between the
    /// braces of a JSON object), appended as they are.
    pub(crate) fn members(&mut self, members: &str) -> &mut Self {
        if !members.is_empty() {
            if !self.empty {
                self.out.push(b',');
            }
            self.out.extend(members.as_bytes());
            self.empty = false;
        }
        self
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }

    // Inlined where the key is a literal, so that it is copied as a
    // constant; and bytes of a size known here rather than a slice chosen
    // at run time: each is stored in place, not by a call to `memcpy`.
    #[inline(always)]
    fn key(&mut self, key: &str) {
        if !self.empty {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend(key.as_bytes());
        self.out.extend(b"\":");
        self.empty = false;
    }

    fn number(&mut self, value: impl serde::Serialize) -> &mut Self {
        // serde_json's own integer formatting; writing to memory cannot fail.
        let written = serde_json::to_writer(&mut *self.out, &value);
        debug_assert!(written.is_ok());
        self
    }
}

/// `value` as a JSON string. serde_json escapes `"`, `\` and the control
/// characters, nothing else; strings without any (all of ours, nearly all
/// subjects) are copied as they are, the others left to serde_json.
#[inline]
fn string(out: &mut Scratch, value: &str) {
    if needs_escape(value) {
        let written = serde_json::to_writer(&mut *out, value);
        debug_assert!(written.is_ok());
    } else {
        out.push(b'"');
        out.extend(value.as_bytes());
        out.push(b'"');
    }
}

/// Where a JSON string's body ends: the first quote, backslash or control
/// character (an escape or a control character make the reader give up).
/// Sixteen bytes at a time, without early exit, so that the compiler
/// vectorizes the search; the exact position only in the last chunk.
fn string_end(body: &[u8]) -> Option<usize> {
    let stops = |b: u8| (b == b'"') | (b == b'\\') | (b < 0x20);
    let mut chunks = body.chunks_exact(16);
    let mut start = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |found, &b| found | stops(b)) {
            break;
        }
        start += 16;
    }
    body[start..]
        .iter()
        .position(|&b| stops(b))
        .map(|i| start + i)
}

/// Whether serde_json would escape anything in `text`: `"`, `\\` or a
/// control character.
fn needs_escape(text: &str) -> bool {
    // A fold rather than `any`: without the early exit it is vectorized.
    text.bytes().fold(false, |found, b| {
        found | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// Reads a JSON object in exactly the spelling [`Object`] writes: members
/// in the order asked for, strings without escapes or control characters,
/// integers in their shortest form, no whitespace. It reads only payloads
/// whose signature held, in practice our own tokens. Any other spelling,
/// valid or not, makes a read return `None`, and [`parse_ours`] hands the
/// text to serde_json, which decides. Whatever it does read, serde_json
/// would read as the same values: verdicts stay serde_json's, and only the
/// spelling we write skips its generic machinery.
pub(crate) struct Reader<'a> {
    rest: &'a str,
    empty: bool,
}

impl<'a> Reader<'a> {
    fn new(json: &'a str) -> Option<Self> {
        Some(Self {
            rest: json.strip_prefix('{')?,
            empty: true,
        })
    }

    /// The member `key`, a string.
    #[inline]
    pub(crate) fn str(&mut self, key: &str) -> Option<&'a str> {
        self.key(key)?;
        let body = self.rest.strip_prefix('"')?;
        // A quote ends it; an escape or a control character leaves it to
        // serde_json.
        let end = string_end(body.as_bytes())?;
        let (value, rest) = body.split_at(end);
        self.rest = rest.strip_prefix('"')?;
        Some(value)
    }

    /// The member `key`, a string, if it is exactly `expected` (which needs
    /// no escaping): the issuer or audience a token must carry, checked
    /// with one comparison instead of being scanned for its end. Any other
    /// value, or spelling, returns `None`, and the caller's read falls
    /// back to serde_json, whose verdict stands.
    #[inline]
    pub(crate) fn str_equal(&mut self, key: &str, expected: &str) -> Option<&'a str> {
        self.key(key)?;
        let body = self.rest.strip_prefix('"')?;
        let rest = body.strip_prefix(expected)?.strip_prefix('"')?;
        if needs_escape(expected) {
            return None;
        }
        self.rest = rest;
        Some(&body[..expected.len()])
    }

    /// The member `key`, a non-empty array of strings, each read as
    /// [`str`](Self::str) reads one.
    pub(crate) fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        self.key(key)?;
        let mut rest = self.rest.strip_prefix('[')?;
        let mut values = Vec::new();
        loop {
            let body = rest.strip_prefix('"')?;
            let end = string_end(body.as_bytes())?;
            let (value, after) = body.split_at(end);
            values.push(value.to_owned());
            rest = after.strip_prefix('"')?;
            if let Some(after) = rest.strip_prefix(']') {
                self.rest = after;
                return Some(values);
            }
            rest = rest.strip_prefix(',')?;
        }
    }

    /// The member `key`, an `i64`.
    #[inline]
    pub(crate) fn int(&mut self, key: &str) -> Option<i64> {
        self.key(key)?;
        match self.rest.strip_prefix('-') {
            // `-0` is a float to serde_json.
            Some(digits) => {
                self.rest = digits;
                let magnitude = self.digits().filter(|m| *m != 0)?;
                i64::try_from(-i128::from(magnitude)).ok()
            }
            None => i64::try_from(self.digits()?).ok(),
        }
    }

    /// The member `key`, a `u64`.
    #[inline]
    pub(crate) fn uint(&mut self, key: &str) -> Option<u64> {
        self.key(key)?;
        self.digits()
    }

    /// The member `key`, an object read by `read`.
    pub(crate) fn object<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&mut Reader<'a>) -> Option<T>,
    ) -> Option<T> {
        self.key(key)?;
        let mut inner = Reader::new(self.rest)?;
        let value = read(&mut inner)?;
        self.rest = inner.rest.strip_prefix('}')?;
        Some(value)
    }

    /// Whether the next member is `key` (an optional member's test).
    #[inline]
    pub(crate) fn next_is(&self, key: &str) -> bool {
        let rest = if self.empty {
            self.rest
        } else {
            self.rest.strip_prefix(',').unwrap_or_default()
        };
        rest.strip_prefix('"')
            .and_then(|r| r.strip_prefix(key))
            .is_some_and(|r| r.starts_with("\":"))
    }

    /// Whether the object ends here, and the text with it.
    pub(crate) fn at_end(&self) -> bool {
        self.rest == "}"
    }

    // Inlined where the key is a literal: compared and copied as
    // constants, not by calls to `memcmp` and `memcpy`.
    #[inline]
    fn key(&mut self, key: &str) -> Option<()> {
        let rest = if self.empty {
            self.rest
        } else {
            self.rest.strip_prefix(',')?
        };
        self.rest = rest
            .strip_prefix('"')?
            .strip_prefix(key)?
            .strip_prefix("\":")?;
        self.empty = false;
        Some(())
    }

    /// An unsigned integer without leading zeros, fraction or exponent,
    /// that fits a `u64`.
    fn digits(&mut self) -> Option<u64> {
        // One pass, unchecked: up to 19 digits cannot overflow a `u64`.
        let (mut value, mut len) = (0u64, 0);
        for digit in self.rest.bytes().take_while(u8::is_ascii_digit) {
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
            len += 1;
        }
        let (digits, rest) = self.rest.split_at(len);
        if len > 19 {
            // Checked: `None` past `u64::MAX`.
            value = digits.parse().ok()?;
        }
        if digits.is_empty() || (len > 1 && digits.starts_with('0')) {
            return None;
        }
        if rest.starts_with(['.', 'e', 'E']) {
            return None;
        }
        self.rest = rest;
        Some(value)
    }
}

#[cfg(test)]
mod tests;
