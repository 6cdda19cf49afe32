//! The demo's user accounts: argon2id password hashes in memory.

use std::collections::HashMap;
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

/// User accounts with argon2id (default parameters) password hashes.
///
/// Every method hashes or verifies, which takes tens of milliseconds on
/// purpose: call them off the async runtime (`spawn_blocking`).
pub struct Users {
    hashes: RwLock<HashMap<String, String>>,
    /// A hash no password matches, verified for unknown users so that the
    /// answer takes as long as for a known one.
    decoy: String,
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
        })
    }

    /// Whether `password` is `username`'s. Blocking.
    pub fn verify(&self, username: &str, password: &str) -> bool {
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        let stored = self.stored_hash(username);
        let matches = check(password, stored.as_deref().unwrap_or(&self.decoy));
        matches && stored.is_some()
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
    ) -> Result<(), PasswordChangeError> {
        let Some(stored) = self.stored_hash(username) else {
            return Err(PasswordChangeError::WrongPassword);
        };
        if current.len() > MAX_PASSWORD_BYTES || !check(current, &stored) {
            return Err(PasswordChangeError::WrongPassword);
        }
        if new.chars().count() < MIN_PASSWORD_CHARS || new.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordChangeError::Weak);
        }
        let new_hash = hash(new).map_err(|_| PasswordChangeError::Hashing)?;
        let mut hashes = self.hashes.write().unwrap_or_else(PoisonError::into_inner);
        match hashes.get_mut(username) {
            // Only over the hash `current` was checked against: of two
            // concurrent changes, the second must know the first's password.
            Some(hash) if *hash == stored => {
                *hash = new_hash;
                Ok(())
            }
            _ => Err(PasswordChangeError::WrongPassword),
        }
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
