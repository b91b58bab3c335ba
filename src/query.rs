//! The query language: natural language that never fails, plus power syntax.
//!
//! `"exact phrase"`, `+must`, `-exclude`, `field:value` (title, ticker, tag,
//! category, subcategory, kind, id, alias, or any front-matter key), `prefix*`.
//! Anything else, including stray operators, unbalanced quotes and punctuation, is
//! searched as words. Parsing is pure: it yields [`Clause`]s, which
//! [`crate::search`] turns into a tantivy query.

/// How a clause combines with the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occur {
    /// Ranks hits; at least one `Should` (or `Must`) clause must match.
    Should,
    /// Every hit must match (`+word`).
    Must,
    /// No hit may match (`-word`, `NOT word`).
    MustNot,
}

/// What a clause matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Free text over every ranked field.
    Text(String),
    /// An exact phrase over the ranked text fields.
    Phrase(String),
    /// Words starting with a prefix.
    Prefix(String),
    /// A `field:value` restriction.
    Field {
        /// Field name as typed, lower case.
        field: String,
        /// Value as typed (quotes removed).
        value: String,
        /// `field:value*`.
        prefix: bool,
    },
}

/// One parsed piece of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Should, must or must-not.
    pub occur: Occur,
    /// What it matches.
    pub target: Target,
}

/// At most this many clauses of a query are searched. Real queries have a handful; a
/// pasted document would otherwise build a query of tens of thousands of clauses
/// (seconds of work and hundreds of megabytes).
pub const MAX_CLAUSES: usize = 64;

/// Keeps the first [`MAX_CLAUSES`] clauses; also returns how many were dropped.
pub fn limit(mut clauses: Vec<Clause>) -> (Vec<Clause>, usize) {
    let dropped = clauses.len().saturating_sub(MAX_CLAUSES);
    clauses.truncate(MAX_CLAUSES);
    (clauses, dropped)
}

/// Splits a query into clauses. Never fails; an empty result means an empty query.
pub fn parse(query: &str) -> Vec<Clause> {
    let chars: Vec<char> = query.chars().collect();
    let quotes = chars.iter().filter(|&&c| is_quote(c)).count();
    let balanced = quotes % 2 == 0;
    let mut out = Vec::new();
    let mut i = 0;
    let mut negate_next = false;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let mut occur = if negate_next {
            Occur::MustNot
        } else {
            Occur::Should
        };
        negate_next = false;
        // Operators only count directly before a term.
        if (chars[i] == '+' || chars[i] == '-')
            && chars
                .get(i + 1)
                .is_some_and(|c| !c.is_whitespace() && *c != '+' && *c != '-')
        {
            occur = if chars[i] == '+' {
                Occur::Must
            } else {
                Occur::MustNot
            };
            i += 1;
        }
        if balanced && is_quote(chars[i]) {
            let end = (i + 1..chars.len())
                .find(|&j| is_quote(chars[j]))
                .unwrap_or(chars.len());
            let phrase: String = chars[i + 1..end].iter().collect();
            if !phrase.trim().is_empty() {
                out.push(Clause {
                    occur,
                    target: Target::Phrase(phrase.trim().to_string()),
                });
            }
            i = end + 1;
            continue;
        }
        // A token runs to the next whitespace; a quoted field value may contain spaces.
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            if balanced && is_quote(chars[i]) && i > start && chars[i - 1] == ':' {
                let end = (i + 1..chars.len())
                    .find(|&j| is_quote(chars[j]))
                    .unwrap_or(chars.len());
                i = (end + 1).min(chars.len());
                break;
            }
            i += 1;
        }
        let token: String = chars[start..i]
            .iter()
            .filter(|c| balanced || !is_quote(**c))
            .collect();
        // `NOT` negates the next term; with none after it, it is a word (the ticker of
        // Notcoin).
        let last = chars[i..].iter().all(|c| c.is_whitespace());
        if occur == Occur::Should && token == "NOT" && !last {
            negate_next = true;
            continue;
        }
        if token == "AND" || token == "OR" || token == "&&" || token == "||" {
            continue;
        }
        // `tag: gpu`, as people type labels, is `tag:gpu`; a field name with nothing
        // after it restricts nothing and is left out.
        if let Some(field) = token.strip_suffix(':').filter(|f| is_label_field(f)) {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i == chars.len() {
                continue;
            }
            let start = i;
            if balanced && is_quote(chars[i]) {
                i = (i + 1..chars.len())
                    .find(|&j| is_quote(chars[j]))
                    .map_or(chars.len(), |end| end + 1);
            } else {
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
            }
            let value: String = chars[start..i].iter().collect();
            if let Some(target) = classify_token(&format!("{field}:{value}")) {
                out.push(Clause { occur, target });
            }
            continue;
        }
        if let Some(target) = classify_token(&token) {
            out.push(Clause { occur, target });
        }
    }
    out
}

