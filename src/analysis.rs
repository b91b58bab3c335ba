//! The index's text analysis: acronym plurals reduced (`LLMs` → `LLM`, which the
//! stemmer leaves alone), then tantivy's English chain (lower case, ASCII folding, stop
//! words, Snowball stems) with British spellings made American before stemming, and
//! the plurals Snowball keeps (`gpus`) made singular after it; run once per distinct
//! word.
//!
//! Stemming is the costliest step of indexing, and the words of a corpus repeat
//! (a Zipf distribution), so [`CachedNormalizer`] remembers what the chain made of each
//! word it has seen. Its output is the chain's own output, token for token.

use crate::wordmap::WordMap;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    Token, TokenFilter, TokenStream, Tokenizer,
};

/// Beyond this many cached words the cache starts over (bounded memory).
const CACHE_MAX: usize = 50_000;

/// A token filter that applies a per-word analyzer through a cache: each distinct token
/// text is analysed once; a token the analyzer drops (a stop word) is dropped.
#[derive(Clone)]
pub struct CachedNormalizer {
    word: TextAnalyzer,
}

impl CachedNormalizer {
    /// Lower case, ASCII folding, English stop words and the English stemmer.
    pub fn english() -> CachedNormalizer {
        CachedNormalizer {
            word: TextAnalyzer::builder(RawTokenizer::default())
                .filter(LowerCaser)
                .filter(AsciiFoldingFilter)
                .filter(
                    StopWordFilter::new(Language::English)
                        .expect("tantivy ships English stop words"),
                )
                .filter(AmericanSpelling)
                .filter(Stemmer::new(Language::English))
                .build(),
        }
    }
}

/// Splits text into runs of letters and digits, as tantivy's `SimpleTokenizer` does
/// (same tokens and offsets), except that positions leap by [`CLAUSE_GAP`] where a
/// clause ends between two words (see `clause_break`), so neither a phrase nor two
/// words searched for together match across "Business model: marketplace fees" or
/// from one list item to the next. With `catenate`, a word joined by hyphens
/// from two or three parts, one of them with a letter (`zk-ML`, `fine-tuning`,
/// `ERC-20`), is also emitted written solid (`zkML`, `finetuning`, `ERC20`), just
/// before its parts and at the position of the first one: a search for the solid
/// spelling finds the hyphenated one, and phrases over the parts still match.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    catenate: bool,
    token: Token,
}

impl WordTokenizer {
    /// The tokenizer for indexed text: joined words are also emitted whole.
    pub fn catenating() -> WordTokenizer {
        WordTokenizer {
            catenate: true,
            token: Token::default(),
        }
    }

    /// The tokenizer for queries: words and parts only.
    pub fn plain() -> WordTokenizer {
        WordTokenizer::default()
    }
}

/// At most this many parts of a hyphenated word are written solid.
const MAX_CATENATED_PARTS: usize = 3;

/// Positions skipped where a clause ends: more than any phrase slop a search uses.
pub const CLAUSE_GAP: usize = 8;

/// Whether the text between two words ends a clause: it holds a line break (the
/// Markdown is flattened to one line per block) or a mark of `. , ; : ! ?` that the
/// next word does not follow at once ("fetch.ai", "3.5" and "1,000" are one run).
fn clause_break(between: &str) -> bool {
    let b = between.as_bytes();
    b.contains(&b'\n')
        || b[..b.len().saturating_sub(1)]
            .iter()
            .any(|c| matches!(c, b'.' | b',' | b';' | b':' | b'!' | b'?'))
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            chars: text.char_indices(),
            next_position: 0,
            last_end: None,
            catenate: self.catenate,
            parts: std::collections::VecDeque::new(),
            token: &mut self.token,
        }
    }
}

/// The token stream of a [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    chars: std::str::CharIndices<'a>,
    next_position: usize,
    /// Where the last word read ends (none before the first).
    last_end: Option<usize>,
    catenate: bool,
    /// Parts of a joined word still to emit: (start, end, position).
    parts: std::collections::VecDeque<(usize, usize, usize)>,
    token: &'a mut Token,
}

