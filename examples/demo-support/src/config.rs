//! How a demo server runs: lifetimes, cookie security, its origin and the
//! proxies in front, login limits, clock, signing keys and store.

use std::sync::Arc;

use jwt_rotate::oauth::IntrospectionClient;
use jwt_rotate::web::{ThrottleLimits, TrustedProxies};
use jwt_rotate::{Clock, CookieSecurity, MemoryStore, Origin, SystemClock};

use jwt_rotate::store::SqliteStore;
use time::Duration;

use crate::hashing::HashLimits;
use crate::state::Store;

/// How a server runs. [`Config::from_env`] for the binaries; tests set the
/// fields (short lifetimes, a manual clock, a failing store).
#[derive(Clone)]
pub struct Config {
    /// Access-token lifetime. Default 15 minutes; env `ACCESS_TTL_SECS`.
    pub access_ttl: Duration,
    /// Reuse grace window. Default 10 seconds (must stay below
    /// `access_ttl`); env `REUSE_GRACE_SECS`.
    pub reuse_grace: Duration,
    /// Clock skew tolerated on token times. Default 5 seconds.
    pub leeway: Duration,
    /// `Secure` on the refresh cookie. Default on; env `COOKIE_SECURE=false`
    /// for a browser that refuses `Secure` cookies on `http://localhost`.
    pub cookie_security: CookieSecurity,
    /// This server's origin as browsers see it, for the CSRF check; env
    /// `PUBLIC_ORIGIN` (e.g. `https://auth.example.com`). Set it behind a
    /// proxy that terminates TLS or rewrites `Host`. Default: none, the
    /// server is reached directly over plain HTTP: `http://` and the
    /// request's `Host`.
    pub public_origin: Option<Origin>,
    /// Proxies whose `X-Forwarded-For` names the client; env
    /// `TRUSTED_PROXIES` (comma-separated IP addresses). Default: none, the
    /// client is the connection's peer.
    pub trusted_proxies: TrustedProxies,
    /// Wrong-password throttling, per username and per client address.
    pub throttle: ThrottleLimits,
    /// Password hashes running and waiting at once.
    pub hashing: HashLimits,
    /// Live sessions per user; a login beyond it ends the oldest. Default
    /// 10, so that neither the store nor `GET /sessions` grows without
    /// bound.
    pub max_sessions_per_user: usize,
    /// The time source. Default: the system clock.
    pub clock: Arc<dyn Clock>,
    /// The keys that sign tokens. Default: [`Signing::Random`].
    pub signing: Signing,
    /// Where sessions live. Default: a [`MemoryStore`]; env `SESSIONS_DB`
    /// for a [`SqliteStore`].
    pub store: Store,
    /// The resource server allowed to call `POST /oauth/introspect`, by
    /// HTTP Basic. Default: none, and that route answers 404 (the token
    /// and revocation routes need no client); env `INTROSPECT_CLIENT_ID`
    /// with `INTROSPECT_CLIENT_SECRET`.
    pub introspection: Option<IntrospectionClient>,
    /// DPoP server nonces (RFC 9449, section 8): when set, every proof
    /// must carry a nonce of this server, each valid for this long (and
    /// the period after), and a proof without one is answered 401
    /// `use_dpop_nonce` with a `DPoP-Nonce`. Default: none; env
    /// `DPOP_NONCE_SECS`.
    pub dpop_nonces: Option<Duration>,
}

/// Where the token signing keys come from.
#[derive(Clone)]
pub enum Signing {
    /// Made at start-up: a restart invalidates every token, whatever the
    /// store keeps.
    Random,
    /// HS256 secrets of at least 32 bytes each, the same at every start,
    /// so that sessions in a persistent store outlive a restart.
    Secrets {
        /// Signs access tokens.
        access: Vec<u8>,
        /// Signs refresh tokens; must differ from `access`.
        refresh: Vec<u8>,
    },
}

impl Default for Config {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            reuse_grace: Duration::seconds(10),
            leeway: Duration::seconds(5),
            cookie_security: CookieSecurity::Secure,
            public_origin: None,
            trusted_proxies: TrustedProxies::default(),
            throttle: ThrottleLimits::default(),
            hashing: HashLimits::default(),
            max_sessions_per_user: 10,
            clock: Arc::new(SystemClock),
            signing: Signing::Random,
            store: Arc::new(MemoryStore::new()),
            introspection: None,
            dpop_nonces: None,
        }
    }
}