/// The fields that name a label of a note, which `field: value` (with a space) may
/// restrict; any other word before a colon is prose ("Note: ...").
fn is_label_field(field: &str) -> bool {
    matches!(
        field.to_lowercase().as_str(),
        "title"
            | "name"
            | "alias"
            | "aliases"
            | "ticker"
            | "tag"
            | "tags"
            | "category"
            | "subcategory"
            | "kind"
            | "id"
    )
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201c}' | '\u{201d}')
}

fn classify_token(token: &str) -> Option<Target> {
    if let Some((field, value)) = token.split_once(':') {
        let field_ok = !field.is_empty()
            && field
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        let value = value.trim_matches(is_quote);
        if field_ok && !value.trim().is_empty() && !value.starts_with("//") {
            let (value, prefix) = match value.strip_suffix('*') {
                Some(v) if !v.is_empty() => (v, true),
                _ => (value, false),
            };
            return Some(Target::Field {
                field: field.to_lowercase(),
                value: value.trim().to_string(),
                prefix,
            });
        }
    }
    if let Some(p) = token.strip_suffix('*') {
        let p = p.trim_matches(|c: char| !c.is_alphanumeric());
        if p.chars().count() >= 2 && p.chars().all(char::is_alphanumeric) {
            return Some(Target::Prefix(p.to_string()));
        }
    }
    let token = strip_possessive(token);
    if let Some(joined) = dotted_acronym(token) {
        return Some(Target::Text(joined));
    }
    token
        .chars()
        .any(char::is_alphanumeric)
        .then(|| Target::Text(token.to_string()))
}

/// `A.I.` → `AI`, `U.S.` → `US`: single letters with dots are one word, as the notes
/// usually write it (split at the dots, they would be stop words and stray letters).
fn dotted_acronym(token: &str) -> Option<String> {
    let core = token.trim_end_matches([',', ';', ':', '!', '?', ')']);
    let core = core.trim_start_matches('(');
    let parts: Vec<&str> = core.strip_suffix('.').unwrap_or(core).split('.').collect();
    let letters = parts.len() >= 2
        && parts
            .iter()
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic));
    letters.then(|| parts.concat())
}

