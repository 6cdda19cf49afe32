//! `insert_dpop_jti` on Redis: one `SET NX PXAT` on a key of its own.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redis::Value;
use time::OffsetDateTime;

use super::RedisStore;
use super::keys::Keys;
use crate::error::StoreError;
use crate::store::{Replay, ReplayKey};

impl Keys {
    /// The key remembering one DPoP proof: `<prefix>:j:{<key, base64url>}`.
    /// A single-key command, so any Cluster slot will do.
    pub(super) fn proof(&self, key: &ReplayKey) -> String {
        format!(
            "{}:j:{{{}}}",
            self.prefix(),
            URL_SAFE_NO_PAD.encode(key.as_bytes())
        )
    }
}

impl RedisStore {
    /// Sets the proof's key if absent, expiring at `expires_at` by the
    /// server's clock (`PXAT`), so Redis drops it by itself and
    /// `purge_expired` has nothing to do. An expiry already past is
    /// nothing to remember.
    ///
    /// Not followed by `WAIT`: a failover that loses the write lets that
    /// one proof be replayed within its window (the proof still needs the
    /// client's key), and a command the client sends again after a lost
    /// connection finds its own key and refuses the proof: both fail no
    /// worse than a replay cache per process.
    pub(super) async fn insert_proof(
        &self,
        key: &ReplayKey,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<Replay, StoreError> {
        if expires_at <= now {
            return Ok(Replay::Fresh);
        }
        let at_ms = expires_at.unix_timestamp_nanos() / 1_000_000;
        let reply: Value = redis::cmd("SET")
            .arg(self.keys.proof(key))
            .arg(1)
            .arg("NX")
            .arg("PXAT")
            .arg(i64::try_from(at_ms).unwrap_or(i64::MAX))
            .query_async(&mut self.conn())
            .await
            .map_err(self.failed("remembering a DPoP proof"))?;
        Ok(match reply {
            Value::Nil => Replay::Seen,
            _ => Replay::Fresh,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_has_a_key_of_its_own_outside_the_session_pattern() {
        let keys = Keys::new("app").unwrap();
        let proof = keys.proof(&ReplayKey::from_bytes([0; 32]));
        assert_eq!(proof, format!("app:j:{{{}}}", "A".repeat(43)));
        assert!(!proof.starts_with("app:s:"));
        assert_eq!(keys.session_id(proof.as_bytes()), None);
    }
}