impl WordStream<'_> {
    /// Reads on to the end of the word under way: its end offset and the character
    /// that ends it.
    fn word_end(&mut self) -> (usize, Option<char>) {
        for (at, c) in self.chars.by_ref() {
            if !c.is_alphanumeric() {
                return (at, Some(c));
            }
        }
        (self.text.len(), None)
    }

    fn set(&mut self, start: usize, end: usize, position: usize) {
        self.token.text.clear();
        self.token.text.push_str(&self.text[start..end]);
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = position;
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        if let Some((start, end, position)) = self.parts.pop_front() {
            self.set(start, end, position);
            return true;
        }
        let Some((start, _)) = self.chars.by_ref().find(|(_, c)| c.is_alphanumeric()) else {
            return false;
        };
        if self
            .last_end
            .is_some_and(|last| clause_break(&self.text[last..start]))
        {
            self.next_position += CLAUSE_GAP;
        }
        let position = self.next_position;
        self.next_position += 1;
        let (end, mut after) = self.word_end();
        self.last_end = Some(end);
        if !self.catenate {
            self.set(start, end, position);
            return true;
        }
        // Every part of a joined word, positions in a row.
        let mut last = end;
        while after.is_some_and(is_hyphen) {
            let Some((next, _)) = self
                .chars
                .clone()
                .next()
                .filter(|(_, c)| c.is_alphanumeric())
            else {
                break;
            };
            if self.parts.is_empty() {
                self.parts.push_back((start, end, position));
            }
            let (e, a) = self.word_end();
            self.last_end = Some(e);
            self.parts.push_back((next, e, self.next_position));
            self.next_position += 1;
            (last, after) = (e, a);
        }
        let n = self.parts.len();
        if n == 0 {
            self.set(start, end, position);
            return true;
        }
        let has_letter = self
            .parts
            .iter()
            .any(|&(s, e, _)| self.text[s..e].chars().any(char::is_alphabetic));
        if n <= MAX_CATENATED_PARTS && has_letter {
            self.token.text.clear();
            for &(s, e, _) in &self.parts {
                self.token.text.push_str(&self.text[s..e]);
            }
            self.token.offset_from = start;
            self.token.offset_to = last;
            self.token.position = position;
            return true;
        }
        let (s, e, p) = self.parts.pop_front().expect("the first part");
        self.set(s, e, p);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// A token filter that rewrites British spellings as American ones
/// ([`crate::text::american_spelling`]): `decentralised` → `decentralized`.
#[derive(Clone, Copy, Debug, Default)]
pub struct AmericanSpelling;

impl TokenFilter for AmericanSpelling {
    type Tokenizer<T: Tokenizer> = AmericanSpellingFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> AmericanSpellingFilter<T> {
        AmericanSpellingFilter(tokenizer)
    }
}

/// A tokenizer followed by [`AmericanSpelling`].
#[derive(Clone)]
pub struct AmericanSpellingFilter<T>(T);

impl<T: Tokenizer> Tokenizer for AmericanSpellingFilter<T> {
    type TokenStream<'a> = AmericanSpellingStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        AmericanSpellingStream(self.0.token_stream(text))
    }
}

/// The token stream of an [`AmericanSpellingFilter`].
pub struct AmericanSpellingStream<T>(T);

impl<T: TokenStream> TokenStream for AmericanSpellingStream<T> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let token = self.0.token_mut();
        if let std::borrow::Cow::Owned(american) = crate::text::american_spelling(&token.text) {
            token.text = american;
        }
        true
    }

    fn token(&self) -> &Token {
        self.0.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

impl TokenFilter for CachedNormalizer {
    type Tokenizer<T: Tokenizer> = CachedNormalizerWrapper<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedNormalizerWrapper<T> {
        CachedNormalizerWrapper {
            inner: tokenizer,
            state: State {
                word: self.word,
                cache: Cache::default(),
            },
        }
    }
}

/// Word analyzer and its cache.
struct State {
    word: TextAnalyzer,
    cache: Cache,
}

/// Token text → what the analyzer makes of it (`None`: dropped).
#[derive(Default)]
struct Cache(WordMap<Option<Box<str>>>);

impl Cache {
    fn get(&self, text: &str) -> Option<&Option<Box<str>>> {
        self.0.get(text)
    }

    fn insert(&mut self, text: &str, out: Option<Box<str>>) {
        if self.0.len() >= CACHE_MAX {
            self.0.clear();
        }
        self.0.insert(text, out);
    }
}

impl State {
    /// Rewrites `token` in place; false when the token is dropped.
    fn apply(&mut self, token: &mut Token) -> bool {
        if let Some(out) = self.cache.get(&token.text) {
            return match out {
                Some(text) => {
                    token.text.clear();
                    token.text.push_str(text);
                    true
                }
                None => false,
            };
        }
        let out: Option<Box<str>> = {
            let word = crate::text::strip_acronym_plural(&token.text);
            let mut stream = self.word.token_stream(word);
            stream.advance().then(|| {
                let stem = stream.token().text.as_str();
                crate::text::kept_plural_singular(stem)
                    .unwrap_or(stem)
                    .into()
            })
        };
        self.cache.insert(&token.text, out.clone());
        match out {
            Some(text) => {
                token.text.clear();
                token.text.push_str(&text);
                true
            }
            None => false,
        }
    }
}

/// A tokenizer followed by a [`CachedNormalizer`].
pub struct CachedNormalizerWrapper<T> {
    inner: T,
    state: State,
}

impl<T: Clone> Clone for CachedNormalizerWrapper<T> {
    /// Clones start with an empty cache (tantivy clones an analyzer per indexing thread).
    fn clone(&self) -> Self {
        CachedNormalizerWrapper {
            inner: self.inner.clone(),
            state: State {
                word: self.state.word.clone(),
                cache: Cache::default(),
            },
        }
    }
}

impl<T: Tokenizer> Tokenizer for CachedNormalizerWrapper<T> {
    type TokenStream<'a> = CachedNormalizerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedNormalizerStream {
            tail: self.inner.token_stream(text),
            state: &mut self.state,
        }
    }
}