/// `GPU's` → `GPU`, `holders'` → `holders`: a possessive is the word itself. Left as
/// typed, the apostrophe would split it into a two-word phrase (`gpu s`) that prose
/// writing "GPUs" or "GPU" never matches.
fn strip_possessive(token: &str) -> &str {
    let trimmed = token.trim_end_matches(|c: char| !c.is_alphanumeric() && !is_apostrophe(c));
    let bare = ["'s", "'S", "\u{2019}s", "\u{2019}S", "'", "\u{2019}"]
        .iter()
        .find_map(|suffix| trimmed.strip_suffix(suffix))
        .filter(|rest| rest.ends_with(char::is_alphanumeric));
    bare.unwrap_or(token)
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Target {
        Target::Text(s.into())
    }

    fn should(target: Target) -> Clause {
        Clause {
            occur: Occur::Should,
            target,
        }
    }

    #[test]
    fn natural_language_is_words() {
        let c = parse("what's Bittensor? a: b (c");
        let targets: Vec<_> = c.iter().map(|c| c.target.clone()).collect();
        assert_eq!(
            targets,
            vec![t("what"), t("Bittensor?"), t("a:"), t("b"), t("(c")]
        );
    }

    #[test]
    fn power_syntax() {
        let c = parse(
            "+gpu -storage \"proof of personhood\" ticker:FIL tag:\"data markets\" decentral* title:bit*",
        );
        assert_eq!(
            c[0],
            Clause {
                occur: Occur::Must,
                target: t("gpu")
            }
        );
        assert_eq!(
            c[1],
            Clause {
                occur: Occur::MustNot,
                target: t("storage")
            }
        );
        assert_eq!(c[2], should(Target::Phrase("proof of personhood".into())));
        assert_eq!(
            c[3],
            should(Target::Field {
                field: "ticker".into(),
                value: "FIL".into(),
                prefix: false
            })
        );
        assert_eq!(
            c[4],
            should(Target::Field {
                field: "tag".into(),
                value: "data markets".into(),
                prefix: false
            })
        );
        assert_eq!(c[5], should(Target::Prefix("decentral".into())));
        assert_eq!(
            c[6],
            should(Target::Field {
                field: "title".into(),
                value: "bit".into(),
                prefix: true
            })
        );
    }

    #[test]
    fn a_label_field_takes_the_value_after_a_space() {
        let field = |field: &str, value: &str| {
            should(Target::Field {
                field: field.into(),
                value: value.into(),
                prefix: false,
            })
        };
        assert_eq!(
            parse("Ticker: FET agents"),
            vec![field("ticker", "FET"), should(t("agents"))]
        );
        assert_eq!(
            parse("tag:  \"data markets\""),
            vec![field("tag", "data markets")]
        );
        assert_eq!(
            parse("-category: none"),
            vec![Clause {
                occur: Occur::MustNot,
                target: Target::Field {
                    field: "category".into(),
                    value: "none".into(),
                    prefix: false
                }
            }]
        );
        // With nothing after it, it is dropped; other words before a colon are prose.
        assert_eq!(parse("gpu tag:"), vec![should(t("gpu"))]);
        assert_eq!(parse("tag:"), vec![]);
        assert_eq!(
            parse("note: gpu"),
            vec![should(t("note:")), should(t("gpu"))]
        );
    }

    #[test]
    fn long_queries_are_cut() {
        let (kept, dropped) = limit(parse("gpu gpu storage"));
        assert_eq!(
            kept,
            vec![should(t("gpu")), should(t("gpu")), should(t("storage"))]
        );
        assert_eq!(dropped, 0);
        let words: Vec<String> = (0..MAX_CLAUSES + 10).map(|i| format!("w{i}")).collect();
        let (kept, dropped) = limit(parse(&words.join(" ")));
        assert_eq!(kept.len(), MAX_CLAUSES);
        assert_eq!(kept[0], should(t("w0")));
        assert_eq!(dropped, 10);
    }

    #[test]
    fn dotted_acronyms_are_one_word() {
        assert_eq!(
            parse("A.I. agents"),
            vec![should(t("AI")), should(t("agents"))]
        );
        assert_eq!(parse("(u.s.)"), vec![should(t("us"))]);
        assert_eq!(parse("A.I"), vec![should(t("AI"))]);
        // Not single letters: left to the analyzer.
        assert_eq!(parse("fetch.ai"), vec![should(t("fetch.ai"))]);
        assert_eq!(parse("3.5"), vec![should(t("3.5"))]);
        assert_eq!(parse("a."), vec![should(t("a."))]);
    }

    #[test]
    fn possessives_are_the_word_itself() {
        assert_eq!(parse("GPU's"), vec![should(t("GPU"))]);
        assert_eq!(
            parse("Render\u{2019}s GPUs"),
            vec![should(t("Render")), should(t("GPUs"))]
        );
        assert_eq!(
            parse("holders' rewards"),
            vec![should(t("holders")), should(t("rewards"))]
        );
        assert_eq!(parse("Bittensor's?"), vec![should(t("Bittensor"))]);
        // Other apostrophes stay: the words around them are one phrase.
        assert_eq!(parse("o'neil"), vec![should(t("o'neil"))]);
        assert_eq!(parse("'s"), vec![should(t("'s"))]);
    }

    #[test]
    fn stray_operators_and_unbalanced_quotes() {
        let c = parse("\"unclosed phrase - + -- ++ AND OR * ?");
        let targets: Vec<_> = c.iter().map(|c| c.target.clone()).collect();
        assert_eq!(targets, vec![t("unclosed"), t("phrase")]);
        assert!(parse("   ").is_empty());
        assert!(parse("\"\"").is_empty());
        let c = parse("NOT storage gpu");
        assert_eq!(c[0].occur, Occur::MustNot);
        assert_eq!(c[1].occur, Occur::Should);
    }

    #[test]
    fn a_last_not_is_a_word() {
        assert_eq!(parse("NOT"), vec![should(t("NOT"))]);
        assert_eq!(parse("gpu NOT "), vec![should(t("gpu")), should(t("NOT"))]);
        assert_eq!(parse("NOT gpu")[0].occur, Occur::MustNot);
    }

    #[test]
    fn urls_and_hyphenated_words_are_text() {
        assert_eq!(parse("https://x.y")[0].target, t("https://x.y"));
        assert_eq!(parse("zero-knowledge")[0].target, t("zero-knowledge"));
        assert_eq!(parse("$TAO")[0].target, t("$TAO"));
    }
}
