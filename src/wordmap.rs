//! A hash map keyed by short words, for the per-word caches of the classifier and the
//! index analyzer.
//!
//! Words of up to 16 bytes (nearly all of them) are keyed inline as two numbers in an
//! open-addressing table with linear probing, which saves a pointer chase and a
//! string comparison per lookup and keeps key and value in one cache line; longer
//! words fall back to a map keyed by the string. The hash is seeded per process, so
//! no text can be written to make the words of a note collide.

use std::collections::HashMap;
use std::hash::BuildHasher;

type Hasher = foldhash::fast::RandomState;

/// An inline key: a word of at most 16 bytes without NUL bytes, zero-padded, little
/// endian. No word is all zeros, so `[0, 0]` marks an empty slot.
type Key = [u64; 2];

const EMPTY: Key = [0, 0];

/// A map from words (strings without NUL bytes in the short form) to `V`.
#[derive(Debug, Clone)]
pub struct WordMap<V> {
    /// A power of two of slots (or none), at most half of them full.
    slots: Vec<(Key, V)>,
    short: usize,
    seed: [u64; 2],
    long: HashMap<Box<str>, V, Hasher>,
}

impl<V> Default for WordMap<V> {
    fn default() -> Self {
        let state = std::collections::hash_map::RandomState::new();
        WordMap {
            slots: Vec::new(),
            short: 0,
            // Odd, so neither half of the multiplication is ever zero.
            seed: [state.hash_one(1u8) | 1, state.hash_one(2u8) | 1],
            long: HashMap::default(),
        }
    }
}

/// The inline key of a word of 1 to 16 bytes without NUL bytes.
#[inline]
fn short_key(word: &str) -> Option<Key> {
    let b = word.as_bytes();
    if b.is_empty() || b.len() > 16 || b.contains(&0) {
        return None;
    }
    Some(pack(b))
}

/// The low `n` bytes (0 to 8) of a number.
#[inline]
pub(crate) fn low_bytes(x: u64, n: usize) -> u64 {
    if n >= 8 {
        x
    } else {
        x & ((1u64 << (8 * n)) - 1)
    }
}

/// `b` (at most 16 bytes) as two little-endian numbers, zero-padded: overlapping
/// loads instead of a byte copy, which would be a call to `memcpy` per word.
#[inline]
fn pack(b: &[u8]) -> Key {
    let n = b.len();
    let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
    match n {
        9..=16 => [u64_at(0), u64_at(n - 8) >> (8 * (16 - n))],
        8 => [u64_at(0), 0],
        5..=7 => {
            let high = u64::from(u32_at(n - 4) >> (8 * (8 - n)));
            [u64::from(u32_at(0)) | (high << 32), 0]
        }
        4 => [u64::from(u32_at(0)), 0],
        _ => [
            b.iter()
                .rev()
                .fold(0u64, |key, &byte| (key << 8) | u64::from(byte)),
            0,
        ],
    }
}

/// The inline key of `text[start..end]`, a word of letters and digits (no NUL byte),
/// read with two 8-byte loads when the text allows it.
#[inline]
fn key_in(text: &[u8], start: usize, end: usize) -> Option<Key> {
    let len = end - start;
    if len == 0 || len > 16 {
        return None;
    }
    match text.get(start..start + 16) {
        Some(window) => {
            let lo = u64::from_le_bytes(window[..8].try_into().expect("8 bytes"));
            let hi = u64::from_le_bytes(window[8..].try_into().expect("8 bytes"));
            Some(if len <= 8 {
                [low_bytes(lo, len), 0]
            } else {
                [lo, low_bytes(hi, len - 8)]
            })
        }
        None => Some(pack(&text[start..end])),
    }
}

impl<V> WordMap<V> {
    /// The slot a key starts probing at: a seeded folded multiply.
    #[inline]
    fn home(&self, key: Key) -> usize {
        let product = u128::from(key[0] ^ self.seed[0]) * u128::from(key[1] ^ self.seed[1]);
        (((product >> 64) as u64) ^ (product as u64)) as usize & (self.slots.len() - 1)
    }

