//! A hash map keyed by short words, for the per-word caches of the classifier and the
//! index analyzer.
//!
//! Words of up to 16 bytes (nearly all of them) are keyed inline as a number, which
//! saves a pointer chase and a string comparison per lookup; longer words fall back to
//! a map keyed by the string. The hasher is seeded per process.

use std::collections::HashMap;

type Hasher = foldhash::fast::RandomState;

/// A map from words (strings without NUL bytes in the short form) to `V`.
#[derive(Debug, Clone)]
pub struct WordMap<V> {
    short: HashMap<u128, V, Hasher>,
    long: HashMap<Box<str>, V, Hasher>,
}

impl<V> Default for WordMap<V> {
    fn default() -> Self {
        WordMap {
            short: HashMap::default(),
            long: HashMap::default(),
        }
    }
}

/// The inline key of a word of at most 16 bytes without NUL bytes, zero-padded, so
/// distinct words get distinct keys.
#[inline]
fn short_key(word: &str) -> Option<u128> {
    let b = word.as_bytes();
    if b.len() > 16 || b.contains(&0) {
        return None;
    }
    Some(pack(b))
}

/// `b` (at most 16 bytes) as a little-endian number, zero-padded: two overlapping
/// loads instead of a byte copy, which would be a call to `memcpy` per word.
#[inline]
fn pack(b: &[u8]) -> u128 {
    let n = b.len();
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    match n {
        16 => u128::from(u64_at(0)) | (u128::from(u64_at(8)) << 64),
        9..=15 => {
            let high = u64_at(n - 8) >> (8 * (16 - n));
            u128::from(u64_at(0)) | (u128::from(high) << 64)
        }
        8 => u128::from(u64_at(0)),
        5..=7 => {
            let high = u32_at(n - 4) >> (8 * (8 - n));
            u128::from(u32_at(0)) | (u128::from(high) << 32)
        }
        4 => u128::from(u32_at(0)),
        _ => b
            .iter()
            .rev()
            .fold(0u128, |key, &byte| (key << 8) | u128::from(byte)),
    }
}

/// The inline key of `text[start..end]`, a word of letters and digits (no NUL byte),
/// read with one 16-byte load when the text allows it.
#[inline]
fn key_in(text: &[u8], start: usize, end: usize) -> Option<u128> {
    let len = end - start;
    if len > 16 {
        return None;
    }
    match text.get(start..start + 16) {
        Some(window) => {
            let all = u128::from_le_bytes(window.try_into().expect("16 bytes"));
            Some(if len == 16 {
                all
            } else {
                all & ((1u128 << (8 * len)) - 1)
            })
        }
        None => Some(pack(&text[start..end])),
    }
}

impl<V> WordMap<V> {
    /// The value of the word `text[start..end]`, which must be made of letters and
    /// digits (as the classifier's words are): the same as `get(&text[start..end])`.
    #[inline]
    pub fn get_in(&self, text: &str, start: usize, end: usize) -> Option<&V> {
        match key_in(text.as_bytes(), start, end) {
            Some(k) => self.short.get(&k),
            None => self.long.get(&text[start..end]),
        }
    }

    /// The value of `word`.
    #[inline]
    pub fn get(&self, word: &str) -> Option<&V> {
        match short_key(word) {
            Some(k) => self.short.get(&k),
            None => self.long.get(word),
        }
    }

    /// Sets the value of `word`.
    pub fn insert(&mut self, word: &str, value: V) {
        match short_key(word) {
            Some(k) => self.short.insert(k, value),
            None => self.long.insert(word.into(), value),
        };
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every word.
    pub fn clear(&mut self) {
        self.short.clear();
        self.long.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_matches_a_zero_padded_copy() {
        let text = b"abcdefghijklmnop";
        for n in 0..=16 {
            let mut key = [0u8; 16];
            key[..n].copy_from_slice(&text[..n]);
            assert_eq!(pack(&text[..n]), u128::from_le_bytes(key), "{n} bytes");
        }
    }

    #[test]
    fn short_and_long_words_are_kept_apart() {
        let mut m = WordMap::default();
        for (i, w) in [
            "a",
            "ab",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "é",
            "a\0",
        ]
        .iter()
        .enumerate()
        {
            m.insert(w, i);
        }
        assert_eq!(m.len(), 6);
        assert_eq!(m.get("a"), Some(&0));
        assert_eq!(m.get("ab"), Some(&1));
        assert_eq!(m.get("abcdefghijklmnop"), Some(&2));
        assert_eq!(m.get("abcdefghijklmnopq"), Some(&3));
        assert_eq!(m.get("é"), Some(&4));
        assert_eq!(m.get("a\0"), Some(&5));
        assert_eq!(m.get("abc"), None);
        assert_eq!(m.get(""), None);
        let text = "x abcdefghijklmnop ab é";
        assert_eq!(m.get_in(text, 2, 18), Some(&2));
        assert_eq!(m.get_in(text, 19, 21), Some(&1));
        assert_eq!(m.get_in(text, 22, 24), Some(&4), "near the end of the text");
        assert_eq!(m.get_in(text, 0, 1), None);
        m.clear();
        assert!(m.is_empty());
    }
}