/// The token stream of a [`CachedNormalizerWrapper`].
pub struct CachedNormalizerStream<'a, T> {
    tail: T,
    state: &'a mut State,
}

impl<T: TokenStream> TokenStream for CachedNormalizerStream<'_, T> {
    fn advance(&mut self) -> bool {
        while self.tail.advance() {
            if self.state.apply(self.tail.token_mut()) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer};

    use super::*;

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    /// The cached chain yields exactly the tokens (text, position, offsets) of the
    /// plain chain, repeated words, stop words and non-ASCII text included.
    #[test]
    fn same_tokens_as_the_plain_chain() {
        let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(StopWordFilter::new(Language::English).unwrap())
            .filter(AmericanSpelling)
            .filter(Stemmer::new(Language::English))
            .build();
        let mut cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(48))
            .filter(CachedNormalizer::english())
            .build();
        let texts = [
            "The nodes of the network are rented; the Nodes are verifiable and verified.",
            "Décentralisé naïve Zürich ÆTHER straße — the THE The a an AND",
            "Running runs ran runner's agents agentic AGENTS 42 H100",
            "",
            "the",
            "internationalization internationalizations INTERNATIONALIZATION abcdefghijklmnop",
        ];
        for text in texts {
            // Twice, so the second pass is served from the cache.
            for _ in 0..2 {
                assert_eq!(
                    tokens(&mut cached, text),
                    tokens(&mut plain, text),
                    "{text}"
                );
            }
        }
        let mut clone = cached.clone();
        assert_eq!(tokens(&mut clone, texts[0]), tokens(&mut plain, texts[0]));
    }

    /// Acronym plurals, which Snowball keeps (`gpus`, `llms`), index as the acronym, so
    /// a search for GPU finds notes that only write GPUs.
    #[test]
    fn acronym_plurals_are_the_acronym() {
        let mut cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(CachedNormalizer::english())
            .build();
        let words = |a: &mut TextAnalyzer, t: &str| -> Vec<String> {
            tokens(a, t).into_iter().map(|t| t.0).collect()
        };
        assert_eq!(
            words(&mut cached, "LLMs LLM NFTs ZKPs L2s H100s GPUs"),
            ["llm", "llm", "nft", "zkp", "l2", "h100", "gpu"]
        );
        // Lower-case words ending in s are the stemmer's business.
        assert_eq!(words(&mut cached, "gas ops boss"), ["gas", "op", "boss"]);
        // So are the plurals Snowball keeps, in lower case.
        assert_eq!(
            words(&mut cached, "gpus llms nfts l2s news new"),
            ["gpu", "llm", "nft", "l2", "news", "new"]
        );
    }

    fn raw(tokenizer: &mut impl Tokenizer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut out = Vec::new();
        let mut stream = tokenizer.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    /// Without catenation, the word tokenizer finds the words of tantivy's simple
    /// tokenizer, at the same offsets; positions are the same until a clause ends.
    #[test]
    fn plain_words_are_the_simple_tokenizers() {
        let without_positions = |v: Vec<(String, usize, usize, usize)>| {
            v.into_iter()
                .map(|(w, _, from, to)| (w, from, to))
                .collect::<Vec<_>>()
        };
        for text in [
            "",
            "-",
            "zk-ML fine-tuning, ERC-20; 2019-2020 a-b-c-d-e x--y -z- naïve Zürich—ÆTHER",
            "  trailing space and 12.5% of $TAO/USD at near.org ",
            "GPU‑based e‐mail",
        ] {
            assert_eq!(
                without_positions(raw(&mut WordTokenizer::plain(), text)),
                without_positions(raw(
                    &mut tantivy::tokenizer::SimpleTokenizer::default(),
                    text
                )),
                "{text}"
            );
        }
        let text = "  trailing space and 12.5% of $TAO/USD at near.org fetch.ai 1,000 ";
        assert_eq!(
            raw(&mut WordTokenizer::plain(), text),
            raw(&mut tantivy::tokenizer::SimpleTokenizer::default(), text)
        );
    }

    /// Positions leap where a clause ends, so phrases and nearby words stay inside one.
    #[test]
    fn clauses_are_apart() {
        let positions = |text: &str| -> Vec<usize> {
            raw(&mut WordTokenizer::catenating(), text)
                .into_iter()
                .map(|t| t.1)
                .collect()
        };
        let g = CLAUSE_GAP;
        assert_eq!(
            positions("Business model: marketplace fees"),
            [0, 1, 2 + g, 3 + g]
        );
        assert_eq!(
            positions("gpu, compute. Storage! a; b? c"),
            [0, 1 + g, 2 + 2 * g, 3 + 3 * g, 4 + 4 * g, 5 + 5 * g]
        );
        assert_eq!(positions("one item\nnext item"), [0, 1, 2 + g, 3 + g]);
        assert_eq!(positions("ends. \"Quoted\""), [0, 1 + g]);
        // No clause ends inside a word or a number.
        assert_eq!(
            positions("fetch.ai io.net 3.5 1,000 a/b x - y"),
            (0..12).collect::<Vec<_>>()
        );
        // A hyphenated word's solid form and first part share a position, as before.
        assert_eq!(positions("AI. zk-ML"), [0, 1 + g, 1 + g, 2 + g]);
    }

    /// Hyphenated words of two or three parts are also emitted solid, first, at the
    /// position of their first part; the parts keep the simple tokenizer's positions.
    #[test]
    fn hyphenated_words_are_also_written_solid() {
        let text = "zk-ML fine\u{2011}tuning ERC-20 2019-2020 a-b-c-d x--y end";
        let got = raw(&mut WordTokenizer::catenating(), text);
        let solid: Vec<(String, usize)> = got
            .iter()
            .filter(|t| t.2 + t.0.len() != t.3)
            .map(|t| (t.0.clone(), t.1))
            .collect();
        assert_eq!(
            solid,
            [
                ("zkML".to_string(), 0),
                ("finetuning".to_string(), 2),
                ("ERC20".to_string(), 4)
            ]
        );
        let parts: Vec<_> = got
            .iter()
            .filter(|t| t.2 + t.0.len() == t.3)
            .cloned()
            .collect();
        assert_eq!(
            parts,
            raw(&mut tantivy::tokenizer::SimpleTokenizer::default(), text)
        );
        // The solid word comes right before its first part and spans the whole word.
        assert_eq!(got[0], ("zkML".to_string(), 0, 0, 5));
        assert_eq!(got[1], ("zk".to_string(), 0, 0, 2));
    }

    /// British and American spellings index as the same word.
    #[test]
    fn british_spellings_are_the_american_words() {
        let mut cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(CachedNormalizer::english())
            .build();
        let mut words =
            |t: &str| -> Vec<String> { tokens(&mut cached, t).into_iter().map(|t| t.0).collect() };
        for (british, american) in [
            ("decentralised tokenisation", "decentralized tokenization"),
            ("Labelled data labelling", "labeled data labeling"),
            ("data centres licence", "data centers license"),
            (
                "optimising monetised Décentralisé",
                "optimizing monetized decentralize",
            ),
        ] {
            assert_eq!(words(british), words(american), "{british}");
        }
        // Words written -ise or -elling in American English too keep their stems.
        assert_eq!(words("supervised supervision"), ["supervis", "supervis"]);
        assert_eq!(words("selling"), ["sell"]);
    }
}
