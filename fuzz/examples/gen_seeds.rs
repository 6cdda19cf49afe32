//! Writes the checked-in seed corpus: `seeds/genuine.txt` (real tokens of
//! the fuzz targets' service, the only ones they may accept) and, per
//! target, real and hostile inputs to start from. Run it from `fuzz/`
//! (`cargo run --example gen_seeds`) after a change to the token format.

use std::fs;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_rotate::{MemoryStore, NoClaims, SessionInfo, TokenPair};
use jwt_rotate_fuzz::{runtime, service};

/// Real-looking mistakes and attacks on `token`.
fn hostile(token: &str, other_kind: &str) -> Vec<(String, String)> {
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let header = URL_SAFE_NO_PAD.decode(h).unwrap();
    let header = String::from_utf8(header).unwrap();
    let none = URL_SAFE_NO_PAD.encode(header.replacen("HS256", "none", 1));
    let hs384 = URL_SAFE_NO_PAD.encode(header.replacen("HS256", "HS384", 1));
    let crit = URL_SAFE_NO_PAD.encode(header.replacen('{', r#"{"crit":["exp"],"#, 1));
    let jwk =
        URL_SAFE_NO_PAD.encode(header.replacen('{', r#"{"jwk":{"kty":"oct","k":"AAAA"},"#, 1));
    let deep = URL_SAFE_NO_PAD.encode("[".repeat(2_000));
    let mut flipped = token.as_bytes().to_vec();
    let middle = h.len() + 1 + p.len() / 2;
    flipped[middle] = if flipped[middle] == b'A' { b'B' } else { b'A' };
    vec![
        ("alg-none".into(), format!("{none}.{p}.")),
        ("alg-hs384".into(), format!("{hs384}.{p}.{s}")),
        ("crit".into(), format!("{crit}.{p}.{s}")),
        ("jwk-header".into(), format!("{jwk}.{p}.{s}")),
        ("stripped-signature".into(), format!("{h}.{p}.")),
        (
            "truncated-signature".into(),
            format!("{h}.{p}.{}", &s[..s.len() - 1]),
        ),
        ("padded".into(), format!("{token}=")),
        ("four-segments".into(), format!("{token}.{s}")),
        ("two-segments".into(), format!("{h}.{p}")),
        (
            "flipped-payload".into(),
            String::from_utf8(flipped).unwrap(),
        ),
        ("whitespace".into(), format!(" {token}\n")),
        (
            "json-serialization".into(),
            format!(r#"{{"protected":"{h}","payload":"{p}","signature":"{s}"}}"#),
        ),
        ("deep-header".into(), format!("{deep}.{p}.{s}")),
        ("oversize".into(), format!("{h}.{}.{s}", "A".repeat(9_000))),
        ("other-kind".into(), other_kind.to_owned()),
    ]
}

fn write(dir: &Path, name: &str, content: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), content).unwrap();
}

fn main() {
    let rt = runtime();
    let service = service(MemoryStore::new());
    let login = |who: &'static str| {
        let service = service.clone();
        async move {
            service
                .issue(who, NoClaims {}, SessionInfo::default())
                .await
                .unwrap()
        }
    };
    let (alice, bob0) = rt.block_on(async { (login("alice").await, login("bob").await) });
    let bob1 = rt.block_on(service.refresh(&bob0.refresh_token)).unwrap();

    let seeds = Path::new("seeds");
    let mut genuine = String::new();
    let pairs: [(&str, &TokenPair, &str); 3] = [
        ("alice-0", &alice, "current"),
        ("bob-0", &bob0, "spent"),
        ("bob-1", &bob1, "current"),
    ];
    for (name, pair, state) in pairs {
        let (access, refresh) = (pair.access_token.as_str(), pair.refresh_token.as_str());
        genuine.push_str(&format!("access {access}\nrefresh {state} {refresh}\n"));
        write(
            &seeds.join("access_verify"),
            &format!("{name}-real"),
            access,
        );
        write(
            &seeds.join("refresh_parse"),
            &format!("{name}-real"),
            refresh,
        );
        for (kind, token) in hostile(access, refresh) {
            write(
                &seeds.join("access_verify"),
                &format!("{name}-{kind}"),
                &token,
            );
        }
        for (kind, token) in hostile(refresh, access) {
            write(
                &seeds.join("refresh_parse"),
                &format!("{name}-{kind}"),
                &token,
            );
        }
    }
    fs::write(seeds.join("genuine.txt"), genuine).unwrap();
    // store_ops reads its bytes through `arbitrary`: a few shapes to start.
    for (name, bytes) in [
        ("zeros", vec![0u8; 64]),
        ("ones", vec![0xFF; 64]),
        ("counting", (0..=255).collect()),
    ] {
        fs::create_dir_all(seeds.join("store_ops")).unwrap();
        fs::write(seeds.join("store_ops").join(name), bytes).unwrap();
    }
    println!("wrote seeds/ (genuine.txt and 3 targets' seeds)");
}
