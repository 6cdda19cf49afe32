//! The demo's user accounts: argon2id password hashes in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// The demo accounts, as `(username, password)`: documented in the README.
pub const DEMO_USERS: [(&str, &str); 2] = [
    ("alice", "correct horse battery staple"),
    ("bob", "a much better password than hunter2"),
];

/// Passwords longer than this are refused before hashing: argon2 over a
/// megabyte-long "password" is a cheap way to burn the server's CPU.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// New passwords shorter than this are refused.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Usernames longer than this are refused before anything else: no account
/// has one, and each name is a key of the login throttle's table.
pub const MAX_USERNAME_BYTES: usize = 256;

/// User accounts with argon2id (default parameters) password hashes.
///
/// Every method hashes or verifies, which takes tens of milliseconds on
/// purpose: call them off the async runtime (`spawn_blocking`).
pub struct Users {
    hashes: RwLock<HashMap<String, String>>,
    /// A hash no password matches, verified for unknown users so that the
    /// answer takes as long as for a known one.
    decoy: String,
    stats: Stats,
}

/// How much argon2 work ran: for tests, and to watch the bound on hashes
/// running at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashStats {
    /// Password checks run (an argon2id verification each).
    pub checks: u64,
    /// The most checks and hashes that ever ran at the same time.
    pub peak: usize,
}

#[derive(Default)]
struct Stats {
    checks: AtomicU64,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// The password hash a login matched (a fresh salt per change, so it names
/// one password of one user).
pub struct Credential(String);

impl Credential {
    /// The hash, as the security stamp of a login (`Login::with_stamp`).
    pub fn into_stamp(self) -> String {
        self.0
    }

    /// The credential a login's stamp names.
    pub fn from_stamp(stamp: &str) -> Self {
        Self(stamp.to_owned())
    }
}

/// A password change made, which [`Users::undo`] can take back.
pub struct PasswordChange {
    username: String,
    old: String,
    new: String,
}

/// Why a password change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChangeError {
    /// The current password given is wrong.
    WrongPassword,
    /// The new password is shorter than [`MIN_PASSWORD_CHARS`] or longer
    /// than [`MAX_PASSWORD_BYTES`].
    Weak,
    /// Hashing failed (out of memory, no randomness).
    Hashing,
}

impl Users {
    /// The [`DEMO_USERS`], each hashed now with a fresh salt.
    ///
    /// # Errors
    /// When hashing fails (no OS randomness, out of memory).
    pub fn demo() -> Result<Self, argon2::password_hash::Error> {
        let mut hashes = HashMap::new();
        for (name, password) in DEMO_USERS {
            hashes.insert(name.to_owned(), hash(password)?);
        }
        Ok(Self {
            hashes: RwLock::new(hashes),
            decoy: hash("no password matches this decoy's salt")?,
            stats: Stats::default(),
        })
    }

    /// Whether `password` is `username`'s: if so, the credential it
    /// matched, to check with [`Users::is_current`] once the login is done.
    /// Blocking. An unknown user costs the same check, against a decoy hash.
    pub fn verify(&self, username: &str, password: &str) -> Option<Credential> {
        if password.len() > MAX_PASSWORD_BYTES {
            return None;
        }
        let stored = self.stored_hash(username);
        let matches = self.check(password, stored.as_deref().unwrap_or(&self.decoy));
        stored.filter(|_| matches).map(Credential)
    }

    /// Whether `credential` is still `username`'s password: false once a
    /// password change replaced it (and true again if the change was
    /// undone).
    pub fn is_current(&self, username: &str, credential: &Credential) -> bool {
        self.stored_hash(username).as_ref() == Some(&credential.0)
    }

    /// Replaces `username`'s password if `current` is right. Blocking.
    ///
    /// # Errors
    /// [`PasswordChangeError`]: nothing changed.
    pub fn change_password(
        &self,
        username: &str,
        current: &str,
        new: &str,
    ) -> Result<PasswordChange, PasswordChangeError> {
        let stored = self.stored_hash(username);
        let checked = current.len() <= MAX_PASSWORD_BYTES
            && self.check(current, stored.as_deref().unwrap_or(&self.decoy));
        let Some(stored) = stored.filter(|_| checked) else {
            return Err(PasswordChangeError::WrongPassword);
        };
        if new.chars().count() < MIN_PASSWORD_CHARS || new.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordChangeError::Weak);
        }
        let new_hash = self
            .counted(|| hash(new))
            .map_err(|_| PasswordChangeError::Hashing)?;
        let mut hashes = self.hashes.write().unwrap_or_else(PoisonError::into_inner);
        match hashes.get_mut(username) {
            // Only over the hash `current` was checked against: of two
            // concurrent changes, the second must know the first's password.
            Some(hash) if *hash == stored => {
                *hash = new_hash.clone();
                Ok(PasswordChange {
                    username: username.to_owned(),
                    old: stored,
                    new: new_hash,
                })
            }
            _ => Err(PasswordChangeError::WrongPassword),
        }
    }

    /// Puts the old password back, unless the password changed again
    /// since: for a change whose other half (logging out the other
    /// sessions) failed, so that it can be retried as it was.
    pub fn undo(&self, change: PasswordChange) {
        let mut hashes = self.hashes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(hash) = hashes.get_mut(&change.username)
            && *hash == change.new
        {
            *hash = change.old;
        }
    }

    /// The argon2 work so far.
    pub fn stats(&self) -> HashStats {
        HashStats {
            checks: self.stats.checks.load(Ordering::SeqCst),
            peak: self.stats.peak.load(Ordering::SeqCst),
        }
    }

    fn check(&self, password: &str, phc: &str) -> bool {
        self.stats.checks.fetch_add(1, Ordering::SeqCst);
        self.counted(|| check(password, phc))
    }

    /// Runs one argon2 operation, counting those running at once.
    fn counted<T>(&self, work: impl FnOnce() -> T) -> T {
        let running = self.stats.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.stats.peak.fetch_max(running, Ordering::SeqCst);
        let out = work();
        self.stats.running.fetch_sub(1, Ordering::SeqCst);
        out
    }

    fn stored_hash(&self, username: &str) -> Option<String> {
        let hashes = self.hashes.read().unwrap_or_else(PoisonError::into_inner);
        hashes.get(username).cloned()
    }
}

fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())?
        .to_string())
}

fn check(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}