impl Config {
    /// The defaults, changed by the environment: `ACCESS_TTL_SECS`,
    /// `REUSE_GRACE_SECS`, `COOKIE_SECURE`, `PUBLIC_ORIGIN`,
    /// `TRUSTED_PROXIES`, `DPOP_NONCE_SECS`, `SESSIONS_DB` (a SQLite URL such as
    /// `sqlite://sessions.db`, created and migrated if needed), and
    /// `ACCESS_KEY_SECRET` with `REFRESH_KEY_SECRET` (both or neither), and
    /// `INTROSPECT_CLIENT_ID` with `INTROSPECT_CLIENT_SECRET` (both or
    /// neither; the secret at least 16 characters).
    ///
    /// # Errors
    /// [`EnvError`] naming a variable whose value cannot be used, or whose
    /// database cannot be opened.
    pub async fn from_env() -> Result<Self, EnvError> {
        let mut config = Self::default();
        if let Some(ttl) = seconds("ACCESS_TTL_SECS")? {
            config.access_ttl = ttl;
        }
        if let Some(grace) = seconds("REUSE_GRACE_SECS")? {
            config.reuse_grace = grace;
        }
        match std::env::var("COOKIE_SECURE").as_deref() {
            Ok("false" | "0") => config.cookie_security = CookieSecurity::InsecureLocalhost,
            Ok("true" | "1") | Err(_) => {}
            Ok(_) => return Err(EnvError::new("COOKIE_SECURE", "true or false")),
        }
        if let Ok(origin) = std::env::var("PUBLIC_ORIGIN") {
            let origin = origin.parse().map_err(|_| {
                EnvError::new(
                    "PUBLIC_ORIGIN",
                    "an origin such as https://auth.example.com (no path)",
                )
            })?;
            config.public_origin = Some(origin);
        }
        config.dpop_nonces = seconds("DPOP_NONCE_SECS")?;
        if let Ok(list) = std::env::var("TRUSTED_PROXIES") {
            config.trusted_proxies = list
                .parse()
                .map_err(|_| EnvError::new("TRUSTED_PROXIES", "comma-separated IP addresses"))?;
        }
        match (
            std::env::var_os("ACCESS_KEY_SECRET"),
            std::env::var_os("REFRESH_KEY_SECRET"),
        ) {
            (Some(access), Some(refresh)) => {
                config.signing = Signing::Secrets {
                    access: access.into_encoded_bytes(),
                    refresh: refresh.into_encoded_bytes(),
                };
            }
            (None, None) => {}
            _ => {
                return Err(EnvError::new(
                    "ACCESS_KEY_SECRET",
                    "set together with REFRESH_KEY_SECRET",
                ));
            }
        }
        config.introspection = introspection_client()?;
        if let Ok(url) = std::env::var("SESSIONS_DB") {
            config.store = sqlite_store(&url).await.map_err(|err| EnvError {
                source: Some(err),
                ..EnvError::new("SESSIONS_DB", "a SQLite URL that can be opened")
            })?;
        }
        Ok(config)
    }
}

/// A [`SqliteStore`] at `url`, its schema migrated.
///
/// # Errors
/// A malformed URL, a file that cannot be opened, a failed migration.
pub async fn sqlite_store(url: &str) -> Result<Store, jwt_rotate::Error> {
    let store = SqliteStore::connect(url).await?;
    store.migrate().await?;
    Ok(Arc::new(store))
}

/// The introspection client of `INTROSPECT_CLIENT_ID` and
/// `INTROSPECT_CLIENT_SECRET`, if both are set.
fn introspection_client() -> Result<Option<IntrospectionClient>, EnvError> {
    /// Shorter secrets are guessable in the throttle's budget over time.
    const MIN_SECRET_CHARS: usize = 16;
    match (
        std::env::var("INTROSPECT_CLIENT_ID"),
        std::env::var("INTROSPECT_CLIENT_SECRET"),
    ) {
        (Ok(id), Ok(secret)) if !id.is_empty() && secret.chars().count() >= MIN_SECRET_CHARS => {
            Ok(Some(IntrospectionClient::new(id, secret)))
        }
        (Err(_), Err(_)) => Ok(None),
        (Ok(_), Ok(_)) => Err(EnvError::new(
            "INTROSPECT_CLIENT_SECRET",
            "at least 16 characters, with a non-empty INTROSPECT_CLIENT_ID",
        )),
        _ => Err(EnvError::new(
            "INTROSPECT_CLIENT_ID",
            "set together with INTROSPECT_CLIENT_SECRET",
        )),
    }
}

fn seconds(variable: &'static str) -> Result<Option<Duration>, EnvError> {
    match std::env::var(variable) {
        Ok(value) => value
            .parse::<u32>()
            .map(|s| Some(Duration::seconds(s.into())))
            .map_err(|_| EnvError::new(variable, "a whole number of seconds")),
        Err(_) => Ok(None),
    }
}

/// An environment variable with a value [`Config::from_env`] cannot use.
#[derive(Debug)]
pub struct EnvError {
    /// The variable.
    pub variable: &'static str,
    /// What it must hold.
    pub expected: &'static str,
    /// Why it could not be used, when something failed.
    pub source: Option<jwt_rotate::Error>,
}

impl EnvError {
    fn new(variable: &'static str, expected: &'static str) -> Self {
        Self {
            variable,
            expected,
            source: None,
        }
    }
}

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} must be {}", self.variable, self.expected)
    }
}

impl std::error::Error for EnvError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}
