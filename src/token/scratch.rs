//! [`Scratch`]: the raw bytes of a token segment being written or read, on
//! the stack when they fit.

use std::io;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::{Zeroize, Zeroizing};

use crate::error::Error;

/// Bytes kept on the stack: any header, any signature up to RSA-4096, and
/// the payload of any token of ours whose subject and claims are not large.
const ON_STACK: usize = 512;

/// A growable byte buffer that needs no allocation up to [`ON_STACK`]
/// bytes, for a JSON payload being written or a segment being decoded. A
/// refresh token's payload holds its secret in the clear, so every byte
/// that passed through is zeroized: the stack part on drop, a heap buffer
/// on drop or when it is outgrown.
pub(crate) struct Scratch {
    stack: [u8; ON_STACK],
    len: usize,
    /// Holds everything instead of `stack` once the bytes outgrew it.
    heap: Option<Zeroizing<Vec<u8>>>,
}

impl Scratch {
    pub(crate) fn new() -> Self {
        Self {
            stack: [0; ON_STACK],
            len: 0,
            heap: None,
        }
    }

    /// Decodes the base64url `segment` into this scratch, which must be
    /// new, and returns its bytes. Strictly: no padding, no `+/`, no
    /// whitespace, no non-zero trailing bits, so that every token has one
    /// spelling.
    pub(crate) fn decode(&mut self, segment: &str) -> Result<&[u8], Error> {
        debug_assert!(self.as_bytes().is_empty(), "decoding into a used scratch");
        let decoded = if base64::decoded_len_estimate(segment.len()) <= ON_STACK {
            URL_SAFE_NO_PAD
                .decode_slice(segment, &mut self.stack)
                .map(|len| self.len = len)
                .is_ok()
        } else {
            // Into an empty vector: its one allocation is never outgrown.
            let heap = self.heap.insert(Zeroizing::new(Vec::new()));
            URL_SAFE_NO_PAD.decode_vec(segment, heap).is_ok()
        };
        if decoded {
            Ok(self.as_bytes())
        } else {
            Err(Error::Malformed("invalid base64url"))
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        match &self.heap {
            Some(heap) => heap,
            None => &self.stack[..self.len],
        }
    }

    #[inline]
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        let len = self.len + bytes.len();
        match (&mut self.heap, self.stack.get_mut(self.len..len)) {
            (None, Some(room)) => {
                room.copy_from_slice(bytes);
                self.len = len;
            }
            _ => self.extend_on_heap(bytes),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, byte: u8) {
        // One byte: stored in place, without `extend`'s slice arithmetic.
        match (&self.heap, self.stack.get_mut(self.len)) {
            (None, Some(slot)) => {
                *slot = byte;
                self.len += 1;
            }
            _ => self.extend_on_heap(&[byte]),
        }
    }

    #[cold]
    fn extend_on_heap(&mut self, bytes: &[u8]) {
        let heap = match &mut self.heap {
            Some(heap) => heap,
            None => {
                let mut heap = Vec::with_capacity(2 * (self.len + bytes.len()));
                heap.extend_from_slice(&self.stack[..self.len]);
                self.stack[..self.len].zeroize();
                self.len = 0;
                self.heap.insert(Zeroizing::new(heap))
            }
        };
        if heap.capacity() - heap.len() < bytes.len() {
            // By hand, so that the old buffer is zeroized when freed.
            let mut bigger = Vec::with_capacity(2 * (heap.len() + bytes.len()));
            bigger.extend_from_slice(heap);
            *heap = Zeroizing::new(bigger);
        }
        heap.extend_from_slice(bytes);
    }
}

impl io::Write for Scratch {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.extend(bytes);
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend(bytes);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.stack[..self.len].zeroize();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn grows_past_the_stack_and_keeps_every_byte() {
        let mut scratch = Scratch::new();
        let text: Vec<u8> = (0..3 * ON_STACK).map(|i| (i % 251) as u8).collect();
        for chunk in text.chunks(7) {
            scratch.write_all(chunk).unwrap();
        }
        assert_eq!(scratch.as_bytes(), text.as_slice());
        let mut small = Scratch::new();
        small.extend(b"{}");
        small.push(b'x');
        assert_eq!(small.as_bytes(), b"{}x");
        assert_eq!(Scratch::new().as_bytes(), b"");
    }

    #[test]
    fn decodes_small_and_large_segments_strictly() {
        for len in [0, 1, 32, ON_STACK - 1, ON_STACK, ON_STACK + 1, 4 * ON_STACK] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let segment = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(Scratch::new().decode(&segment).unwrap(), bytes);
            for bad in [
                format!("{segment}="),
                format!("{segment} "),
                format!("+{segment}"),
            ] {
                assert!(Scratch::new().decode(&bad).is_err(), "{len}");
            }
        }
    }
}
