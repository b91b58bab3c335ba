//! `aikb check`: every problem in the corpus at once: unreadable notes and broken
//! front matter, duplicate project names/tickers/aliases, unknown `sources`, and
//! pinned labels the taxonomy does not know.

use std::collections::BTreeMap;

use crate::corpus::{Kind, Note};
use crate::error::Diagnostic;
use crate::taxonomy::{NONE, Taxonomy};

/// Finds every cross-note problem. `parse_problems` are the notes that did not parse.
pub fn check(
    notes: &[Note],
    parse_problems: &[Diagnostic],
    taxonomy: &Taxonomy,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = parse_problems.to_vec();
    let line = |n: &Note, key: &str| n.front.key_lines.get(key).copied().unwrap_or(1);
    let mut seen: BTreeMap<String, (String, &str)> = BTreeMap::new();
    for n in notes.iter().filter(|n| n.kind == Kind::Project) {
        let mut keys: Vec<(String, &str)> = vec![(n.title(), "name")];
        keys.extend(n.front.ticker.iter().map(|t| (t.clone(), "ticker")));
        keys.extend(n.front.aliases.iter().map(|a| (a.clone(), "aliases")));
        let mut own = Vec::new();
        for (value, key) in keys {
            let k = value.to_lowercase();
            if own.contains(&k) {
                continue;
            }
            own.push(k.clone());
            match seen.get(&k) {
                Some((other, other_key)) => out.push(Diagnostic::new(
                    &n.path,
                    line(n, key),
                    1,
                    format!("{key} `{value}` is already used as the {other_key} of {other}"),
                )),
                None => {
                    seen.insert(k, (n.path.clone(), key));
                }
            }
        }
        if let Some(c) = &n.front.category {
            let c = c.to_lowercase();
            if c != NONE && taxonomy.category(&c).is_none() {
                out.push(Diagnostic::new(
                    &n.path,
                    line(n, "category"),
                    1,
                    format!("unknown category `{c}` (not in the taxonomy)"),
                ));
            } else if let Some(s) = &n.front.subcategory
                && (c == NONE || taxonomy.subcategory(&c, &s.to_lowercase()).is_none())
            {
                out.push(Diagnostic::new(
                    &n.path,
                    line(n, "subcategory"),
                    1,
                    format!("unknown subcategory `{s}` for category `{c}`"),
                ));
            }
        } else if n.front.subcategory.is_some() {
            out.push(Diagnostic::new(
                &n.path,
                line(n, "subcategory"),
                1,
                "`subcategory` without `category`",
            ));
        }
    }
    let ids: std::collections::HashSet<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    for n in notes {
        for s in &n.front.sources {
            if !ids.contains(s.trim_end_matches(".md")) {
                out.push(Diagnostic::new(
                    &n.path,
                    line(n, "sources"),
                    1,
                    format!("unknown source `{s}`: no note has that id"),
                ));
            }
        }
    }
    out.sort_by(|a, b| (&a.path, a.line, &a.message).cmp(&(&b.path, b.line, &b.message)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_unknown_sources_and_labels() {
        let tax = Taxonomy::default_taxonomy();
        let notes = vec![
            crate::corpus::parse_note(
                "corpus/projects/a.md",
                b"---\nname: Alpha\nticker: ALP\nsources: [articles/x]\n---\n",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/projects/b.md",
                b"---\nname: Beta\nticker: alp\naliases: [alpha]\ncategory: nope\n---\n",
            )
            .unwrap(),
            crate::corpus::parse_note(
                "corpus/articles/x.md",
                b"---\ntitle: X\nsources: [articles/missing]\n---\n",
            )
            .unwrap(),
        ];
        let d: Vec<String> = check(&notes, &[], &tax)
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(
            d.iter()
                .any(|m| m.starts_with("corpus/projects/b.md:3:1: ticker `alp` is already used")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|m| m
                .contains("aliases `alpha` is already used as the name of corpus/projects/a.md")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|m| m.contains("unknown category `nope`")),
            "{d:?}"
        );
        assert!(
            d.iter()
                .any(|m| m
                    .starts_with("corpus/articles/x.md:3:1: unknown source `articles/missing`")),
            "{d:?}"
        );
        assert_eq!(d.len(), 4, "{d:?}");
    }
}
