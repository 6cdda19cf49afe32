//! Access-token verification on arbitrary bytes: never panics, and accepts
//! nothing but the genuine access tokens of the seed corpus.
#![no_main]

use std::sync::LazyLock;

use jwt_rotate::{MemoryStore, TokenService};
use jwt_rotate_fuzz::{GENUINE, service};
use libfuzzer_sys::fuzz_target;

static SERVICE: LazyLock<TokenService<MemoryStore>> = LazyLock::new(|| service(MemoryStore::new()));

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    if let Ok(claims) = SERVICE.verify(token.as_ref()) {
        assert!(
            GENUINE.is_access(&token),
            "verify accepted a token never issued: {token:?}"
        );
        assert!(claims.sub == "alice" || claims.sub == "bob", "{claims:?}");
    }
});