    #[inline]
    fn find(&self, key: Key) -> Option<&V> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let (k, v) = &self.slots[at];
            if *k == key {
                return Some(v);
            }
            if *k == EMPTY {
                return None;
            }
            at = (at + 1) & mask;
        }
    }

    /// The value of the word `text[start..end]`, which must be made of letters and
    /// digits (as the classifier's words are): the same as `get(&text[start..end])`.
    #[inline]
    pub fn get_in(&self, text: &str, start: usize, end: usize) -> Option<&V> {
        match key_in(text.as_bytes(), start, end) {
            Some(k) => self.find(k),
            None => self.long.get(&text[start..end]),
        }
    }

    /// The value of the word of 1 to 8 bytes (none of them NUL) packed little
    /// endian in `word`: the same as `get` of those bytes.
    #[inline]
    pub fn get_short(&self, word: u64) -> Option<&V> {
        debug_assert!(word != 0);
        self.find([word, 0])
    }

    /// The value of `word`.
    #[inline]
    pub fn get(&self, word: &str) -> Option<&V> {
        match short_key(word) {
            Some(k) => self.find(k),
            None => self.long.get(word),
        }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.short + self.long.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every word.
    pub fn clear(&mut self) {
        self.slots.clear();
        self.short = 0;
        self.long.clear();
    }
}

impl<V: Default> WordMap<V> {
    /// Sets the value of `word`.
    pub fn insert(&mut self, word: &str, value: V) {
        let Some(key) = short_key(word) else {
            self.long.insert(word.into(), value);
            return;
        };
        if 2 * (self.short + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = self.home(key);
        loop {
            let slot = &mut self.slots[at];
            if slot.0 == key {
                slot.1 = value;
                return;
            }
            if slot.0 == EMPTY {
                *slot = (key, value);
                self.short += 1;
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the table (from 64 slots) and puts every key back.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::take(&mut self.slots);
        self.slots.resize_with(size, || (EMPTY, V::default()));
        let mask = size - 1;
        for (key, value) in old {
            if key == EMPTY {
                continue;
            }
            let mut at = self.home(key);
            while self.slots[at].0 != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = (key, value);
        }
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
            let want = [
                u64::from_le_bytes(key[..8].try_into().unwrap()),
                u64::from_le_bytes(key[8..].try_into().unwrap()),
            ];
            assert_eq!(pack(&text[..n]), want, "{n} bytes");
            let padded = b"abcdefghijklmnopqrstuvwxyz";
            let inline = key_in(padded, 0, n);
            assert_eq!(
                inline,
                (n > 0).then_some(want),
                "{n} bytes in a longer text"
            );
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
        let short = |w: &str| {
            let mut b = [0u8; 8];
            b[..w.len()].copy_from_slice(w.as_bytes());
            u64::from_le_bytes(b)
        };
        assert_eq!(m.get_short(short("a")), Some(&0));
        assert_eq!(m.get_short(short("ab")), Some(&1));
        assert_eq!(m.get_short(short("abc")), None);
        assert_eq!(m.get_short(short("é")), Some(&4));
        m.clear();
        assert!(m.is_empty());
    }

    #[test]
    fn many_words_survive_growth_and_misses_stay_misses() {
        let mut m = WordMap::default();
        let words: Vec<String> = (0..20_000u32).map(|i| format!("w{i:x}")).collect();
        for (i, w) in words.iter().enumerate() {
            m.insert(w, i);
        }
        m.insert("w0", 7);
        assert_eq!(m.len(), words.len());
        for (i, w) in words.iter().enumerate().skip(1) {
            assert_eq!(m.get(w), Some(&i), "{w}");
        }
        assert_eq!(m.get("w0"), Some(&7), "insert replaces");
        for i in 20_000..21_000u32 {
            assert_eq!(m.get(&format!("w{i:x}")), None);
        }
    }
}
