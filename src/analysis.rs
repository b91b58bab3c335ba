//! The index's text analysis: acronym plurals reduced (`LLMs` → `LLM`, which the
//! stemmer leaves alone), then tantivy's English chain (lower case, ASCII folding, stop
//! words, Snowball stems), run once per distinct word.
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
                .filter(Stemmer::new(Language::English))
                .build(),
        }
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
            stream
                .advance()
                .then(|| stream.token().text.as_str().into())
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
        assert_eq!(words(&mut cached, "gas ops bus"), ["gas", "op", "bus"]);
    }
}
