//! Numbered places for the sessions of one shard, so that tables and lists
//! can refer to a session by a 4-byte number instead of holding it.

use crate::error::{StoreError, StoreErrorKind};

/// Places per chunk. Growing by whole chunks never copies what the slab
/// holds (no pause while a shard's lock is held) and wastes at most one
/// chunk per slab.
const CHUNK: usize = 256;

/// Values of type `T` at stable numbers below `u32::MAX`; a number freed
/// by [`remove`](Self::remove) is given out again first.
pub(super) struct Slab<T> {
    chunks: Vec<Box<[Option<T>]>>,
    free: Vec<u32>,
    used: u32,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            free: Vec::new(),
            used: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Every number given out so far is below this.
    pub(super) fn end(&self) -> u32 {
        self.used
    }

    pub(super) fn get(&self, n: u32) -> Option<&T> {
        let n = n as usize;
        self.chunks.get(n / CHUNK)?.get(n % CHUNK)?.as_ref()
    }

    pub(super) fn get_mut(&mut self, n: u32) -> Option<&mut T> {
        self.place(n)?.as_mut()
    }

    /// Stores `value`, returning its number.
    ///
    /// # Errors
    /// [`StoreErrorKind::Other`] when all `u32::MAX` numbers are taken.
    pub(super) fn insert(&mut self, value: T) -> Result<u32, StoreError> {
        let n = match self.free.pop() {
            Some(n) => n,
            None if self.used == u32::MAX => {
                return Err(StoreError::new(StoreErrorKind::Other, "memory store full"));
            }
            None => {
                if (self.used as usize).is_multiple_of(CHUNK) {
                    self.chunks.push((0..CHUNK).map(|_| None).collect());
                }
                self.used += 1;
                self.used - 1
            }
        };
        if let Some(place) = self.place(n) {
            *place = Some(value);
        }
        Ok(n)
    }

    /// Takes the value at `n` out, freeing the number.
    pub(super) fn remove(&mut self, n: u32) -> Option<T> {
        let value = self.place(n)?.take()?;
        self.free.push(n);
        Some(value)
    }

    fn place(&mut self, n: u32) -> Option<&mut Option<T>> {
        let n = n as usize;
        self.chunks.get_mut(n / CHUNK)?.get_mut(n % CHUNK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_stable_and_reused_after_removal() {
        let mut slab = Slab::default();
        let numbers: Vec<u32> = (0..600).map(|v| slab.insert(v).unwrap()).collect();
        assert_eq!(numbers, (0..600).collect::<Vec<_>>());
        assert_eq!(slab.chunks.len(), 3, "600 in chunks of 256");
        assert_eq!(slab.remove(7), Some(7));
        assert_eq!(slab.remove(7), None, "already gone");
        assert_eq!(slab.get(7), None);
        assert_eq!(slab.insert(1000).unwrap(), 7, "the freed number first");
        assert_eq!(slab.insert(1001).unwrap(), 600);
        assert_eq!(slab.end(), 601);
        *slab.get_mut(599).unwrap() += 1;
        assert_eq!(slab.get(599), Some(&600));
        assert_eq!(slab.get(u32::MAX), None);
        assert_eq!(slab.get_mut(601), None);
    }
}
