//! `htu` against the request's URL: both normalized, then compared
//! without query and fragment (RFC 9449, section 4.3, step 9).
//!
//! The normalization is RFC 3986's syntax- and scheme-based one (sections
//! 6.2.2 and 6.2.3) for absolute `http` and `https` URLs, and nothing
//! more: lower-case scheme and host, no default port, `/` for an empty
//! path, upper-case percent-encoding hex, unreserved characters decoded,
//! dot segments removed. Anything else (user info, non-ASCII, spaces, a
//! port that is not a number) is refused rather than guessed at.

/// `url` without query and fragment, normalized; `None` if it is not an
/// absolute `http` or `https` URL we can normalize.
pub(super) fn normalize(url: &str) -> Option<String> {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    let url = url.split_once('?').map_or(url, |(before, _)| before);
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    if authority.contains('@') {
        return None;
    }
    let (host, port) = split_port(authority)?;
    if host.is_empty() || host.contains('%') {
        return None;
    }
    let mut out = String::with_capacity(url.len() + 1);
    out.push_str(&scheme);
    out.push_str("://");
    out.push_str(&host.to_ascii_lowercase());
    if let Some(port) = port {
        let port: u16 = port
            .parse()
            .ok()
            .filter(|_| port.bytes().all(|b| b.is_ascii_digit()))?;
        let port = port.to_string();
        if port != default_port {
            out.push(':');
            out.push_str(&port);
        }
    }
    let path = percent_normalized(path)?;
    out.push_str(&remove_dot_segments(if path.is_empty() {
        "/"
    } else {
        &path
    }));
    Some(out)
}

/// `host` and the text after its port colon, if any; an empty port is no
/// port (RFC 3986, section 6.2.3). IPv6 literals keep their brackets.
fn split_port(authority: &str) -> Option<(&str, Option<&str>)> {
    let colon = match authority.strip_prefix('[') {
        Some(inner) => {
            let close = inner.find(']')? + 1;
            let after = &authority[close + 1..];
            if after.is_empty() {
                return Some((authority, None));
            }
            after.strip_prefix(':')?;
            close + 1
        }
        None => match authority.rfind(':') {
            Some(at) => at,
            None => return Some((authority, None)),
        },
    };
    let (host, port) = (&authority[..colon], &authority[colon + 1..]);
    Some((host, (!port.is_empty()).then_some(port)))
}

/// `path` with every `%XX` in upper-case hex, and decoded where it encodes
/// an unreserved character; `None` for a `%` not followed by two hex
/// digits.
fn percent_normalized(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'%' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let hex = bytes.get(i + 1..i + 3)?;
        let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        if value.is_ascii_alphanumeric() || b"-._~".contains(&value) {
            out.push(char::from(value));
        } else {
            out.push('%');
            out.push_str(&std::str::from_utf8(hex).ok()?.to_ascii_uppercase());
        }
        i += 3;
    }
    Some(out)
}

/// RFC 3986, section 5.2.4, for an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." => {
                if last {
                    kept.push("");
                }
            }
            ".." => {
                kept.pop();
                if last {
                    kept.push("");
                }
            }
            other => kept.push(other),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in kept {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_normalize_alike() {
        let canonical = "https://server.example.com/token";
        for same in [
            "https://server.example.com/token",
            "https://server.example.com/token?a=1",
            "https://server.example.com/token#frag",
            "https://server.example.com/token?a=1#frag",
            "HTTPS://Server.Example.COM/token",
            "https://server.example.com:443/token",
            "https://server.example.com:/token",
            "https://server.example.com:0443/token",
            "https://server.example.com/%74oken",
            "https://server.example.com/./token",
            "https://server.example.com/a/../token",
        ] {
            assert_eq!(normalize(same).as_deref(), Some(canonical), "{same}");
        }
        assert_eq!(normalize("http://h:80").as_deref(), Some("http://h/"));
        assert_eq!(normalize("http://h?x").as_deref(), Some("http://h/"));
        assert_eq!(normalize("http://h:443/").as_deref(), Some("http://h:443/"));
        assert_eq!(
            normalize("https://h/a%2fb").as_deref(),
            Some("https://h/a%2Fb")
        );
        assert_eq!(
            normalize("https://[::1]:8443/x").as_deref(),
            Some("https://[::1]:8443/x")
        );
        assert_eq!(
            normalize("https://[::1]/x").as_deref(),
            Some("https://[::1]/x")
        );
    }

    #[test]
    fn different_resources_stay_different() {
        let a = normalize("https://server.example.com/token");
        for other in [
            "http://server.example.com/token",
            "https://server.example.com:8443/token",
            "https://server.example.org/token",
            "https://server.example.com/Token",
            "https://server.example.com/token/",
            "https://server.example.com/a%2Ftoken",
        ] {
            assert_ne!(normalize(other), a, "{other}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_normalize() {
        for bad in [
            "",
            "/token",
            "server.example.com/token",
            "ftp://server.example.com/token",
            "https://user@server.example.com/token",
            "https://server.example.com:99999/token",
            "https://server.example.com:+443/token",
            "https://server.example.com:x/token",
            "https:///token",
            "https://server.example.com/to ken",
            "https://server.example.com/tök",
            "https://server.example.com/%zz",
            "https://server.example.com/%+1",
            "https://server.example.com/%4",
            "https://[::1/x",
            "https://[::1]x/",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
